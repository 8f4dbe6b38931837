"""The reconciliation services: statement import, matching, discrepancies. Views,
commands, tasks and the admin call these; nothing else writes reconciliation rows."""

from .accounts import bank_account_create, bank_account_update, column_mapping_check
from .discrepancies import discrepancy_open
from .imports import ImportSummary, statement_import
from .matching import match_confirm, match_reject, statement_lines_match

__all__ = [
    "ImportSummary",
    "bank_account_create",
    "bank_account_update",
    "column_mapping_check",
    "discrepancy_open",
    "match_confirm",
    "match_reject",
    "statement_import",
    "statement_lines_match",
]
