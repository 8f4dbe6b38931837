"""Billing books what it charges: every fee-type charge is a receivable in the
ledger from the moment it exists, and a termination's cuts are booked too."""

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Charge
from billing.services import billing_run
from contracts.services import FeeInput, contract_terminate
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry
from ledger.selectors import balances_for_customer, unbalanced_entries
from tests.clock import at

pytestmark = pytest.mark.django_db


def receivable(customer, currency="CNY") -> Decimal:
    balances = balances_for_customer(customer_id=customer.pk, currency=currency)
    return balances[AccountPurpose.RECEIVABLE].amount


def pending_fee_total(customer) -> Decimal:
    return sum(
        (
            c.amount.amount
            for c in Charge.objects.filter(contract__customer=customer, status="pending")
            if not (c.kind == "signing" and c.fee.treatment != "fee")
        ),
        Decimal(0),
    )


def test_each_billed_charge_is_a_receivable_once():
    customer = CustomerFactory()
    with at(dt.date(2026, 1, 1)):
        make_contract(
            customer=customer,
            service_start=dt.date(2026, 1, 15),
            fees=[
                FeeInput(kind="signing", amount="500.00", treatment="fee"),
                FeeInput(kind="signing", amount="9000.00", treatment="deposit"),
                FeeInput(kind="signing", amount="2000.00", treatment="prepayment"),
                monthly("3100.00"),
            ],
            signed_on=dt.date(2026, 1, 1),
        )
    billing_run(on=dt.date(2026, 3, 1))
    billing_run(on=dt.date(2026, 3, 1))  # again: nothing new, nothing booked twice

    charges = Charge.objects.filter(contract__customer=customer)
    booked = JournalEntry.objects.filter(kind=EntryKind.CHARGE)
    # the fee-treated signing fee and three monthly charges; deposit and prepayment
    # are booked when collected, not when billed
    assert charges.count() == 6
    assert sorted(booked.values_list("subject", flat=True)) == sorted(
        f"charge:{c.pk}" for c in charges if not (c.kind == "signing" and c.fee.treatment != "fee")
    )
    # 500 + 3100 × 17/31 + 3100 + 3100
    assert receivable(customer) == Decimal("8400.00") == pending_fee_total(customer)
    assert unbalanced_entries() == []


def test_termination_reverses_cancelled_charges_and_rebooks_the_cut_one():
    customer = CustomerFactory()
    with at(dt.date(2026, 1, 1)):
        contract = make_contract(
            customer=customer,
            service_start=dt.date(2026, 1, 1),
            fees=[FeeInput(kind="recurring", cycle="quarterly", amount="9100.00")],
            signed_on=dt.date(2026, 1, 1),
        )
    billing_run(on=dt.date(2026, 4, 1))
    assert receivable(customer) == Decimal("18200.00")
    with at(dt.date(2026, 2, 15)):
        contract_terminate(contract=contract, end_date=dt.date(2026, 2, 19))
    # Q1 cut to Jan 1 – Feb 19: 50 of 90 days, 9100 × 50/90 = 5055.56; Q2 cancelled
    assert receivable(customer) == Decimal("5055.56") == pending_fee_total(customer)
    kinds = sorted(JournalEntry.objects.values_list("kind", "reference"))
    q1, q2 = Charge.objects.filter(contract=contract).order_by("period_start")
    assert kinds == sorted(
        [
            (EntryKind.CHARGE, f"charge:{q1.pk}"),
            (EntryKind.CHARGE, f"charge:{q2.pk}"),
            (EntryKind.REVERSAL, f"charge:{q1.pk}:cancel"),
            (EntryKind.CHARGE, f"charge:{q1.pk}:v2"),
            (EntryKind.REVERSAL, f"charge:{q2.pk}:cancel"),
        ]
    )
    assert unbalanced_entries() == []
