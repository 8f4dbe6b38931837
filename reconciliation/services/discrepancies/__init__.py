"""Discrepancies: what a statement and the books disagree on, until someone decides.

Raised by matching (and, for missing payments, by the periodic check); each one is
unique per kind and line, so matching a line again never doubles it.
"""

from .raising import (
    discrepancies_close_for_line,
    discrepancies_find_missing,
    discrepancy_open,
    recorded_by_the_import,
)
from .resolving import (
    discrepancy_assign,
    discrepancy_mark_not_ours,
    discrepancy_refund_excess,
    discrepancy_resolve,
    discrepancy_waive,
    discrepancy_write_off_approve,
    discrepancy_write_off_request,
)

__all__ = [
    "discrepancies_close_for_line",
    "discrepancies_find_missing",
    "discrepancy_assign",
    "discrepancy_mark_not_ours",
    "discrepancy_open",
    "discrepancy_refund_excess",
    "discrepancy_resolve",
    "discrepancy_waive",
    "discrepancy_write_off_approve",
    "discrepancy_write_off_request",
    "recorded_by_the_import",
]
