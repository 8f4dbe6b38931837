"""Suggestions for the lines the exact pass could not place: the open payment notices
of the same amount, scored by date and payer, for a clerk to confirm or reject."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from billing.models import Charge
from feemgmt.core.money import Money, money_from_db, money_label
from feemgmt.core.sql import insert_rows
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt

from ...choices import (
    LineStatus,
    MatchMethod,
    MatchStatus,
)
from ...models import Match, StatementLine

# How far a payment may be booked from the charge's due date and still be suggested.
SUGGEST_DAYS_BEFORE_DUE = 10
SUGGEST_DAYS_AFTER_DUE = 60
SUGGEST_MIN_SCORE = 50
SUGGEST_KEEP = 3


# --- Suggestions --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Notice:
    """An open bank-transfer notice, with what scoring reads of its charge."""

    pk: int
    charge_id: int
    amount: Money
    due_date: dt.date
    customer_name: str


def _open_notices(amounts: set) -> dict[tuple[str, object], list[_Notice]]:
    """The open notices of these amounts, by (currency, amount). Two plain lookups —
    the notices by amount, then their charges by id — rather than one four-table
    join whose plan depends on how fresh the statistics are."""
    rows = list(
        PaymentAttempt.objects.filter(
            method="bank_transfer", status=AttemptStatus.PENDING, amount__any=amounts
        ).values_list("pk", "charge_id", "amount", "amount_currency")
    )
    charges = {
        pk: (due, name)
        for pk, due, name in Charge.objects.filter(
            pk__any={charge_id for _pk, charge_id, _a, _c in rows}
        ).values_list("pk", "due_date", "contract__customer__name")
    }
    found: dict[tuple[str, object], list[_Notice]] = defaultdict(list)
    for pk, charge_id, amount, currency in rows:
        due, name = charges[charge_id]
        notice = _Notice(pk, charge_id, money_from_db(amount, currency), due, name)
        found[(currency, notice.amount.amount)].append(notice)
    return found


_COLUMNS = ("line_id", "charge_id", "attempt_id", "score", "reasons", "created_at", "updated_at")


def suggest(lines: Sequence[StatementLine]) -> set[int]:
    """Store up to three ranked candidates per money-in line; returns the lines that
    got one. Candidates come from the open bank-transfer notices of the amounts
    seen, read once and grouped by amount: no query per line."""
    wanted = [line for line in lines if line.amount.amount > 0]
    if not wanted:
        return set()
    candidates = _open_notices({line.amount.amount for line in wanted})
    now = timezone.now()
    matches: list[tuple] = []
    suggested: set[int] = set()
    for line in wanted:
        scored = []
        for notice in candidates.get((line.amount.currency.code, line.amount.amount), ()):
            score, reasons = _score(line, notice)
            if score >= SUGGEST_MIN_SCORE:
                scored.append((score, notice.pk, notice, reasons))
        scored.sort(key=lambda item: (-item[0], item[1]))
        for score, _pk, notice, reasons in scored[:SUGGEST_KEEP]:
            matches.append((line.pk, notice.charge_id, notice.pk, score, reasons, now, now))
            suggested.add(line.pk)
    insert_rows(
        Match,
        (*_COLUMNS, "method", "status", "effect"),
        [
            (*match, MatchMethod.SUGGESTION.value, MatchStatus.SUGGESTED.value, "")
            for match in matches
        ],
    )
    for line in wanted:
        if line.pk in suggested:
            line.status = LineStatus.SUGGESTED
    return suggested


def _score(line: StatementLine, notice: _Notice) -> tuple[int, list[str]]:
    """50 for the exact amount, up to 25 for the date, up to 25 for the payer's name."""
    days = (line.booked_on - notice.due_date).days
    if not -SUGGEST_DAYS_BEFORE_DUE <= days <= SUGGEST_DAYS_AFTER_DUE:
        return 0, []
    reasons = [_("same amount %(amount)s") % {"amount": money_label(line.amount)}]
    date_points = round(25 * (1 - abs(days) / SUGGEST_DAYS_AFTER_DUE))
    reasons.append(
        _("booked %(days)s days from the due date %(due)s")
        % {"days": days, "due": notice.due_date.isoformat()}
    )
    name = notice.customer_name
    similarity = fuzz.token_set_ratio(line.counterparty_name, name) if line.counterparty_name else 0
    if similarity >= 60:
        reasons.append(
            _("payer %(payer)s resembles %(customer)s (%(similarity)s%%)")
            % {"payer": line.counterparty_name, "customer": name, "similarity": round(similarity)}
        )
    name_points = round(25 * similarity / 100) if similarity >= 60 else 0
    return 50 + date_points + name_points, reasons
