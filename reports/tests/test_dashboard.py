"""The admin home a finance team opens every morning: today's figures per currency,
the week's deductions, the open alerts and the last reconciliations, each linked
to the list behind it; in a few queries whatever the size of the book, and only
the tiles the user may see."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from alerts.choices import AlertKind, AlertStatus, Severity
from alerts.models import Alert
from billing.choices import ChargeStatus
from billing.models import Charge
from billing.services import billing_run
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from payments.models import PaymentAttempt
from payments.services.collection import charge_collect, collectable_charge_ids
from reconciliation.choices import RunStatus
from reconciliation.models import BankAccount, ReconciliationRun
from reports import dashboard
from tests.clock import at

pytestmark = pytest.mark.django_db

# The first of the month: the month's fees fall due and are collected today.
TODAY = dt.date(2026, 3, 1)
BOOK_START = dt.date(2026, 1, 1)


# --- A small book, run through the real billing and collection ------------------


def demo_book(
    *, today: dt.date = TODAY, start: dt.date = BOOK_START, user=None, accounts: bool = True
) -> dict:
    """A few customers billed monthly in CNY and USD since ``start``, collected
    day by day through the sandbox gateway (amounts ending in .51 are declined,
    so those charges fail, are retried and end overdue), an account with a signed
    reconciliation run and a few alerts. Returns what the tests look up."""
    customers = {
        "good_cny": ("华东物业管理有限公司", "CNY", "3000.00", "alipay"),
        "late_cny": ("上海示例贸易有限公司", "CNY", "2500.51", "wechat_pay"),
        "good_usd": ("Pacific Trading Ltd.", "USD", "1200.00", "sandbox"),
        "late_usd": ("Harbour Logistics Ltd.", "USD", "800.51", "alipay"),
        "new_cny": ("北京示例科技有限公司", "CNY", "4200.00", "wechat_pay"),
    }
    made = {}
    with at(start, hour=9):
        for key, (name, currency, amount, method) in customers.items():
            customer = CustomerFactory(name=name, currency=currency)
            made[key] = make_contract(
                customer=customer,
                currency=currency,
                payment_method=method,
                service_start=start,
                fees=[monthly(amount)],
                signed_on=start,
            )
    day = start
    while day <= today:
        with at(day, hour=8):
            billing_run(on=day)
            for charge_id in collectable_charge_ids(on=day):
                charge_collect(charge_id, on=day)
        day += dt.timedelta(days=1)
    if not accounts:
        return made
    account = BankAccount.objects.create(
        code="icbc-cny",
        name="工商银行基本户",
        bank="中国工商银行上海分行",
        account_number="6222020200112233445",
        holder="上海示例管理有限公司",
        currency="CNY",
        receives_transfers=True,
    )
    BankAccount.objects.create(
        code="hsbc-usd",
        name="汇丰美元户",
        bank="HSBC Hong Kong",
        account_number="400123456838",
        holder="Example Management Ltd.",
        currency="USD",
    )
    if user is not None:
        from django.contrib.auth import get_user_model

        checker = get_user_model().objects.create_user("checker", password="x", is_staff=True)
        for month_start, status in ((dt.date(2026, 1, 1), RunStatus.SIGNED_OFF),):
            ReconciliationRun.objects.create(
                account=account,
                period_start=month_start,
                period_end=dt.date(2026, 1, 31),
                status=status,
                currency="CNY",
                statement_total=Decimal("3000.00"),
                ledger_total=Decimal("3000.00"),
                difference=Decimal("0.00"),
                prepared_by=user,
                prepared_at=dt.datetime(
                    2026, 2, 3, 10, tzinfo=dashboard.day_bounds(today)[0].tzinfo
                ),
                signed_off_by=checker,
                signed_off_at=dt.datetime(
                    2026, 2, 4, 10, tzinfo=dashboard.day_bounds(today)[0].tzinfo
                ),
            )
        made["run"] = ReconciliationRun.objects.get(account=account)
    made["account"] = account
    return made


def raise_alerts(customer, *, on: dt.date = TODAY) -> list[Alert]:
    """Alerts of each severity and status about ``customer``, raised early on ``on``."""
    rows = (
        (AlertKind.FAILED_DEDUCTIONS, Severity.CRITICAL, AlertStatus.OPEN, "连续扣款失败"),
        (AlertKind.OVERDUE_LONG, Severity.WARNING, AlertStatus.ACKNOWLEDGED, "逾期"),
        (AlertKind.PREPAID_LOW, Severity.INFO, AlertStatus.SNOOZED, "预付余额不足"),
        (AlertKind.MANDATE_EXPIRING, Severity.WARNING, AlertStatus.RESOLVED, "已处理"),
    )
    with at(on, hour=7):
        return [
            Alert.objects.create(
                kind=kind,
                severity=severity,
                subject=f"customer:{customer.pk}:{kind}",
                customer=customer,
                message=message,
                status=status,
                snoozed_until=on + dt.timedelta(days=7) if status == AlertStatus.SNOOZED else None,
            )
            for kind, severity, status, message in rows
        ]


@pytest.fixture
def finance(django_user_model):
    return django_user_model.objects.create_superuser("finance", "f@example.com", "pw")


@pytest.fixture
def book(finance):
    made = demo_book(user=finance)
    made["alerts"] = raise_alerts(made["late_cny"].customer)
    return made


def home(client, user):
    client.force_login(user)
    with at(TODAY, hour=9):
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response


def figure(html: str, testid: str) -> tuple[str, str]:
    """The count and amount a figure of the today tile shows, and its link."""
    match = re.search(
        rf'<a href="([^"]+)"[^>]*data-testid="{re.escape(testid)}">\s*'
        r"<span[^>]*>(\d+)</span>\s*<span[^>]*>([^<]+)</span>",
        html,
    )
    assert match, f"no figure {testid}"
    return match.group(2), match.group(3).strip(), unescape(match.group(1))


def listed(client, url: str) -> int:
    """How many rows the admin list behind a figure's link shows."""
    with at(TODAY, hour=9):
        response = client.get(url)
    assert response.status_code == 200, url
    changelist = response.context["cl"]
    # a parameter the list does not know sends Django's admin to ?e=1, unfiltered
    assert "e" not in parse_qs(urlparse(response.wsgi_request.get_full_path()).query)
    return changelist.result_count


def test_today_shows_due_collected_failed_and_overdue_per_currency(client, finance, book):
    html = home(client, finance).content.decode()
    assert figure(html, "today-due-CNY")[:2] == ("3", "9,700.51 CNY")
    assert figure(html, "today-collected-CNY")[:2] == ("2", "7,200.00 CNY")
    assert figure(html, "today-failed-CNY")[:2] == ("1", "2,500.51 CNY")
    # January's and February's declined charges, their retries spent
    assert figure(html, "today-overdue-CNY")[:2] == ("2", "5,001.02 CNY")
    assert figure(html, "today-due-USD")[:2] == ("2", "2,000.51 USD")
    assert figure(html, "today-collected-USD")[:2] == ("1", "1,200.00 USD")
    assert figure(html, "today-failed-USD")[:2] == ("1", "800.51 USD")
    assert figure(html, "today-overdue-USD")[:2] == ("2", "1,601.02 USD")


def test_every_today_figure_links_to_the_list_of_its_rows(client, finance, book):
    html = home(client, finance).content.decode()
    for currency in ("CNY", "USD"):
        for key in ("due", "collected", "failed", "overdue"):
            count, _amount, url = figure(html, f"today-{key}-{currency}")
            assert listed(client, url) == int(count), (key, currency, url)


def test_yesterdays_outcomes_are_not_today(client, finance, book):
    """A deduction decided late on the last day (Shanghai time) is not today's."""
    charge = Charge.objects.filter(amount_currency="CNY", status=ChargeStatus.PAID).first()
    PaymentAttempt.objects.filter(charge=charge).update(
        decided_at=dashboard.day_bounds(TODAY)[0] - dt.timedelta(minutes=1)
    )
    figures = dashboard.attempts_today(TODAY)
    assert figures["CNY"]["collected"].count == (1 if charge.due_date == TODAY else 2)


def test_the_next_seven_days_of_deductions_by_day_and_currency(client, finance, book):
    extra = Charge.objects.filter(amount_currency="CNY", status=ChargeStatus.PAID).first()
    Charge.objects.filter(pk=extra.pk).update(
        status=ChargeStatus.PENDING, next_attempt_on=TODAY + dt.timedelta(days=7)
    )
    Charge.objects.filter(pk=Charge.objects.filter(status=ChargeStatus.PAID).last().pk).update(
        status=ChargeStatus.PENDING, next_attempt_on=TODAY + dt.timedelta(days=8)
    )
    rows = dashboard.upcoming_deductions(TODAY)
    assert [
        (r["day"], r["currency"], r["figure"].count, str(r["figure"].amount.amount)) for r in rows
    ] == [
        (dt.date(2026, 3, 2), "CNY", 1, "2500.51"),
        (dt.date(2026, 3, 2), "USD", 1, "800.51"),
        (dt.date(2026, 3, 8), "CNY", 1, str(extra.amount.amount)),
    ]
    html = home(client, finance).content.decode()
    match = re.search(
        r'<a href="([^"]+)"[^>]*data-testid="upcoming-2026-03-02-USD">(\d+)</a>', html
    )
    assert match and match.group(2) == "1"
    assert listed(client, unescape(match.group(1))) == 1
    assert 'data-testid="upcoming-2026-03-10' not in html  # the 9th is past the week


def test_open_alerts_by_severity_count_snoozed_ones_and_not_resolved(client, finance, book):
    html = home(client, finance).content.decode()
    tile = html[html.index('data-testid="tile-alerts"') :]
    # collection raised its own warnings for the overdue charges; the one info
    # alert is snoozed, and still counts
    expected = {
        severity: Alert.objects.filter(severity=severity)
        .exclude(status=AlertStatus.RESOLVED)
        .count()
        for severity in ("critical", "warning", "info")
    }
    assert expected["info"] == 1 and expected["critical"] == 1
    for severity, count in expected.items():
        match = re.search(
            rf'<a href="([^"]+)"[^>]*data-testid="alerts-{severity}">\s*<span[^>]*>(\d+)</span>',
            tile,
        )
        assert match and match.group(2) == str(count), severity
        assert listed(client, unescape(match.group(1))) == count
    newest = [a for a in book["alerts"] if a.status != AlertStatus.RESOLVED]
    for alert in newest:
        assert reverse("admin:alerts_alert_change", args=[alert.pk]) in tile
    resolved = next(a for a in book["alerts"] if a.status == AlertStatus.RESOLVED)
    assert reverse("admin:alerts_alert_change", args=[resolved.pk]) not in tile


def test_last_reconciliation_per_account(client, finance, book):
    later = ReconciliationRun.objects.create(
        account=book["account"],
        period_start=dt.date(2026, 2, 1),
        period_end=dt.date(2026, 2, 28),
        status=RunStatus.PREPARED,
        currency="CNY",
        statement_total=Decimal("3000.00"),
        ledger_total=Decimal("5500.51"),
        difference=Decimal("-2500.51"),
        open_discrepancies=1,
        prepared_by=finance,
        prepared_at=dashboard.day_bounds(TODAY)[0],
    )
    html = home(client, finance).content.decode()
    tile = html[html.index('data-testid="tile-reconciliation"') :]
    assert reverse("admin:reconciliation_reconciliationrun_change", args=[later.pk]) in tile
    assert (
        reverse("admin:reconciliation_reconciliationrun_change", args=[book["run"].pk]) not in tile
    )
    assert "Prepared, awaiting sign-off" in tile and "-2500.51 CNY" in tile
    usd = BankAccount.objects.get(code="hsbc-usd")
    assert "Never reconciled" in tile
    assert f"account__id__exact={usd.pk}" in tile


def count_queries(client, user) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    with at(TODAY, hour=9), CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:index")).status_code == 200
    return len(queries)


def test_the_home_costs_the_same_few_queries_for_a_larger_book(
    client, finance, book, django_assert_max_num_queries
):
    client.force_login(finance)
    with at(TODAY, hour=9), django_assert_max_num_queries(12):
        client.get(reverse("admin:index"))
    before = count_queries(client, finance)
    print(f"admin home: {before} queries")
    # more customers, in two more currencies, with their alerts and accounts
    with at(BOOK_START, hour=9):
        for index, currency in enumerate(("EUR", "HKD", "EUR", "HKD", "CNY", "USD")):
            make_contract(
                customer=CustomerFactory(currency=currency),
                currency=currency,
                payment_method="sandbox",
                service_start=BOOK_START,
                fees=[monthly("100.51" if index % 2 else "100.00")],
                signed_on=BOOK_START,
            )
    for day in (dt.date(2026, 2, 1), TODAY):
        with at(day, hour=8):
            billing_run(on=day)
            for charge_id in collectable_charge_ids(on=day):
                charge_collect(charge_id, on=day)
    raise_alerts(CustomerFactory())
    BankAccount.objects.create(
        code="boc-eur",
        name="中国银行欧元户",
        bank="BOC",
        account_number="123456789",
        holder="x",
        currency="EUR",
    )
    assert set(dashboard.charges_today(TODAY)) == {"CNY", "USD", "EUR", "HKD"}
    assert count_queries(client, finance) == before


def grant(user, *codenames: str):
    for codename in codenames:
        app_label, code = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=code)
        )


def test_a_clerk_sees_only_the_tiles_of_what_she_may_view(client, book, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    grant(clerk, "billing.view_charge")
    html = home(client, clerk).content.decode()
    assert figure(html, "today-due-CNY")[:2] == ("3", "9,700.51 CNY")
    assert figure(html, "today-overdue-USD")[:2] == ("2", "1,601.02 USD")
    assert 'data-testid="today-collected-CNY"' not in html  # no view of payment attempts
    assert 'data-testid="tile-upcoming"' in html
    for absent in ("tile-alerts", "tile-reconciliation", "tile-collections", "tile-aging"):
        assert f'data-testid="{absent}"' not in html, absent

    grant(clerk, "alerts.view_alert", "payments.view_paymentattempt")
    clerk = django_user_model.objects.get(pk=clerk.pk)  # permissions are cached per user object
    html = home(client, clerk).content.decode()
    assert 'data-testid="tile-alerts"' in html
    assert figure(html, "today-collected-CNY")[:2] == ("2", "7,200.00 CNY")
    assert 'data-testid="tile-reconciliation"' not in html


def test_a_user_with_no_view_permission_gets_no_tile(client, book, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    html = home(client, clerk).content.decode()
    assert 'data-testid="tile-' not in html


def chart_data(html: str, report: str) -> list[dict]:
    charts = re.findall(
        rf'<figure[^>]*data-report="{report}"[^>]*?(?: data-currency="(\w+)")?>'
        r'.*?data-value="([^"]+)"',
        html,
        re.S,
    )
    return [{"currency": currency, **json.loads(unescape(data))} for currency, data in charts]


def test_aging_and_collections_charts_per_currency(client, finance, book):
    html = home(client, finance).content.decode()
    aging = chart_data(html, "aging")
    assert [chart["currency"] for chart in aging] == ["CNY", "USD"]
    # one bar per bucket: March's declined charge is due today, February's a month
    # late, January's two
    assert aging[0]["labels"] == [
        "Not yet due",
        "1–30 days",
        "31–60 days",
        "61–90 days",
        "Over 90 days",
    ]
    assert aging[0]["datasets"][0]["data"] == [2500.51, 2500.51, 2500.51, 0, 0]
    assert aging[1]["datasets"][0]["data"] == [800.51, 800.51, 800.51, 0, 0]
    collections = chart_data(html, "collections")
    assert [chart["currency"] for chart in collections] == ["CNY", "USD"]
    assert collections[0]["labels"] == ["2026-01", "2026-02", "2026-03"]
    by_method = {d["label"]: d["data"] for d in collections[0]["datasets"]}
    assert by_method == {"Alipay": [3000.0] * 3, "WeChat Pay": [4200.0] * 3}


def test_the_sidebar_links_the_reports_the_user_may_open(client, finance, django_user_model):
    html = home(client, finance).content.decode()
    for name in ("customer-status", "aging", "collections", "income", "failed-rate"):
        assert f'href="{reverse("admin_reports:report", args=[name])}"' in html, name
    assert "Risk warnings" in html
    assert f'href="{reverse("admin:alerts_alert_changelist")}"' in html
    assert f'href="{reverse("admin:risk_riskrule_changelist")}"' in html

    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    grant(clerk, "payments.view_paymentattempt")
    html = home(client, clerk).content.decode()
    assert f'href="{reverse("admin_reports:report", args=["failed-rate"])}"' in html
    for name in ("customer-status", "aging", "collections", "income", "balances"):
        assert f'href="{reverse("admin_reports:report", args=[name])}"' not in html, name
    assert f'href="{reverse("admin:risk_riskrule_changelist")}"' not in html
