from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    COLLECTION_BLOCKED = "collection_blocked", _("Charge cannot be collected")
    CHARGE_OVERDUE = "charge_overdue", _("Charge overdue")
    UNEXPECTED_PAYMENT = "unexpected_payment", _("Payment for a settled charge")
    DEBIT_RETURNED = "debit_returned", _("Direct debit returned")
    MANDATE_EXPIRING = "mandate_expiring", _("Mandate expiring")
    AUDIT_CHAIN_BROKEN = "audit_chain_broken", _("Audit chain broken")
    DEPOSIT_HELD = "deposit_held", _("Deposit to release")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


OPEN_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
