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


class AmendmentStatus(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting approval")
    SENT = "sent", _("Awaiting the customer's consent")
    CONSENTED = "consented", _("Consented")
    DECLINED = "declined", _("Declined")
    LAPSED = "lapsed", _("Lapsed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentChannel(models.TextChoices):
    PORTAL = "portal", _("In the portal")
    PAPER = "paper", _("Signed on paper")


# The fee amendment state machine (docs/amendments.md). A proposal is approved by a
# second person, which sends it to the customer; the customer consents or declines
# in the portal, or staff record the signed paper; without consent by the effective
# date it lapses. Every change is one service in billing/services/amendments/.
AMENDMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    AmendmentStatus.PROPOSED: frozenset(
        {
            AmendmentStatus.SENT,  # approved by someone other than the proposer
            AmendmentStatus.REJECTED,
            AmendmentStatus.WITHDRAWN,
            AmendmentStatus.LAPSED,
        }
    ),
    AmendmentStatus.SENT: frozenset(
        {
            AmendmentStatus.CONSENTED,
            AmendmentStatus.DECLINED,
            AmendmentStatus.WITHDRAWN,
            AmendmentStatus.LAPSED,
        }
    ),
    AmendmentStatus.CONSENTED: frozenset(),
    AmendmentStatus.DECLINED: frozenset(),
    AmendmentStatus.LAPSED: frozenset(),
    AmendmentStatus.REJECTED: frozenset(),
    AmendmentStatus.WITHDRAWN: frozenset(),
}

# Amendments still waiting for a decision: at most one per fee.
OPEN_AMENDMENT_STATUSES = (AmendmentStatus.PROPOSED, AmendmentStatus.SENT)


def amendment_statuses_into(target: str) -> list[str]:
    """The statuses the table allows to become ``target``, for set-based changes."""
    return [status for status, targets in AMENDMENT_TRANSITIONS.items() if target in targets]
