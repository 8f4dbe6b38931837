"""Every risk rule, in the order the admin lists them (docs/risk.md)."""

from .audit import CHAIN_SUBJECT
from .audit import RULES as _AUDIT
from .base import Check, Finding, Rule
from .collection import RULES as _COLLECTION
from .mandates import RULES as _MANDATES
from .reconciliation import RULES as _RECONCILIATION

RULES: dict[str, Rule] = {
    str(rule.code): rule for rule in (*_COLLECTION, *_MANDATES, *_RECONCILIATION, *_AUDIT)
}

__all__ = ["CHAIN_SUBJECT", "RULES", "Check", "Finding", "Rule"]
