"""Charges ready to collect, for the payments tests."""

from __future__ import annotations

import datetime as dt

from billing.models import Charge
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from tests.clock import at

DAY = dt.date(2026, 3, 2)


def billed_charge(
    amount: str = "3000.00", *, method: str = "sandbox", day: dt.date = DAY, customer=None
) -> Charge:
    """A monthly contract starting on ``day``, signed that day: its first charge is
    due and pending."""
    with at(day):
        contract = make_contract(
            customer=customer or CustomerFactory(),
            service_start=day,
            signed_on=day,
            alignment="anniversary",
            payment_method=method,
            fees=[monthly(amount)],
        )
    return Charge.objects.get(contract=contract)
