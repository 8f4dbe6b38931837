"""A small hand-built book for the report tests: charges with chosen due dates and
the ledger entries the domain would post for them, so every figure is known."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

from djmoney.money import Money

from billing.models import Charge
from contracts.tests.factories import CustomerFactory, make_contract
from ledger.models import JournalEntry
from ledger.postings import (
    post_charge,
    post_payment,
    post_prepayment,
    post_reversal,
    post_write_off,
)

_periods = count(1)
_refs = count(1)


def charge(contract, amount: str, due: dt.date, *, status: str = "pending") -> Charge:
    """A billed recurring charge, booked as receivable and fee income on its due date."""
    start = dt.date(2000, 1, 1) + dt.timedelta(days=next(_periods))
    currency = contract.currency
    made = Charge.objects.create(
        contract=contract,
        fee=contract.fees.first(),
        kind="recurring",
        period_start=start,
        period_end=start,
        due_date=due,
        amount=Money(Decimal(amount), currency),
        status=status,
    )
    post_charge(
        customer_id=contract.customer_id,
        amount=Money(Decimal(amount), currency),
        charge_id=made.pk,
        on=due,
    )
    return made


def pay(made: Charge, amount: str, on: dt.date, *, method: str = "bank_transfer") -> JournalEntry:
    return post_payment(
        customer_id=made.contract.customer_id,
        amount=Money(Decimal(amount), made.amount.currency.code),
        method=method,
        reference=f"pay-{next(_refs)}",
        charge_id=made.pk,
        on=on,
    )


def reverse(entry: JournalEntry, on: dt.date) -> JournalEntry:
    return post_reversal(entry=entry, on=on, reference=f"rev-{next(_refs)}")


def write_off(made: Charge, amount: str, on: dt.date) -> JournalEntry:
    return post_write_off(
        customer_id=made.contract.customer_id,
        amount=Money(Decimal(amount), made.amount.currency.code),
        charge_id=made.pk,
        on=on,
    )


def prepay(customer, amount: str, currency: str, on: dt.date, *, method="bank_transfer"):
    return post_prepayment(
        customer_id=customer.pk,
        amount=Money(Decimal(amount), currency),
        method=method,
        reference=f"top-{next(_refs)}",
        on=on,
    )


def contract_for(customer, currency: str = "CNY"):
    """A signed contract whose service starts long after the book's dates, so the
    billing that signing starts bills nothing of its own."""
    return make_contract(
        customer=customer,
        currency=currency,
        service_start=dt.date(2035, 1, 1),
        signed_on=dt.date(2026, 1, 1),
    )


def customer(currency: str = "CNY"):
    return CustomerFactory(currency=currency)
