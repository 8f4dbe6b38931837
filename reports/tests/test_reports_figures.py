"""Each report on a small book whose every figure is known in advance.

The book (as of 2026-06-30):

- A (CNY): 1000 due 06-30 unpaid (current); 2000 due 06-10, 500 paid 06-15
  (1-30 days); 3000 due 04-15 unpaid (61-90); 400 due 03-01 paid 02-25 (on time);
  700 due 05-20 paid 05-25 and that payment reversed 06-01 (31-60).
- B (CNY): 600 due 06-01 written off 06-20; 250 prepaid 06-05.
- C (USD): 100 due 06-25 paid 06-20 by alipay (on time); 50 due 01-01 unpaid (90+).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from djmoney.money import Money

from payments.models import PaymentAttempt
from reports.registry import REPORTS, ReportFilters

from .books import charge, contract_for, customer, pay, prepay, reverse, write_off

pytestmark = pytest.mark.django_db

END = dt.date(2026, 6, 30)
D = Decimal


@pytest.fixture
def book():
    a, b, c = customer(), customer(), customer("USD")
    ca, cb, cc = contract_for(a), contract_for(b), contract_for(c, "USD")
    charge(ca, "1000.00", dt.date(2026, 6, 30))
    a2 = charge(ca, "2000.00", dt.date(2026, 6, 10))
    pay(a2, "500.00", dt.date(2026, 6, 15))
    charge(ca, "3000.00", dt.date(2026, 4, 15))
    a4 = charge(ca, "400.00", dt.date(2026, 3, 1), status="paid")
    pay(a4, "400.00", dt.date(2026, 2, 25))
    a5 = charge(ca, "700.00", dt.date(2026, 5, 20))
    reverse(pay(a5, "700.00", dt.date(2026, 5, 25)), dt.date(2026, 6, 1))
    b1 = charge(cb, "600.00", dt.date(2026, 6, 1), status="written_off")
    write_off(b1, "600.00", dt.date(2026, 6, 20))
    prepay(b, "250.00", "CNY", dt.date(2026, 6, 5))
    c1 = charge(cc, "100.00", dt.date(2026, 6, 25), status="paid")
    pay(c1, "100.00", dt.date(2026, 6, 20), method="alipay")
    charge(cc, "50.00", dt.date(2026, 1, 1))
    return {"a": a, "b": b, "c": c, "a2": a2}


def rows(name, **filters):
    return REPORTS[name].run(ReportFilters(**filters)).rows


def test_aging_splits_what_is_owed_by_days_past_due(book):
    assert rows("aging", date_to=END) == [
        {
            "currency": "CNY",
            "current": D("1000.00"),
            "days_1_30": D("1500.00"),
            "days_31_60": D("700.00"),
            "days_61_90": D("3000.00"),
            "days_over_90": D("0.00"),
            "total": D("6200.00"),
        },
        {
            "currency": "USD",
            "current": D("0.00"),
            "days_1_30": D("0.00"),
            "days_31_60": D("0.00"),
            "days_61_90": D("0.00"),
            "days_over_90": D("50.00"),
            "total": D("50.00"),
        },
    ]


def test_aging_on_an_earlier_date_sees_the_book_as_it_was(book):
    # on 05-31 the 700 was still paid (reversed 06-01) and June's charges not yet due
    (cny,) = rows("aging", date_to=dt.date(2026, 5, 31), currency="CNY")
    assert cny["total"] == D("3000.00")
    assert cny["days_31_60"] == D("3000.00")  # due 04-15: 46 days


def test_customer_status_per_customer_and_currency(book):
    by_customer = {row["customer_id"]: row for row in rows("customer-status", date_to=END)}
    a, b, c = by_customer[book["a"].pk], by_customer[book["b"].pk], by_customer[book["c"].pk]
    assert (a["currency"], a["billed"], a["paid"], a["outstanding"], a["overdue"]) == (
        "CNY",
        D("7100.00"),
        D("900.00"),  # the reversed 700 is not paid
        D("6200.00"),
        D("5200.00"),
    )
    assert a["last_payment_on"] == dt.date(2026, 6, 15)
    assert (a["charges_due"], a["on_time_rate"]) == (5, D("0.2000"))
    assert (b["billed"], b["paid"], b["outstanding"], b["prepaid"], b["deposit"]) == (
        D("600.00"),
        D("0.00"),  # a write-off is not a payment
        D("0.00"),
        D("250.00"),
        D("0.00"),
    )
    assert (b["last_payment_on"], b["on_time_rate"]) == (dt.date(2026, 6, 5), D("0"))
    assert (c["currency"], c["billed"], c["paid"], c["outstanding"], c["overdue"]) == (
        "USD",
        D("150.00"),
        D("100.00"),
        D("50.00"),
        D("50.00"),
    )
    assert c["on_time_rate"] == D("0.5000")


def test_customer_status_counts_flows_in_the_range_and_balances_at_its_end(book):
    (a,) = rows(
        "customer-status",
        date_from=dt.date(2026, 6, 1),
        date_to=END,
        customer_id=book["a"].pk,
    )
    # June: 1000 and 2000 billed; 500 paid and the May payment of 700 reversed
    assert (a["billed"], a["paid"], a["outstanding"]) == (
        D("3000.00"),
        D("-200.00"),
        D("6200.00"),
    )
    assert a["charges_due"] == 2


def test_filters_never_mix_currencies(book):
    usd = rows("customer-status", date_to=END, currency="USD")
    assert [row["customer_id"] for row in usd] == [book["c"].pk]
    assert {row["currency"] for row in rows("collections", currency="USD")} == {"USD"}
    assert {row["currency"] for row in rows("income", currency="CNY")} == {"CNY"}
    assert rows("balances", currency="USD") == []


def test_collections_by_method_and_month_net_of_reversals(book):
    got = {
        (row["currency"], row["month"], row["method"]): (row["amount"], row["count"])
        for row in rows("collections")
    }
    assert got == {
        ("CNY", dt.date(2026, 2, 1), "bank_transfer"): (D("400.00"), 1),
        ("CNY", dt.date(2026, 5, 1), "bank_transfer"): (D("700.00"), 1),
        # 500 paid and 250 prepaid, less the 700 reversed
        ("CNY", dt.date(2026, 6, 1), "bank_transfer"): (D("50.00"), 1),
        ("USD", dt.date(2026, 6, 1), "alipay"): (D("100.00"), 1),
    }
    only_b = rows("collections", customer_id=book["b"].pk)
    assert [(r["month"], r["amount"]) for r in only_b] == [(dt.date(2026, 6, 1), D("250.00"))]
    june = rows("collections", date_from=dt.date(2026, 6, 1), currency="CNY")
    assert [r["amount"] for r in june] == [D("50.00")]


def test_income_by_month_and_fee_kind(book):
    got = {(r["currency"], r["month"]): r["income"] for r in rows("income")}
    assert got == {
        ("CNY", dt.date(2026, 3, 1)): D("400.00"),
        ("CNY", dt.date(2026, 4, 1)): D("3000.00"),
        ("CNY", dt.date(2026, 5, 1)): D("700.00"),
        ("CNY", dt.date(2026, 6, 1)): D("3600.00"),
        ("USD", dt.date(2026, 1, 1)): D("50.00"),
        ("USD", dt.date(2026, 6, 1)): D("100.00"),
    }
    assert {r["fee_kind_code"] for r in rows("income")} == {"recurring"}
    assert {str(r["fee_kind"]) for r in rows("income")} == {"Recurring fee"}
    only_c = rows("income", customer_id=book["c"].pk)
    assert {r["currency"] for r in only_c} == {"USD"}


def test_balances_per_customer_with_a_total_per_currency(book):
    got = rows("balances", date_to=END)
    assert [(r["currency"], r["customer_id"], r["prepaid"], r["is_total"]) for r in got] == [
        ("CNY", book["b"].pk, D("250.00"), False),
        ("CNY", None, D("250.00"), True),
    ]
    assert rows("balances", date_to=dt.date(2026, 6, 4)) == []


def test_failed_rate_counts_declines_and_returns(book):
    moment = dt.datetime(2026, 6, 10, 10, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        for number, status in enumerate(["succeeded", "failed", "returned", "pending"], 1):
            PaymentAttempt.objects.create(
                charge=book["a2"],
                number=number,
                idempotency_key=f"k{number}",
                method="bank_transfer",
                amount=Money(D("2000.00"), "CNY"),
                status=status,
            )
    (row,) = rows("failed-rate")
    assert (row["currency"], row["month"], row["method"]) == (
        "CNY",
        dt.date(2026, 6, 1),
        "bank_transfer",
    )
    assert (row["attempts"], row["failed"], row["rate"]) == (3, 2, D("0.6667"))
    assert rows("failed-rate", date_from=dt.date(2026, 7, 1)) == []
    assert rows("failed-rate", customer_id=book["b"].pk) == []


def test_reconciliation_lists_runs_overlapping_the_range(django_user_model):
    from reconciliation.models import BankAccount, ReconciliationRun

    preparer = django_user_model.objects.create_user("preparer")
    checker = django_user_model.objects.create_user("checker")
    account = BankAccount.objects.create(code="icbc-main", name="ICBC", currency="CNY")
    signed = dt.datetime(2026, 6, 1, 17, 30, tzinfo=dt.UTC)  # 06-02 01:30 in Shanghai
    for start, end, status in [
        (dt.date(2026, 4, 1), dt.date(2026, 4, 30), "signed_off"),
        (dt.date(2026, 5, 1), dt.date(2026, 5, 31), "prepared"),
    ]:
        ReconciliationRun.objects.create(
            account=account,
            period_start=start,
            period_end=end,
            status=status,
            currency="CNY",
            statement_total=D("1000.50"),
            ledger_total=D("1000.00"),
            difference=D("0.50"),
            open_discrepancies=1,
            prepared_by=preparer,
            prepared_at=signed,
            signed_off_by=checker if status == "signed_off" else None,
            signed_off_at=signed if status == "signed_off" else None,
        )
    got = rows("reconciliation", date_from=dt.date(2026, 5, 15))
    assert len(got) == 1
    assert (got[0]["account"], got[0]["difference"], got[0]["open_discrepancies"]) == (
        "icbc-main",
        D("0.50"),
        1,
    )
    april = rows("reconciliation", date_to=dt.date(2026, 4, 30))[0]
    assert (april["prepared_by"], april["signed_off_by"]) == ("preparer", "checker")
    assert april["signed_off_at"] == dt.date(2026, 6, 2)
    assert str(april["status"]) == "Signed off"
    assert rows("reconciliation", currency="USD") == []


def small_book(customers: int) -> None:
    for n in range(customers):
        currency = "USD" if n % 3 == 2 else "CNY"
        c = customer(currency)
        made = charge(contract_for(c, currency), "300.00", dt.date(2026, 5, 1))
        entry = pay(made, "100.00", dt.date(2026, 5, 2), method="alipay" if n % 2 else "wechat_pay")
        if n % 4 == 0:
            reverse(entry, dt.date(2026, 5, 3))
        prepay(c, "10.00", currency, dt.date(2026, 5, 4))
        PaymentAttempt.objects.create(
            charge=made,
            number=1,
            idempotency_key=f"q{made.pk}",
            method="alipay",
            amount=Money(D("300.00"), currency),
            status="failed",
        )


@pytest.mark.parametrize("name", list(REPORTS))
def test_queries_do_not_grow_with_rows(name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    report = REPORTS[name]
    counts = []
    for customers in (3, 30):
        small_book(customers)
        with CaptureQueriesContext(connection) as queries:
            built = report.run(ReportFilters())
        counts.append(len(queries))
        if name not in ("reconciliation",):
            assert built.rows, name
    assert counts[0] == counts[1] <= 3, counts
