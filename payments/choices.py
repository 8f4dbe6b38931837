from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AttemptStatus(models.TextChoices):
    """An attempt's state in our books (the gateway's answer mapped by the services)."""

    PENDING = "pending", _("In progress")  # sent, or waiting for the customer or the bank
    UNKNOWN = "unknown", _("Outcome unknown")  # no answer: query the gateway first
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    RETURNED = "returned", _("Returned by the bank")  # a direct debit reversed after success
    CANCELLED = "cancelled", _("Cancelled")  # withdrawn by staff while waiting


OPEN_ATTEMPT_STATUSES = (AttemptStatus.PENDING, AttemptStatus.UNKNOWN)

# The attempt state machine (payments/services/attempts.py): an attempt is opened
# unknown, committed before the gateway hears of it. Open statuses may repeat (a
# query that still says pending); a success always counts, even on an attempt we
# had given up on or withdrawn (the money is booked, if need be to the prepaid
# balance); only a succeeded direct debit can be returned by the bank.
ATTEMPT_TRANSITIONS: dict[str, frozenset[str]] = {
    AttemptStatus.UNKNOWN: frozenset(
        {
            AttemptStatus.UNKNOWN,
            AttemptStatus.PENDING,
            AttemptStatus.SUCCEEDED,
            AttemptStatus.FAILED,
        }
    ),
    AttemptStatus.PENDING: frozenset(
        {
            AttemptStatus.PENDING,
            AttemptStatus.UNKNOWN,
            AttemptStatus.SUCCEEDED,
            AttemptStatus.FAILED,
            AttemptStatus.CANCELLED,  # withdrawn: a cancel, a write-off, a termination
        }
    ),
    AttemptStatus.FAILED: frozenset({AttemptStatus.SUCCEEDED}),
    AttemptStatus.CANCELLED: frozenset({AttemptStatus.SUCCEEDED}),
    AttemptStatus.SUCCEEDED: frozenset({AttemptStatus.RETURNED}),
    AttemptStatus.RETURNED: frozenset(),
}


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("In progress")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", pgettext_lazy("refund status", "Failed")
    MANUAL = "manual", _("Awaiting a manual transfer")


# The refund state machine (payments/services/refunds.py): committed pending before
# the gateway is asked; a gateway that cannot refund by itself leaves it to a manual
# transfer that staff confirm. Decided refunds never change again.
REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    RefundStatus.PENDING: frozenset(
        {RefundStatus.PENDING, RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.MANUAL}
    ),
    RefundStatus.MANUAL: frozenset({RefundStatus.SUCCEEDED}),
    RefundStatus.SUCCEEDED: frozenset(),
    RefundStatus.FAILED: frozenset(),
}


class RefundSource(models.TextChoices):
    """Where a refund's money comes from: what its payment collected for the charge,
    or the customer's prepaid balance (the excess of an overpayment, a second
    payment of a charge already paid)."""

    PAYMENT = "payment", _("The payment")
    PREPAID = "prepaid", _("The prepaid balance")


class ApprovalStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


# Write-off requests and deposit releases: asked by one user, decided once by another.
APPROVAL_TRANSITIONS: dict[str, frozenset[str]] = {
    ApprovalStatus.REQUESTED: frozenset({ApprovalStatus.APPROVED, ApprovalStatus.REJECTED}),
    ApprovalStatus.APPROVED: frozenset(),
    ApprovalStatus.REJECTED: frozenset(),
}


class MandateStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("mandate status", "Active")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class SequenceType(models.TextChoices):
    """ISO 20022 direct debit sequence: the first debit under a mandate differs."""

    FIRST = "FRST", _("First")
    RECURRING = "RCUR", _("Recurring")
    ONE_OFF = "OOFF", _("One-off")
