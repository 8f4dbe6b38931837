"""For any book a customer may have, the statement of any period equals the
ledger: its opening and closing balances are the customer's accounts' sums on
those days, and opening + charges − payments + refunds − write-offs = closing,
with each line's running balance leading to it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

import pytest
from django.db.models import Sum
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents.statements import statement_for_customer
from feemgmt.core.money import money_from_db
from ledger.models import JournalLine
from ledger.postings import post_refund
from reports.tests.books import charge, contract_for, customer, pay, prepay, reverse, write_off

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 1)
_refs = count(1)

days = st.integers(min_value=0, max_value=90)
cents = st.integers(min_value=1, max_value=500_000)
fates = st.sampled_from(["unpaid", "paid", "part_written_off", "refunded", "bounced"])
charges = st.lists(st.tuples(cents, days, fates, days), min_size=0, max_size=6)
top_ups = st.lists(st.tuples(cents, days), max_size=2)


def on(day: int) -> dt.date:
    return START + dt.timedelta(days=day)


def money(amount_cents: int) -> str:
    return str(Decimal(amount_cents) / 100)


def build(who, plan, prepaid):
    contract = contract_for(who)
    for amount, due, fate, later in plan:
        made = charge(contract, money(amount), on(due))
        paid_on = on(due + later // 3)
        if fate == "paid":
            pay(made, money(amount), paid_on)
        elif fate == "part_written_off":
            half = amount // 2
            if half:
                pay(made, money(half), paid_on)
            write_off(made, money(amount - half), on(due + later))
        elif fate == "refunded":
            pay(made, money(amount), paid_on, method="alipay")
            post_refund(
                customer_id=who.pk,
                amount=Money(Decimal(money(max(amount // 4, 1))), "CNY"),
                method="alipay",
                reference=f"refund-{next(_refs)}",
                charge_id=made.pk,
                on=on(due + later),
            )
        elif fate == "bounced":
            reverse(pay(made, money(amount), paid_on), on(due + later))
    for amount, day in prepaid:
        prepay(who, money(amount), "CNY", on(day))


def ledger_sum(who, **dates) -> Decimal:
    lines = JournalLine.objects.filter(account__customer=who, account__currency="CNY")
    if "before" in dates:
        lines = lines.filter(entry__effective_on__lt=dates["before"])
    if "upto" in dates:
        lines = lines.filter(entry__effective_on__lte=dates["upto"])
    return money_from_db(lines.aggregate(total=Sum("amount"))["total"], "CNY").amount


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=charges, prepaid=top_ups, first=days, length=st.integers(0, 120))
def test_any_statement_equals_the_ledger(plan, prepaid, first, length):
    who = customer()
    build(who, plan, prepaid)
    date_from, date_to = on(first), on(first + length)

    statement = statement_for_customer(customer=who, date_from=date_from, date_to=date_to)

    opening = ledger_sum(who, before=date_from)
    closing = ledger_sum(who, upto=date_to)
    sections = {section.currency: section for section in statement.sections}
    if not sections:
        assert opening == closing == 0
        return
    cny = sections["CNY"]
    assert cny.opening.amount == opening
    assert cny.closing.amount == closing
    assert (
        cny.opening + cny.charges - cny.payments + cny.refunds - cny.write_offs + cny.adjustments
        == cny.closing
    )
    assert cny.adjustments.amount == 0
    if cny.lines:
        assert cny.lines[-1].balance == cny.closing
    assert all(date_from <= line.on <= date_to for line in cny.lines)
    assert cny.receivable.amount >= 0 and cny.prepaid.amount >= 0
