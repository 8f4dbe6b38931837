"""The audit chain rule. The chain is verified by the daily audit job
(audit.verify), which says what it found (audit.events.chain_verified); this rule
turns a break into an alert, with the severity set here, instead of verifying the
whole chain a second time (docs/risk.md)."""

from django.utils.translation import gettext_lazy

from alerts.choices import AlertKind

from .base import Rule

# The one subject the chain's alert is about.
CHAIN_SUBJECT = "audit-chain"

RULES = (
    Rule(
        code=AlertKind.AUDIT_CHAIN_BROKEN,
        description=gettext_lazy(
            "The daily audit verification found the hash chain broken or the ledger unbalanced."
        ),
        thresholds=(),
        find=None,
        external=True,
    ),
)
