"""Many journal entries in a fixed number of queries.

The set-based paths (a statement's payments) book thousands of entries at once.
Each entry is checked here with the checks :func:`ledger.services.journal_post`
applies to one — a known kind, a reference, at least two non-zero lines in the
entry's currency, rounded to its minor unit, summing to zero — and then all are
inserted with two multi-row INSERTs (entries, then lines; on PostgreSQL two COPYs,
the entries' ids drawn from their sequence beforehand). The rules that depend on balances
(never more than is receivable, never below zero) are the caller's: it holds the
row locks and has read the balances it allocates against.

Entries are unique on (kind, reference) like any other: a batch that repeats one
already posted fails whole, so callers post only what is new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from feemgmt.core.exceptions import BusinessError
from feemgmt.core.sql import allocate_ids, insert_rows

from .choices import EntryKind
from .models import Account, JournalEntry, JournalLine
from .services import check_currency, checked_amounts

__all__ = ["Posting", "post_many"]


@dataclass(frozen=True, slots=True)
class Posting:
    """One entry: ``lines`` are (account, signed amount), debit positive; an account
    is an :class:`~ledger.models.Account` or anything with its ``pk`` and
    ``currency`` (:class:`ledger.postings.charges.AccountRef`)."""

    kind: str
    reference: str
    currency: str
    on: dt.date
    lines: tuple[tuple[Account, Decimal], ...]
    subject: str = ""
    memo: str = ""


_KINDS = frozenset(EntryKind.values)


def _check(posting: Posting) -> list[tuple[Account, Decimal]]:
    if posting.kind not in _KINDS:
        raise BusinessError(
            {"kind": [_("Unknown entry kind “%(value)s”.") % {"value": posting.kind}]}
        )
    if not posting.reference:
        raise BusinessError({"reference": [_("A journal entry needs a reference.")]})
    return checked_amounts(posting.currency, posting.lines)


def post_many(postings: Sequence[Posting]) -> dict[tuple[str, str], int]:
    """Insert every posting; returns the entry id of each (kind, reference)."""
    if not postings:
        return {}
    for currency in {posting.currency for posting in postings}:
        check_currency(currency)
    checked = [_check(posting) for posting in postings]
    now = timezone.now()
    # ids handed out first, so the entries and their lines each go in by one COPY
    # (no temporary table, nothing returned)
    entry_ids = allocate_ids(JournalEntry, len(postings))
    insert_rows(
        JournalEntry,
        ("id", "kind", "reference", "subject", "currency", "effective_on", "memo", "created_at"),
        [
            (pk, p.kind, p.reference, p.subject, p.currency, p.on, p.memo[:200], now)
            for pk, p in zip(entry_ids, postings, strict=True)
        ],
    )
    insert_rows(
        JournalLine,
        ("entry_id", "account_id", "amount"),
        [
            (entry_id, account.pk, amount)
            for entry_id, lines in zip(entry_ids, checked, strict=True)
            for account, amount in lines
        ],
    )
    ids = {(p.kind, p.reference): pk for pk, p in zip(entry_ids, postings, strict=True)}
    return ids
