"""The exact pass: only what names one payment places a line, and the payments
services book it with their own checks (docs/reconciliation.md, "Matching")."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import ChargeStatus
from feemgmt.core.money import Money, money_label
from ledger.cash import post_cash_receipt, post_gateway_fee
from payments.adapters import CollectionResult
from payments.adapters.bank_transfer import parse_remittance_reference
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt, Refund
from payments.services.bank_transfer import Receipt
from payments.services.collection import record_result

from ...choices import (
    AccountKind,
    DiscrepancyKind,
    LineKind,
    LineStatus,
    MatchEffect,
    MatchMethod,
    MatchStatus,
)
from ...models import BankAccount, Match, StatementLine
from ..discrepancies import discrepancy_open

RECEIPT_EFFECT = {
    Receipt.SETTLED: MatchEffect.SETTLED,
    Receipt.PARTIAL: MatchEffect.PARTIAL,
    Receipt.OVERPAID: MatchEffect.OVERPAID,
    Receipt.DUPLICATE: MatchEffect.DUPLICATE,
}


def line_reference(line: StatementLine) -> str:
    """The ledger reference of what a line booked."""
    return f"statement-line:{line.pk}"


def unmatched_message(line: StatementLine) -> str:
    if line.kind in (LineKind.REVERSAL, LineKind.RETURN):
        return _(
            "The bank took back %(amount)s (line %(line)s); "
            "no refund or returned debit of ours explains it."
        ) % {
            "amount": money_label(line.amount),
            "line": line.line_no,
        }
    return _("Nothing in the books explains %(amount)s on %(date)s (line %(line)s).") % {
        "amount": money_label(line.amount),
        "date": line.booked_on.isoformat(),
        "line": line.line_no,
    }


# --- The exact pass ---------------------------------------------------------------------


@dataclass(frozen=True)
class LineContext:
    account: BankAccount
    payers: dict[str, BankAccount]  # normalised payout name -> gateway account


def _normal(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def payout_payers(account: BankAccount) -> dict[str, BankAccount]:
    if account.kind != AccountKind.BANK:
        return {}
    gateways = BankAccount.objects.exclude(kind=AccountKind.BANK).filter(
        currency=account.currency, active=True
    )
    return {_normal(g.payout_name): g for g in gateways if g.payout_name.strip()}


# exact_match's answer for a line quoting a remittance reference: booked afterwards
# with every other such line of the file, in one batch (matching/transfers.py).
DEFERRED = "deferred"


def exact_match(
    context: LineContext,
    line: StatementLine,
    attempts: dict[str, PaymentAttempt],
    transfers: list[tuple[StatementLine, str]],
) -> str | None:
    """The effect of placing ``line`` (None: nothing names a payment; DEFERRED: a
    transfer, added to ``transfers`` with its reference and booked with the others
    of its file)."""
    if line.fee and line.kind != LineKind.FEE and context.account.kind != AccountKind.BANK:
        _fee(context, line, Money(line.fee, line.amount.currency))
    if line.kind == LineKind.FEE and context.account.kind != AccountKind.BANK:
        return _fee(context, line, -line.amount, standalone=True)
    if line.kind == LineKind.PAYOUT and context.account.kind != AccountKind.BANK:
        # the gateway's own record of a payout: booked from the bank's side
        _confirm(context, line, method=MatchMethod.PAYOUT, effect=MatchEffect.PAYOUT)
        return MatchEffect.PAYOUT
    key = line.out_trade_no or line.end_to_end_id
    attempt = attempts.get(key) if key else None
    if line.kind == LineKind.REFUND and attempt is not None:
        return _refund(context, line, attempt)
    if attempt is not None and line.amount.amount > 0:
        return _gateway_success(context, line, attempt)
    if line.amount.amount <= 0:
        return None
    gateway = (
        context.payers.get(_normal(line.counterparty_name)) if line.counterparty_name else None
    )
    if gateway is not None:
        return _payout(context, line, gateway)
    reference = transfer_reference(line)
    if reference is not None:
        transfers.append((line, reference))
        return DEFERRED
    return None


def transfer_reference(line: StatementLine) -> str | None:
    """The remittance reference a line quotes, anywhere in its reference or text."""
    return parse_remittance_reference(f"{line.reference} {line.narrative}")


def move_to_cash(context: LineContext, line: StatementLine, method: str) -> None:
    """A bank statement proves the money is on the account: clearing to cash."""
    if context.account.kind != AccountKind.BANK or line.amount.amount <= 0:
        return
    post_cash_receipt(
        bank_account=context.account.code,
        method=method,
        amount=line.amount,
        reference=f"{line_reference(line)}:cash",
        on=line.booked_on,
    )


def _fee(context: LineContext, line: StatementLine, amount: Money, *, standalone: bool = False):
    if amount.amount == 0:
        return None
    post_gateway_fee(
        method=context.account.payment_method,
        amount=amount,
        reference=f"{line_reference(line)}:fee",
        on=line.booked_on,
    )
    if standalone:
        _confirm(context, line, method=MatchMethod.FEE, effect=MatchEffect.FEE)
        return MatchEffect.FEE
    return None


def _payout(context: LineContext, line: StatementLine, gateway: BankAccount) -> str:
    move_to_cash(context, line, gateway.payment_method)
    _confirm(
        context,
        line,
        method=MatchMethod.PAYOUT,
        effect=MatchEffect.PAYOUT,
        reasons=[_("payout from %(gateway)s") % {"gateway": gateway.name}],
    )
    return MatchEffect.PAYOUT


def _confirm(
    context: LineContext,
    line: StatementLine,
    *,
    method: str,
    effect: str,
    attempt=None,
    refund=None,
    reasons=(),
):
    if attempt is not None and effect != MatchEffect.HELD:
        move_to_cash(context, line, attempt.method)
    Match.objects.create(
        line=line,
        charge_id=attempt.charge_id if attempt is not None else None,
        attempt=attempt,
        refund=refund,
        method=method,
        status=MatchStatus.CONFIRMED,
        effect=effect,
        score=100,
        reasons=list(reasons),
        decided_at=timezone.now(),
    )
    line.status = LineStatus.MATCHED  # written with the line (the import inserts it after)


def receipt_discrepancy(line: StatementLine, receipt, key: str) -> None:
    """What a transfer's receipt leaves to explain: the rest still owed, the excess
    or the second payment in the prepaid balance (``key``: the notice's attempt)."""
    params = {"key": key, "line": line.line_no}
    if receipt.effect == Receipt.PARTIAL:
        kind = DiscrepancyKind.PARTIAL_PAYMENT
        amount = receipt.still_owed
        message = _("Line %(line)s paid %(paid)s of %(key)s; %(owed)s is still owed.") % {
            **params,
            "paid": money_label(receipt.applied),
            "owed": money_label(receipt.still_owed),
        }
    elif receipt.effect == Receipt.OVERPAID:
        kind = DiscrepancyKind.OVERPAYMENT
        amount = receipt.excess
        message = _(
            "Line %(line)s paid %(excess)s more than %(key)s asked; "
            "the excess is in the customer's prepaid balance."
        ) % {**params, "excess": money_label(receipt.excess)}
    elif receipt.effect == Receipt.DUPLICATE:
        kind = DiscrepancyKind.DUPLICATE_PAYMENT
        amount = receipt.excess
        message = _(
            "Line %(line)s paid %(key)s again (%(excess)s); "
            "it is in the customer's prepaid balance."
        ) % {**params, "excess": money_label(receipt.excess)}
    else:
        return
    discrepancy_open(
        kind=kind,
        account_id=line.account_id,
        line=line,
        charge_id=receipt.charge_id,
        amount=amount,
        message=message,
    )


def _held(line: StatementLine, attempt: PaymentAttempt, message: str) -> None:
    """A gateway's line disagrees with the attempt's amount: nothing is booked."""
    discrepancy_open(
        kind=DiscrepancyKind.AMOUNT_MISMATCH,
        account_id=line.account_id,
        line=line,
        charge_id=attempt.charge_id,
        amount=line.amount,
        message=message
        % {
            "line": line.line_no,
            "got": money_label(line.amount),
            "key": attempt.idempotency_key,
            "asked": money_label(attempt.amount),
        },
    )


def _gateway_success(context: LineContext, line: StatementLine, attempt: PaymentAttempt) -> str:
    """A gateway bill (or a direct-debit statement) says this attempt was paid."""
    method = MatchMethod.ORDER_NUMBER if line.out_trade_no else MatchMethod.END_TO_END
    if attempt.status == AttemptStatus.SUCCEEDED:
        if attempt.amount != line.amount:
            _held(
                line,
                attempt,
                _("Line %(line)s reports %(got)s for %(key)s, which was booked as %(asked)s."),
            )
            return MatchEffect.HELD
        _confirm(context, line, method=method, effect=MatchEffect.CONFIRMED, attempt=attempt)
        return MatchEffect.CONFIRMED
    # The notification never arrived (or came after a decline): the bill settles it,
    # through the same path and amount check a notification takes.
    record_result(
        attempt.pk,
        CollectionResult(
            status="succeeded",
            provider_reference=line.gateway_trade_no or None,
            amount=line.amount,
            raw={"statement_line": line.pk, "booked_on": line.booked_on.isoformat()},
        ),
        on=line.booked_on,
    )
    attempt.refresh_from_db()
    if attempt.status != AttemptStatus.SUCCEEDED:
        _held(
            line,
            attempt,
            _(
                "Line %(line)s reports %(got)s for %(key)s, which asked for %(asked)s; "
                "nothing was booked."
            ),
        )
        return MatchEffect.HELD
    charge_status = attempt.charge.status
    effect = MatchEffect.SETTLED if charge_status == ChargeStatus.PAID else MatchEffect.DUPLICATE
    _confirm(context, line, method=method, effect=effect, attempt=attempt)
    return effect


def _refund(context: LineContext, line: StatementLine, attempt: PaymentAttempt) -> str | None:
    refund = (
        Refund.objects.filter(attempt=attempt, amount=-line.amount.amount)
        .order_by("-created_at")
        .first()
    )
    if refund is None:
        return None
    _confirm(
        context,
        line,
        method=MatchMethod.ORDER_NUMBER,
        effect=MatchEffect.REFUND,
        attempt=attempt,
        refund=refund,
    )
    return MatchEffect.REFUND
