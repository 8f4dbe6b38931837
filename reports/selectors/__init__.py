"""The reports' reads: a few aggregate queries each, never one per row.

Figures are defined in ``docs/reports.md``; money comes back as Decimal quantized
to the row's currency, and no figure is ever summed across currencies.
"""

from .flows import collections, failed_rate, income
from .receivables import aging, balances, customer_status
from .reconciliation import reconciliation

__all__ = [
    "aging",
    "balances",
    "collections",
    "customer_status",
    "failed_rate",
    "income",
    "reconciliation",
]
