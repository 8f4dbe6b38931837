"""The admin home a finance team opens every morning: today's figures per currency,
the week's deductions, the open alerts and the last reconciliations, each linked
to the list behind it; in a few queries whatever the size of the book, and only
the tiles the user may see."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from alerts.choices import AlertStatus
from alerts.models import Alert
from billing.choices import ChargeStatus
from billing.models import Charge
from payments.models import PaymentAttempt
from reconciliation.choices import RunStatus
from reconciliation.models import BankAccount, ReconciliationRun
from reports import dashboard

from .dashboard_book import TODAY, figure, home, listed

pytestmark = pytest.mark.django_db


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
