"""A small book for the dashboard tests, run through the real billing and collection,
and the helpers that read the admin home as a user sees it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlparse

from django.contrib.auth.models import Permission
from django.urls import reverse

from alerts.choices import AlertKind, AlertStatus, Severity
from alerts.models import Alert
from billing.services import billing_run
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from payments.services.collection import charge_collect, collectable_charge_ids
from reconciliation.choices import RunStatus
from reconciliation.models import BankAccount, ReconciliationRun
from reports import dashboard
from tests.clock import at

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


def grant(user, *codenames: str):
    for codename in codenames:
        app_label, code = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=code)
        )
