"""Explaining statement lines: the exact pass, then suggestions for a clerk.

The exact pass trusts only what identifies one payment: the remittance reference a
customer typed (bank transfers), our idempotency key as the gateway's merchant order
number (Alipay, WeChat Pay bills) or as the end-to-end id (direct debits). A match
books through the payments services, with their checks, so a statement can never
book what a notification would have refused, and a payment already booked by its
notification is confirmed, not booked again.

Lines the exact pass cannot place are compared with the open payment notices by
amount, date and payer name; the best candidates are stored as suggestions with a
score and the reasons, and nothing is booked until a clerk confirms one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from payments.models import PaymentAttempt

from ...choices import AccountKind, DiscrepancyKind, LineKind, MatchEffect
from ...models import BankAccount, StatementLine
from ..discrepancies import discrepancy_open
from .decisions import match_confirm, match_reject, record_manual_match
from .exact import (
    DEFERRED,
    LineContext,
    exact_match,
    line_reference,
    payout_payers,
    unmatched_message,
)
from .suggestions import suggest
from .transfers import transfers_match


@dataclass
class MatchTotals:
    settled: int = 0  # lines that booked money against a charge (or confirmed it)
    suggested: int = 0
    unmatched: int = 0
    discrepancies: int = 0
    effects: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def statement_lines_match(
    *, account: BankAccount, lines: Sequence[StatementLine], on: dt.date | None = None
) -> MatchTotals:
    """Match new lines of one account: exact first, then suggestions; a discrepancy
    for the rest. Money a line proves arrived is moved to the account's cash.

    The lines are not written yet: matching sets each one's status on the instance
    and the import inserts them afterwards, once (docs/reconciliation.md, "How an
    import writes")."""
    on = on or timezone.localdate()
    totals = MatchTotals()
    context = LineContext(account=account, payers=payout_payers(account))
    keys = {line.out_trade_no for line in lines if line.out_trade_no} | {
        line.end_to_end_id for line in lines if line.end_to_end_id
    }
    attempts = {
        attempt.idempotency_key: attempt
        for attempt in PaymentAttempt.objects.filter(idempotency_key__in=keys)
    }
    leftover: list[StatementLine] = []
    transfers: list[tuple[StatementLine, str]] = []
    effects: dict[int, str] = {}
    for line in lines:
        effect = exact_match(context, line, attempts, transfers)
        if effect is None:
            leftover.append(line)
        elif effect != DEFERRED:
            effects[line.pk] = effect
    booked, unknown = transfers_match(context, transfers)
    effects.update(booked)
    for effect in effects.values():
        totals.effects[effect] += 1
        if effect != MatchEffect.HELD:
            totals.settled += 1
    # in the file's order, as the suggestions and discrepancies are listed
    unplaced = {line.pk for line in leftover} | {line.pk for line in unknown}
    leftover = [line for line in lines if line.pk in unplaced]
    suggested = suggest(leftover) if account.kind == AccountKind.BANK else set()
    for line in leftover:
        if line.pk in suggested:
            totals.suggested += 1
            continue
        totals.unmatched += 1
        discrepancy_open(
            kind=DiscrepancyKind.REVERSAL
            if line.kind in (LineKind.REVERSAL, LineKind.RETURN)
            else DiscrepancyKind.UNMATCHED_LINE,
            account_id=line.account_id,
            line=line,
            amount=line.amount,
            message=unmatched_message(line),
        )
    return totals


__all__ = [
    "MatchTotals",
    "line_reference",
    "match_confirm",
    "match_reject",
    "record_manual_match",
    "statement_lines_match",
]
