"""Factories for customers and contracts. Contracts are built through the
services, so tests exercise the same rules integrators hit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import factory
from factory.django import DjangoModelFactory

from contracts.models import Contract, Customer
from contracts.services import FeeInput, contract_create, contract_sign


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"C{n:06d}")
    name = factory.Sequence(lambda n: f"客户 {n}")
    email = factory.Sequence(lambda n: f"finance{n}@example.com")
    currency = "CNY"


_numbers = iter(range(1, 10**9))


def monthly(amount="3000.00") -> FeeInput:
    return FeeInput(kind="recurring", cycle="monthly", amount=amount)


def make_contract(
    *,
    customer: Customer | None = None,
    number: str | None = None,
    service_start: dt.date = dt.date(2026, 1, 1),
    service_end: dt.date | None = None,
    alignment: str = "calendar",
    proration: str = "daily",
    payment_method: str = "bank_transfer",
    currency: str | None = None,
    fees: Sequence[FeeInput] | None = None,
    signed_on: dt.date | None = None,
) -> Contract:
    """A draft contract (signed too when ``signed_on`` is given)."""
    contract = contract_create(
        customer=customer or CustomerFactory(),
        number=number or f"HT-{next(_numbers):07d}",
        currency=currency,
        service_start=service_start,
        service_end=service_end,
        alignment=alignment,
        proration=proration,
        payment_method=payment_method,
        fees=list(fees) if fees is not None else [monthly()],
    )
    if signed_on is not None:
        contract = contract_sign(contract=contract, signed_on=signed_on)
    return contract
