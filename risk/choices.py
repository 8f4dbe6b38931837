from django.db import models

from alerts.choices import AlertKind

# The alert kinds the risk rules raise, one rule each (risk/rules/). A rule's code
# is the kind of the alerts it raises.
RULE_CODES = (
    AlertKind.FAILED_DEDUCTIONS,
    AlertKind.OVERDUE_LONG,
    AlertKind.MANDATE_EXPIRING,
    AlertKind.MANDATE_REVOKED,
    AlertKind.UNMATCHED_PAYMENT,
    AlertKind.DUPLICATE_PAYMENT,
    AlertKind.RECONCILIATION_DIFFERENCE,
    AlertKind.RECONCILIATION_UNSIGNED,
    AlertKind.PREPAID_LOW,
    AlertKind.AMOUNT_DEVIATION,
    AlertKind.ON_TIME_RATE,
    AlertKind.AUDIT_CHAIN_BROKEN,
)
RULE_CHOICES = [(str(kind), kind.label) for kind in RULE_CODES]


class Threshold(models.TextChoices):
    """The thresholds a rule may read; each rule names the ones it uses."""

    COUNT = "count"
    DAYS = "days"
    PERCENT = "percent"
