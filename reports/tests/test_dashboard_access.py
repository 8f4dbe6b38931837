"""The admin home's cost and who sees what: the same few queries for a larger book,
only the tiles and reports a user may view, and the charts per currency."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape

import pytest
from django.urls import reverse

from billing.services import billing_run
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from payments.services.collection import charge_collect, collectable_charge_ids
from reconciliation.models import BankAccount
from reports import dashboard
from tests.clock import at

from .dashboard_book import BOOK_START, TODAY, figure, grant, home, raise_alerts

pytestmark = pytest.mark.django_db


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
