"""Money in, and what settles a charge without new money: a payment, a top-up,
the prepaid balance applied, a write-off."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from contracts.choices import SigningTreatment
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money

from ..bulk import Posting
from ..choices import AccountPurpose, EntryKind
from ..models import Account, JournalEntry
from ..selectors import subject_balance
from ..services import accounts_lock, journal_post
from .charges import AccountRef
from .rules import (
    TREATMENT_ACCOUNT,
    D,
    P,
    R,
    already_posted,
    charge_subject,
    checked_treatment,
    clearing_account,
    company_account,
    customer_account,
    natural_balance,
    not_above,
    require_positive,
)


@transaction.atomic
def post_payment(
    *,
    customer_id: int,
    amount: Money,
    method: str,
    reference: str,
    charge_id: int,
    on: dt.date,
    treatment: str | None = None,
) -> JournalEntry:
    """Money collected for a charge through a payment method."""
    treatment = checked_treatment(treatment)
    require_positive(amount)
    currency = amount.currency.code
    subject = charge_subject(charge_id)
    credited = customer_account(customer_id, currency, TREATMENT_ACCOUNT[treatment])
    clearing = clearing_account(method, currency)
    accounts_lock([credited])
    if not already_posted(EntryKind.PAYMENT, reference):
        if treatment == SigningTreatment.FEE:
            not_above(
                amount,
                subject_balance(account=credited, subject=subject),
                _("%(amount)s is more than the %(available)s outstanding on this charge."),
            )
        elif JournalEntry.objects.filter(kind=EntryKind.CHARGE, subject=subject).exists():
            raise BusinessError(
                {"treatment": [_("This charge was billed as a fee; collect it as a fee.")]}
            )
    return journal_post(
        kind=EntryKind.PAYMENT,
        reference=reference,
        subject=subject,
        currency=currency,
        on=on,
        lines=[(clearing, amount), (credited, -amount)],
    )


def payment_posting(
    *,
    reference: str,
    charge_id: int,
    amount: Decimal,
    currency: str,
    on: dt.date,
    clearing: AccountRef | Account,
    credited: AccountRef | Account,
) -> Posting:
    """The entry :func:`post_payment` books, for :func:`ledger.bulk.post_many`: the
    method's clearing account debited, the customer's account for the charge's
    treatment (``credited``) credited. The caller holds the charge's lock and has
    checked ``amount`` against what the charge still owes."""
    return Posting(
        kind=EntryKind.PAYMENT,
        reference=reference,
        subject=charge_subject(charge_id),
        currency=currency,
        on=on,
        lines=((clearing, amount), (credited, -amount)),
    )


def post_prepayment(
    *, customer_id: int, amount: Money, method: str, reference: str, on: dt.date
) -> JournalEntry:
    """Money received to top up the customer's prepaid balance."""
    require_positive(amount)
    currency = amount.currency.code
    prepaid = customer_account(customer_id, currency, P)
    clearing = clearing_account(method, currency)
    return journal_post(
        kind=EntryKind.PREPAYMENT,
        reference=reference,
        currency=currency,
        on=on,
        lines=[(clearing, amount), (prepaid, -amount)],
    )


@transaction.atomic
def apply_prepaid(
    *,
    customer_id: int,
    amount: Money,
    charge_id: int,
    on: dt.date,
    reference: str | None = None,
) -> JournalEntry:
    """Settle (part of) a charge from the customer's prepaid balance.

    The prepaid and receivable rows are locked before their balances are read,
    so concurrent applications queue and none can overdraw the balance.
    """
    return _settle_from(
        P,
        kind=EntryKind.PREPAID_APPLIED,
        customer_id=customer_id,
        amount=amount,
        charge_id=charge_id,
        on=on,
        reference=reference,
        too_much=_("%(amount)s is more than the prepaid balance of %(available)s."),
    )


def _settle_from(
    purpose: str,
    *,
    kind: str,
    customer_id: int,
    amount: Money,
    charge_id: int,
    on: dt.date,
    reference: str | None,
    too_much: str,
) -> JournalEntry:
    """Move what a customer holds with us (prepaid balance, deposit) onto what they
    owe on a charge, never more than either (both read under the accounts' locks)."""
    require_positive(amount)
    currency = amount.currency.code
    subject = charge_subject(charge_id)
    reference = reference or subject
    receivable = customer_account(customer_id, currency, R)
    held = customer_account(customer_id, currency, purpose)
    accounts_lock([receivable, held])
    if not already_posted(kind, reference):
        not_above(amount, natural_balance(held), too_much)
        not_above(
            amount,
            subject_balance(account=receivable, subject=subject),
            _("%(amount)s is more than the %(available)s outstanding on this charge."),
        )
    return journal_post(
        kind=kind,
        reference=reference,
        subject=subject,
        currency=currency,
        on=on,
        lines=[(held, amount), (receivable, -amount)],
    )


@transaction.atomic
def post_write_off(
    *,
    customer_id: int,
    amount: Money,
    charge_id: int,
    on: dt.date,
    reference: str | None = None,
) -> JournalEntry:
    """Give up on (part of) what a customer owes on a charge."""
    require_positive(amount)
    currency = amount.currency.code
    subject = charge_subject(charge_id)
    reference = reference or subject
    receivable = customer_account(customer_id, currency, R)
    expense = company_account(AccountPurpose.WRITE_OFF, currency)
    accounts_lock([receivable])
    if not already_posted(EntryKind.WRITE_OFF, reference):
        not_above(
            amount,
            subject_balance(account=receivable, subject=subject),
            _("%(amount)s is more than the %(available)s outstanding on this charge."),
        )
    return journal_post(
        kind=EntryKind.WRITE_OFF,
        reference=reference,
        subject=subject,
        currency=currency,
        on=on,
        lines=[(expense, amount), (receivable, -amount)],
    )


@transaction.atomic
def apply_deposit(
    *, customer_id: int, amount: Money, charge_id: int, on: dt.date, reference: str
) -> JournalEntry:
    """Pay (part of) a charge the customer still owes from the deposit they left,
    when their contract ends."""
    return _settle_from(
        D,
        kind=EntryKind.DEPOSIT_APPLIED,
        customer_id=customer_id,
        amount=amount,
        charge_id=charge_id,
        on=on,
        reference=reference,
        too_much=_("%(amount)s is more than the deposit of %(available)s held."),
    )
