"""Billing's postings: a charge booked, many charges at once, cancelled or
re-priced."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from contracts.choices import SigningTreatment
from feemgmt.core.money import Money, quantize
from feemgmt.core.sql import allocate_ids, insert_rows

from ..choices import AccountPurpose, EntryKind
from ..models import Account, JournalEntry, JournalLine
from ..services import check_currency, journal_post
from .refunds import post_reversal
from .rules import (
    R,
    charge_subject,
    checked_treatment,
    company_account,
    customer_account,
    require_positive,
)


def post_charge(
    *,
    customer_id: int,
    amount: Money,
    charge_id: int,
    on: dt.date,
    treatment: str | None = None,
) -> JournalEntry | None:
    """Book a billed charge as receivable and income; ``None`` for a signing
    charge treated as prepayment or deposit, or a zero charge (see the module)."""
    treatment = checked_treatment(treatment)
    if treatment != SigningTreatment.FEE or (isinstance(amount, Money) and amount.amount == 0):
        return None
    require_positive(amount)
    currency = amount.currency.code
    receivable = customer_account(customer_id, currency, R)
    income = company_account(AccountPurpose.FEE_INCOME, currency)
    return journal_post(
        kind=EntryKind.CHARGE,
        reference=charge_subject(charge_id),
        subject=charge_subject(charge_id),
        currency=currency,
        on=on,
        lines=[(receivable, amount), (income, -amount)],
    )


@dataclass(frozen=True, slots=True)
class BilledCharge:
    """A charge the billing run has just created, as the ledger needs it."""

    charge_id: int
    customer_id: int
    amount: Money
    on: dt.date
    treatment: str = ""


def post_charges(charges: Sequence[BilledCharge]) -> int:
    """Book many newly created charges at once, as :func:`post_charge` books one.

    The billing run's path: a fixed number of queries whatever the count (accounts
    fetched or created in bulk, then entries and lines inserted in bulk). The
    charges are new, so none of them can have an entry yet; if one had, the unique
    (kind, reference) would roll the caller's transaction back rather than post
    twice. Like :func:`ledger.services.journal_post`, every entry it writes
    balances by construction (one debit, one equal credit). Returns the number of
    entries posted.
    """
    to_post = [
        c
        for c in charges
        if (c.treatment or SigningTreatment.FEE) == SigningTreatment.FEE and c.amount.amount > 0
    ]
    if not to_post:
        return 0
    currencies = sorted({c.amount.currency.code for c in to_post})
    income = {
        currency: company_account(AccountPurpose.FEE_INCOME, currency) for currency in currencies
    }
    receivable = accounts_for_customers(
        R, {(c.customer_id, c.amount.currency.code) for c in to_post}
    )
    now = timezone.now()
    # ids drawn first, so entries and lines each go in by one COPY, nothing returned
    entry_ids = allocate_ids(JournalEntry, len(to_post))
    insert_rows(
        JournalEntry,
        ("id", "kind", "reference", "subject", "currency", "effective_on", "memo", "created_at"),
        (
            (
                entry_id,
                EntryKind.CHARGE.value,
                subject,
                subject,
                c.amount.currency.code,
                c.on,
                "",
                now,
            )
            for entry_id, c in zip(entry_ids, to_post, strict=True)
            for subject in (charge_subject(c.charge_id),)
        ),
    )
    lines = []
    for entry_id, charge in zip(entry_ids, to_post, strict=True):
        currency = charge.amount.currency.code
        amount = quantize(charge.amount).amount
        lines.append((entry_id, receivable[charge.customer_id, currency].pk, amount))
        lines.append((entry_id, income[currency].pk, -amount))
    insert_rows(JournalLine, ("entry_id", "account_id", "amount"), lines)
    return len(entry_ids)


@dataclass(frozen=True, slots=True)
class AccountRef:
    """What a bulk posting needs of an account: its id and currency (the checks of
    :func:`ledger.services.checked_amounts` read no more), without a model instance
    per customer."""

    pk: int
    currency: str


def accounts_for_customers(
    purpose: str, keys: set[tuple[int, str]]
) -> dict[tuple[int, str], AccountRef]:
    """Customer accounts for many (customer, currency) pairs, created where missing,
    in three queries (race-safe as :func:`ledger.services.account_for`)."""
    customer_ids = {customer_id for customer_id, _currency in keys}
    currencies = {currency for _customer_id, currency in keys}
    for currency in currencies:
        check_currency(currency)

    def fetch():
        rows = Account.objects.filter(
            purpose=purpose, customer_id__any=customer_ids, currency__in=currencies
        ).values_list("pk", "customer_id", "currency")
        return {
            (customer_id, currency): AccountRef(pk, currency) for pk, customer_id, currency in rows
        }

    found = fetch()
    missing = keys - found.keys()
    if missing:
        Account.objects.bulk_create(
            [Account(purpose=purpose, customer_id=c, currency=cur) for c, cur in sorted(missing)],
            ignore_conflicts=True,
        )
        found = fetch()
    return found


def _live_charge_entry(charge_id: int) -> JournalEntry | None:
    return (
        JournalEntry.objects.filter(kind=EntryKind.CHARGE, subject=charge_subject(charge_id))
        .filter(reversed_by__isnull=True)
        .order_by("-id")
        .first()
    )


@transaction.atomic
def post_charge_cancellation(*, charge_id: int, on: dt.date) -> JournalEntry | None:
    """Undo the booking of a charge cancelled before it was collected (``None``
    when the charge was never booked, e.g. a deposit)."""
    entry = _live_charge_entry(charge_id)
    if entry is None:
        return None
    return post_reversal(entry=entry, on=on, reference=f"{entry.reference}:cancel")


@transaction.atomic
def post_charge_change(
    *, customer_id: int, charge_id: int, amount: Money, on: dt.date, treatment: str = ""
) -> JournalEntry | None:
    """Re-price a charge not yet collected: its booking is reversed and the new
    amount booked under a new version of its reference, so the journal shows the
    original, its reversal and the re-billed amount."""
    post_charge_cancellation(charge_id=charge_id, on=on)
    if checked_treatment(treatment) != SigningTreatment.FEE or amount.amount == 0:
        return None
    versions = JournalEntry.objects.filter(
        kind=EntryKind.CHARGE, subject=charge_subject(charge_id)
    ).count()
    receivable = customer_account(customer_id, amount.currency.code, R)
    income = company_account(AccountPurpose.FEE_INCOME, amount.currency.code)
    return journal_post(
        kind=EntryKind.CHARGE,
        reference=f"{charge_subject(charge_id)}:v{versions + 1}",
        subject=charge_subject(charge_id),
        currency=amount.currency.code,
        on=on,
        lines=[(receivable, amount), (income, -amount)],
    )
