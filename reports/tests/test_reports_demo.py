"""On the demo book every report agrees with the ledger to the cent, per currency."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from djmoney.money import Money

from feemgmt.core.exceptions import BusinessError
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry, JournalLine
from ledger.postings import post_charge_cancellation, post_reversal, post_write_off
from reports.registry import REPORTS, ReportFilters

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    moment = dt.datetime(2026, 11, 28, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(moment, tick=False):
        call_command(
            "demo_data",
            "--contracts",
            "80",
            "--seed",
            "1",
            "--today",
            TODAY.isoformat(),
            stdout=StringIO(),
            stderr=StringIO(),
        )
        _unusual_movements()
        yield


def _first_that_posts(candidates, post) -> None:
    """Post on the first candidate the ledger's rules accept."""
    for candidate in candidates:
        try:
            with transaction.atomic():
                post(candidate)
        except BusinessError:
            continue
        return
    raise AssertionError("no candidate accepted")


def _unusual_movements() -> None:
    """What the demo leaves out but the books hold: a reversed payment, a write-off
    and a cancelled charge, so a report that ignored any of them would differ."""
    receivable = AccountPurpose.RECEIVABLE
    payments = JournalEntry.objects.filter(
        kind=EntryKind.PAYMENT, lines__account__purpose=receivable
    ).order_by("id")[:20]
    _first_that_posts(
        payments,
        lambda entry: post_reversal(entry=entry, on=TODAY, reference=f"test-rev-{entry.pk}"),
    )
    open_lines = (
        JournalLine.objects.filter(account__purpose=receivable)
        .values("entry__subject", "account__customer_id", "account__currency")
        .annotate(left=Sum("amount"))
        .filter(left__gt=0)
        .order_by("entry__subject")
    )
    opens = list(open_lines[:40])
    _first_that_posts(
        opens[:20],
        lambda row: post_write_off(
            customer_id=row["account__customer_id"],
            amount=Money(row["left"], row["account__currency"]),
            charge_id=int(row["entry__subject"].split(":")[1]),
            on=TODAY,
        ),
    )
    _first_that_posts(
        opens[20:],
        lambda row: post_charge_cancellation(
            charge_id=int(row["entry__subject"].split(":")[1]), on=TODAY
        ),
    )


def ledger_balance(purpose: str, *, on: dt.date = TODAY) -> dict[str, Decimal]:
    """Signed balance per currency of every account with this purpose."""
    rows = (
        JournalLine.objects.filter(account__purpose=purpose, entry__effective_on__lte=on)
        .values_list("account__currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {currency: total for currency, total in rows if total}


def per_currency(rows, key, *, skip_totals=False) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if skip_totals and row.get("is_total"):
            continue
        sums[row["currency"]] += row[key]
    return {currency: total for currency, total in sums.items() if total}


def run(name, **filters):
    return REPORTS[name].run(ReportFilters(**filters)).rows


def test_receivables_reports_equal_the_receivable_accounts(demo):
    receivable = ledger_balance(AccountPurpose.RECEIVABLE)
    assert receivable, "the demo leaves something owed"
    status = run("customer-status", date_to=TODAY)
    assert per_currency(status, "outstanding") == receivable
    aging = run("aging", date_to=TODAY)
    assert per_currency(aging, "total") == receivable
    for row in aging:
        buckets = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
        assert sum(row[key] for key in buckets) == row["total"]
    overdue = per_currency(status, "overdue")
    assert {
        c: sum(r[k] for k in ("days_1_30", "days_31_60", "days_61_90", "days_over_90"))
        for r in aging
        for c in [r["currency"]]
        if r["total"] - r["current"]
    } == overdue


def test_balances_equal_the_prepaid_and_deposit_accounts(demo):
    rows = run("balances", date_to=TODAY)
    prepaid = {c: -v for c, v in ledger_balance(AccountPurpose.PREPAID).items()}
    deposit = {c: -v for c, v in ledger_balance(AccountPurpose.DEPOSIT_HELD).items()}
    assert per_currency(rows, "prepaid", skip_totals=True) == prepaid
    assert per_currency(rows, "deposit", skip_totals=True) == deposit
    totals = [row for row in rows if row["is_total"]]
    assert {row["currency"]: row["prepaid"] for row in totals if row["prepaid"]} == prepaid
    status = run("customer-status", date_to=TODAY)
    assert per_currency(status, "prepaid") == prepaid
    assert per_currency(status, "deposit") == deposit


def monthly_movement(purpose: str, kinds, sign: int) -> dict[tuple[str, dt.date], Decimal]:
    """The account movement per currency and month, reversals of those kinds included."""
    lines = JournalLine.objects.filter(account__purpose=purpose)
    if kinds is not None:
        lines = lines.filter(entry__kind__in=kinds) | lines.filter(
            entry__kind=EntryKind.REVERSAL, entry__reverses__kind__in=kinds
        )
    sums: dict[tuple[str, dt.date], Decimal] = defaultdict(Decimal)
    for currency, on, amount in lines.values_list(
        "account__currency", "entry__effective_on", "amount"
    ):
        sums[(currency, on.replace(day=1))] += sign * amount
    return {key: total for key, total in sums.items() if total}


def by_month(rows, key) -> dict[tuple[str, dt.date], Decimal]:
    sums: dict[tuple[str, dt.date], Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[(row["currency"], row["month"])] += row[key]
    return {k: v for k, v in sums.items() if v}


def test_collections_equal_the_payments_into_clearing(demo):
    expected = monthly_movement(
        AccountPurpose.CLEARING, [EntryKind.PAYMENT, EntryKind.PREPAYMENT], +1
    )
    assert expected
    assert by_month(run("collections"), "amount") == expected


def test_income_equals_the_fee_income_account_per_month(demo):
    expected = monthly_movement(AccountPurpose.FEE_INCOME, None, -1)
    assert expected
    rows = run("income")
    assert by_month(rows, "income") == expected
    assert {row["fee_kind_code"] for row in rows} <= {"signing", "service_start", "recurring"}


def test_the_demo_has_what_a_report_could_drop(demo):
    """The equalities above prove something only if the book holds reversals,
    write-offs and prepaid money: a report that ignored them would then differ."""
    kinds = set(JournalEntry.objects.values_list("kind", flat=True).distinct())
    reversed_kinds = set(
        JournalEntry.objects.filter(kind=EntryKind.REVERSAL)
        .values_list("reverses__kind", flat=True)
        .distinct()
    )
    assert {EntryKind.REVERSAL, EntryKind.WRITE_OFF, EntryKind.PREPAYMENT} <= kinds
    assert {EntryKind.PAYMENT, EntryKind.CHARGE} <= reversed_kinds


def test_every_report_builds_on_the_demo(demo):
    for report in REPORTS.values():
        rows = report.run(ReportFilters(date_to=TODAY)).rows
        for row in rows:
            assert set(row) >= {column.key for column in report.columns}
