from django.db import models
from django.utils.translation import gettext_lazy as _


class ChargeStatus(models.TextChoices):
    PENDING = "pending", _("Pending collection")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    OVERDUE = "overdue", _("Overdue")
    WRITTEN_OFF = "written_off", _("Written off")
    CANCELLED = "cancelled", _("Cancelled")


# What collection may still act on: a charge in one of these is owed, and cut when a
# termination ends its period.
COLLECTABLE_STATUSES = (ChargeStatus.PENDING, ChargeStatus.FAILED, ChargeStatus.OVERDUE)


# The charge state machine: every status change is one service in
# billing/services/charges.py that locks the row, checks this table and records the
# change in the audit trail. A charge is created pending by the billing run.
CHARGE_TRANSITIONS: dict[str, frozenset[str]] = {
    ChargeStatus.PENDING: frozenset(
        {
            ChargeStatus.PAID,  # collected, or paid from the prepaid balance
            ChargeStatus.FAILED,  # declined: a retry is scheduled
            ChargeStatus.OVERDUE,  # every retry spent, or a payment pending too long
            ChargeStatus.CANCELLED,  # staff cancel, or a termination
            ChargeStatus.WRITTEN_OFF,
        }
    ),
    ChargeStatus.FAILED: frozenset(
        {
            ChargeStatus.PENDING,  # a retry opened a new attempt
            ChargeStatus.FAILED,  # declined or returned again: the next retry
            ChargeStatus.PAID,
            ChargeStatus.OVERDUE,
            ChargeStatus.CANCELLED,
            ChargeStatus.WRITTEN_OFF,
        }
    ),
    ChargeStatus.OVERDUE: frozenset(
        {
            ChargeStatus.OVERDUE,  # a staff retry declined: still overdue
            ChargeStatus.PAID,  # a late payment
            ChargeStatus.CANCELLED,
            ChargeStatus.WRITTEN_OFF,
        }
    ),
    # A direct debit the bank returned: the charge is owed again, on the retry
    # schedule (failed) or past it (overdue). A refund never re-opens a charge.
    ChargeStatus.PAID: frozenset({ChargeStatus.FAILED, ChargeStatus.OVERDUE}),
    ChargeStatus.CANCELLED: frozenset(),
    ChargeStatus.WRITTEN_OFF: frozenset(),
}
