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


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("In progress")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", pgettext_lazy("refund status", "Failed")
    MANUAL = "manual", _("Awaiting a manual transfer")


class ApprovalStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class MandateStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("mandate status", "Active")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class SequenceType(models.TextChoices):
    """ISO 20022 direct debit sequence: the first debit under a mandate differs."""

    FIRST = "FRST", _("First")
    RECURRING = "RCUR", _("Recurring")
    ONE_OFF = "OOFF", _("One-off")
