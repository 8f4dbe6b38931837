"""The company's own money: cash at each receiving bank account, and what gateways
keep as fees. Reconciliation posts these when a statement proves a movement.

==================  ======================  =======================  ==============
posting             debit                   credit                   kind
==================  ======================  =======================  ==============
post_cash_receipt   CASH (receiving acct)   CLEARING (method)        cash_receipt
post_cash_payment   CLEARING (method)       CASH (receiving acct)    cash_payment
post_gateway_fee    GATEWAY_FEES            CLEARING (method)        gateway_fee
==================  ======================  =======================  ==============

A payment is booked into its method's clearing account when we learn of it (a
notification, a matched transfer). The money reaching a bank account — a transfer
on its statement, or a gateway paying out its balance — moves it from clearing to
cash, and the gateway's fee moves the part it kept to expense. So once every
payment, fee and payout is reconciled, each clearing account nets to zero, and what
is left in one is exactly what is still in transit.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum
from django.utils.translation import gettext as _

from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, money_from_db

from .choices import AccountPurpose, EntryKind
from .models import Account, JournalEntry, JournalLine
from .services import account_for, journal_post

__all__ = [
    "PAYOUT_KINDS",
    "cash_account",
    "movements",
    "post_cash_payment",
    "post_cash_receipt",
    "post_gateway_fee",
]


def _positive(amount: Money) -> None:
    if amount.amount <= 0:
        raise BusinessError({"amount": [_("The amount must be a positive sum of money.")]})


def cash_account(bank_account: str, currency: str) -> Account:
    return account_for(purpose=AccountPurpose.CASH, currency=currency, bank_account=bank_account)


def _clearing(method: str, currency: str) -> Account:
    return account_for(purpose=AccountPurpose.CLEARING, currency=currency, payment_method=method)


def _cash_entry(
    kind: str, *, bank_account: str, method: str, amount: Money, reference: str, on, memo: str
) -> JournalEntry:
    _positive(amount)
    currency = amount.currency.code
    cash = cash_account(bank_account, currency)
    clearing = _clearing(method, currency)
    inwards = kind == EntryKind.CASH_RECEIPT
    return journal_post(
        kind=kind,
        reference=reference,
        currency=currency,
        on=on,
        memo=memo,
        lines=[(cash, amount if inwards else -amount), (clearing, -amount if inwards else amount)],
    )


def post_cash_receipt(
    *, bank_account: str, method: str, amount: Money, reference: str, on: dt.date, memo: str = ""
) -> JournalEntry:
    """Money that arrived on a receiving account, for payments booked under ``method``."""
    return _cash_entry(
        EntryKind.CASH_RECEIPT,
        bank_account=bank_account,
        method=method,
        amount=amount,
        reference=reference,
        on=on,
        memo=memo,
    )


def post_cash_payment(
    *, bank_account: str, method: str, amount: Money, reference: str, on: dt.date, memo: str = ""
) -> JournalEntry:
    """Money that left a receiving account (a refund sent by transfer)."""
    return _cash_entry(
        EntryKind.CASH_PAYMENT,
        bank_account=bank_account,
        method=method,
        amount=amount,
        reference=reference,
        on=on,
        memo=memo,
    )


def post_gateway_fee(*, method: str, amount: Money, reference: str, on: dt.date) -> JournalEntry:
    """What a gateway kept of a payment as its fee (手续费); a negative amount is a fee
    it gave back (with a refund)."""
    if amount.amount == 0:
        raise BusinessError({"amount": [_("The amount must be a positive sum of money.")]})
    currency = amount.currency.code
    fees = account_for(purpose=AccountPurpose.GATEWAY_FEES, currency=currency)
    return journal_post(
        kind=EntryKind.GATEWAY_FEE,
        reference=reference,
        currency=currency,
        on=on,
        lines=[(fees, amount), (_clearing(method, currency), -amount)],
    )


def movements(
    account: Account, *, start: dt.date, end: dt.date, exclude_kinds: tuple[str, ...] = ()
) -> Money:
    """The signed sum of an account's lines effective in [start, end]."""
    lines = JournalLine.objects.filter(
        account=account, entry__effective_on__gte=start, entry__effective_on__lte=end
    )
    if exclude_kinds:
        lines = lines.exclude(entry__kind__in=exclude_kinds)
    return money_from_db(lines.aggregate(total=Sum("amount"))["total"], account.currency)


# What a gateway's own bill shows: the payments it took, its refunds and its fees —
# not the payouts to the bank, which the bank's statement shows.
PAYOUT_KINDS = (EntryKind.CASH_RECEIPT, EntryKind.CASH_PAYMENT)
