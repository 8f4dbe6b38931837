"""Admin for reconciliation: receiving accounts (with a column-mapping preview),
imported statements and the "Import a statement" page, statement lines, matches
(confirmed or rejected through the matching service), discrepancies and
reconciliation runs (signed off and reopened through the runs service).

Everything a statement produced is written by reconciliation.services only; here
it is read-only, and the only changes are the import page, the match actions, the
discrepancy resolutions and the run sign-off / reopen actions, which call those
services. When a service
refuses (BusinessError) its message is shown and nothing is written.
"""

from .accounts import BankAccountAdmin
from .common import IMPORT_PERMISSION, can_import_statements
from .discrepancies import DiscrepancyAdmin
from .matches import MatchAdmin
from .runs import ReconciliationRunAdmin
from .statements import StatementAdmin, StatementLineAdmin

__all__ = [
    "IMPORT_PERMISSION",
    "BankAccountAdmin",
    "DiscrepancyAdmin",
    "MatchAdmin",
    "ReconciliationRunAdmin",
    "StatementAdmin",
    "StatementLineAdmin",
    "can_import_statements",
]
