from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    """What an alert is about. The first kinds are raised by the service that meets
    the problem; the risk rules (risk/rules/, docs/risk.md) raise the others on
    their schedule and on the events that affect them."""

    COLLECTION_BLOCKED = "collection_blocked", _("Charge cannot be collected")
    CHARGE_OVERDUE = "charge_overdue", _("Charge overdue")
    UNEXPECTED_PAYMENT = "unexpected_payment", _("Payment for a settled charge")
    DEBIT_RETURNED = "debit_returned", _("Direct debit returned")
    MANDATE_EXPIRING = "mandate_expiring", _("Mandate expiring")
    AUDIT_CHAIN_BROKEN = "audit_chain_broken", _("Audit chain broken")
    DEPOSIT_HELD = "deposit_held", _("Deposit to release")
    # raised by the risk rules
    FAILED_DEDUCTIONS = "failed_deductions", _("Consecutive failed deductions")
    OVERDUE_LONG = "overdue_long", _("Overdue for a long time")
    MANDATE_REVOKED = "mandate_revoked", _("Mandate revoked while a charge is due")
    UNMATCHED_PAYMENT = "unmatched_payment", _("Payment with no matching charge")
    DUPLICATE_PAYMENT = "duplicate_payment", _("Duplicate payment")
    RECONCILIATION_DIFFERENCE = "reconciliation_difference", _("Reconciliation difference")
    RECONCILIATION_UNSIGNED = "reconciliation_unsigned", _("Reconciliation not signed off")
    PREPAID_LOW = "prepaid_low", _("Prepaid balance below the next charges")
    AMOUNT_DEVIATION = "amount_deviation", _("Charge far from the usual amount")
    ON_TIME_RATE = "on_time_rate", _("On-time payment rate low")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


# Severities from lowest to highest: e-mails go out from WARNING up (docs/risk.md).
SEVERITY_ORDER = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)


def severities_from(lowest: str) -> list[str]:
    """The severities at or above ``lowest``."""
    return [str(s) for s in SEVERITY_ORDER[SEVERITY_ORDER.index(lowest) :]]


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


# Not resolved: the problem is still someone's. A snoozed alert counts, so a rule
# that finds the same problem again while it sleeps adds nothing.
OPEN_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)

# The alert state machine (alerts/services.py): one service per move. A snoozed
# alert wakes up open on its date (beat), or earlier when someone takes it over;
# resolved is final — the same problem found again is a new alert.
ALERT_TRANSITIONS: dict[str, frozenset[str]] = {
    AlertStatus.OPEN: frozenset(
        {AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED, AlertStatus.RESOLVED}
    ),
    AlertStatus.ACKNOWLEDGED: frozenset({AlertStatus.SNOOZED, AlertStatus.RESOLVED}),
    AlertStatus.SNOOZED: frozenset(
        {AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED}
    ),
    AlertStatus.RESOLVED: frozenset(),
}


def statuses_to(target: str) -> list[str]:
    """The statuses an alert may leave for ``target``."""
    return [str(source) for source, targets in ALERT_TRANSITIONS.items() if target in targets]
