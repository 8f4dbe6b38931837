"""Receiving accounts, the statements they report, and how each line was explained.

What makes a re-import harmless lives in the database: a statement is unique per
account by the SHA-256 of its file, and a line by its fingerprint (account, booking
date, amount, the bank's reference — or the narrative where the bank gives none —
and how many identical lines came before it in the same file). Importing the same
file twice, or two overlapping exports of the same days, creates each line once.
"""

from .accounts import BankAccount
from .matches import Discrepancy, Match
from .runs import ReconciliationRun
from .statements import Statement, StatementLine

__all__ = [
    "BankAccount",
    "Discrepancy",
    "Match",
    "ReconciliationRun",
    "Statement",
    "StatementLine",
]
