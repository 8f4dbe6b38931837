"""The lines of a file that quote a remittance reference, booked together.

A statement can carry a hundred thousand transfers; each one booked through the
single-transfer service would cost a dozen queries. They are handed to
:func:`payments.services.bank_transfer_batch.bank_transfers_receive` in one batch,
and what matching writes for them — the matches, the lines' status, the cash
receipts on the account — is written set-based too. Only what is rare is written
line by line: the discrepancies of partial, excess and second payments.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from feemgmt.core.exceptions import BusinessError
from feemgmt.core.sql import insert_rows
from ledger.bulk import Posting, post_many
from ledger.cash import cash_account
from ledger.choices import AccountPurpose, EntryKind
from ledger.services import account_for
from payments.models import PaymentAttempt
from payments.services.bank_transfer import Receipt
from payments.services.bank_transfer_batch import IncomingTransfer, bank_transfers_receive

from ...choices import DiscrepancyKind, LineStatus, MatchEffect, MatchMethod, MatchStatus
from ...models import Match, StatementLine
from ..discrepancies import discrepancy_open
from .exact import RECEIPT_EFFECT, LineContext, line_reference, receipt_discrepancy

_METHOD = "bank_transfer"
_MATCH_COLUMNS = ("line_id", "charge_id", "attempt_id", "effect", "reasons")


def transfers_match(
    context: LineContext, lines: Sequence[tuple[StatementLine, str]]
) -> tuple[dict[int, str], list[StatementLine]]:
    """Book ``(line, reference)`` pairs; returns each placed line's effect, and the
    lines whose reference names no notice of ours (left for the suggestions)."""
    if not lines:
        return {}, []
    results = bank_transfers_receive(
        [
            IncomingTransfer(
                reference=reference,
                amount=line.amount,
                booked_on=line.booked_on,
                line_reference=line_reference(line),
            )
            for line, reference in lines
        ]
    )
    effects: dict[int, str] = {}
    leftover: list[StatementLine] = []
    matches: list[tuple] = []
    receipts: list[tuple[StatementLine, object]] = []
    now = timezone.now()
    for (line, reference), result in zip(lines, results, strict=True):
        if isinstance(result, BusinessError):
            if result.code == "unknown_reference":
                leftover.append(line)
                continue
            discrepancy_open(
                kind=DiscrepancyKind.AMOUNT_MISMATCH,
                account_id=line.account_id,
                line=line,
                amount=line.amount,
                message=" ".join(result.messages()),
            )
            effects[line.pk] = MatchEffect.HELD
            continue
        effect = RECEIPT_EFFECT[result.effect]
        effects[line.pk] = effect
        matches.append((line.pk, result.charge_id, result.attempt_id, str(effect), [reference]))
        receipts.append((line, result))
    insert_rows(
        Match,
        (*_MATCH_COLUMNS, "method", "status", "score", "decided_at", "created_at", "updated_at"),
        [
            (*match, MatchMethod.REFERENCE.value, MatchStatus.CONFIRMED.value, 100, now, now, now)
            for match in matches
        ],
    )
    for line, _result in receipts:
        line.status = LineStatus.MATCHED
    _move_to_cash(context, [line for line, _result in receipts])
    unusual = [(line, result) for line, result in receipts if result.effect != Receipt.SETTLED]
    keys = dict(
        PaymentAttempt.objects.filter(
            pk__any=[result.attempt_id for _line, result in unusual]
        ).values_list("pk", "idempotency_key")
    )
    for line, result in unusual:
        receipt_discrepancy(line, result, keys[result.attempt_id])
    return effects, leftover


def _move_to_cash(context: LineContext, lines: list[StatementLine]) -> None:
    """The statement proves the money is on the account: clearing to cash, one
    entry per line (its own reference), all in one batch."""
    if not lines:
        return
    code = context.account.code
    currencies = {line.amount.currency.code for line in lines}
    cash = {currency: cash_account(code, currency) for currency in currencies}
    clearing = {
        currency: account_for(
            purpose=AccountPurpose.CLEARING, currency=currency, payment_method=_METHOD
        )
        for currency in currencies
    }
    post_many(
        [
            Posting(
                kind=EntryKind.CASH_RECEIPT,
                reference=f"{line_reference(line)}:cash",
                currency=line.amount.currency.code,
                on=line.booked_on,
                lines=(
                    (cash[line.amount.currency.code], line.amount.amount),
                    (clearing[line.amount.currency.code], -line.amount.amount),
                ),
            )
            for line in lines
        ]
    )
