"""What the customer sees to complete a waiting payment: a QR code to scan (drawn
as inline SVG with segno, no image service), a pay link, or bank-transfer
instructions with the remittance reference to quote."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from django.utils.safestring import SafeString, mark_safe

from billing.models import Charge
from payments.adapters import get_adapter
from payments.adapters.base import ActionKind
from payments.models import PaymentAttempt
from reconciliation.selectors import transfer_instructions


@dataclass(frozen=True)
class PayTo:
    holder: str
    account_number: str
    bank: str


@dataclass(frozen=True)
class PaymentAction:
    kind: str
    value: str
    amount: object
    qr_svg: SafeString | None = None
    reference: str | None = None
    pay_to: PayTo | None = None


def qr_svg(value: str) -> SafeString:
    """The QR code of ``value`` as an inline ``<svg>`` (the markup is segno's, with
    no text of the value in it)."""
    code = segno.make(value, error="m")
    return mark_safe(code.svg_inline(border=2, dark="#000", light="#fff", omitsize=True))


def _pay_to(charge: Charge) -> PayTo | None:
    """The receiving account: the bank account reconciliation receives transfers
    on in the charge's currency, else the payee on the adapter's notices."""
    found = transfer_instructions(charge)
    if found is not None and found.account is not None:
        account = found.account
        return PayTo(
            holder=account.holder or account.name,
            account_number=account.account_number,
            bank=account.bank,
        )
    options = get_adapter("bank_transfer").options
    if not options.get("account_number"):
        return None
    return PayTo(
        holder=options.get("account_name", ""),
        account_number=options["account_number"],
        bank=options.get("bank_name", ""),
    )


def payment_action(charge: Charge, attempt: PaymentAttempt | None) -> PaymentAction | None:
    """How to complete ``attempt`` (the charge's attempt waiting for the customer)."""
    if attempt is None or not attempt.action_value:
        return None
    kind, value = attempt.action_kind, attempt.action_value
    if kind == ActionKind.PAYMENT_NOTICE:
        return PaymentAction(
            kind=kind,
            value=value,
            amount=attempt.amount,
            reference=attempt.provider_reference or value,
            pay_to=_pay_to(charge),
        )
    return PaymentAction(kind=kind, value=value, amount=attempt.amount, qr_svg=qr_svg(value))
