"""Suggestions for the lines the exact pass could not place: the open payment notices
of the same amount, scored by date and payer, for a clerk to confirm or reject."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from feemgmt.core.money import money_label
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


def suggest(lines: Sequence[StatementLine]) -> set[int]:
    """Store up to three ranked candidates per money-in line; returns the lines that
    got one. Candidates come from one query over the open bank-transfer notices of
    the amounts seen, grouped by amount: no query per line."""
    wanted = [line for line in lines if line.amount.amount > 0]
    if not wanted:
        return set()
    amounts = {line.amount.amount for line in wanted}
    candidates: dict[tuple[str, object], list[PaymentAttempt]] = defaultdict(list)
    open_notices = (
        PaymentAttempt.objects.filter(
            method="bank_transfer", status=AttemptStatus.PENDING, amount__in=amounts
        )
        .select_related("charge__contract__customer")
        .only(
            "id",
            "amount",
            "amount_currency",
            "idempotency_key",
            "charge__id",
            "charge__due_date",
            "charge__contract__number",
            "charge__contract__customer__name",
        )
    )
    for attempt in open_notices:
        candidates[(attempt.amount.currency.code, attempt.amount.amount)].append(attempt)
    matches: list[Match] = []
    suggested: set[int] = set()
    for line in wanted:
        scored = []
        for attempt in candidates.get((line.amount.currency.code, line.amount.amount), ()):
            score, reasons = _score(line, attempt)
            if score >= SUGGEST_MIN_SCORE:
                scored.append((score, attempt.pk, attempt, reasons))
        scored.sort(key=lambda item: (-item[0], item[1]))
        for score, _pk, attempt, reasons in scored[:SUGGEST_KEEP]:
            matches.append(
                Match(
                    line=line,
                    charge_id=attempt.charge_id,
                    attempt=attempt,
                    method=MatchMethod.SUGGESTION,
                    status=MatchStatus.SUGGESTED,
                    score=score,
                    reasons=reasons,
                )
            )
            suggested.add(line.pk)
    Match.objects.bulk_create(matches)
    StatementLine.objects.filter(pk__any=suggested).update(status=LineStatus.SUGGESTED)
    return suggested


def _score(line: StatementLine, attempt: PaymentAttempt) -> tuple[int, list[str]]:
    """50 for the exact amount, up to 25 for the date, up to 25 for the payer's name."""
    charge = attempt.charge
    days = (line.booked_on - charge.due_date).days
    if not -SUGGEST_DAYS_BEFORE_DUE <= days <= SUGGEST_DAYS_AFTER_DUE:
        return 0, []
    reasons = [_("same amount %(amount)s") % {"amount": money_label(line.amount)}]
    date_points = round(25 * (1 - abs(days) / SUGGEST_DAYS_AFTER_DUE))
    reasons.append(
        _("booked %(days)s days from the due date %(due)s")
        % {"days": days, "due": charge.due_date.isoformat()}
    )
    name = charge.contract.customer.name
    similarity = fuzz.token_set_ratio(line.counterparty_name, name) if line.counterparty_name else 0
    if similarity >= 60:
        reasons.append(
            _("payer %(payer)s resembles %(customer)s (%(similarity)s%%)")
            % {"payer": line.counterparty_name, "customer": name, "similarity": round(similarity)}
        )
    name_points = round(25 * similarity / 100) if similarity >= 60 else 0
    return 50 + date_points + name_points, reasons
