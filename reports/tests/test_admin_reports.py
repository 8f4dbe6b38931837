"""The report pages inside the admin: who sees which report, the table and chart
of the filters chosen, and downloads of exactly those filters."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import openpyxl
import pytest
from django.urls import reverse

from reports.registry import REPORTS
from reports.tests.dashboard_book import TODAY, demo_book, grant
from tests.clock import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(django_user_model):
    return django_user_model.objects.create_superuser("finance", "f@example.com", "pw")


@pytest.fixture
def book(finance):
    return demo_book(user=finance)


def get(client, user, url, params=None):
    client.force_login(user)
    with at(TODAY, hour=9):
        return client.get(url, params or {})


def page_url(name: str) -> str:
    return reverse("admin_reports:report", args=[name])


def test_the_index_lists_only_the_reports_the_user_may_open(client, django_user_model, finance):
    response = get(client, finance, reverse("admin_reports:index"))
    html = response.content.decode()
    for name in REPORTS:
        assert page_url(name) in html
    assert 'id="nav-sidebar"' in html or "sidebar" in html  # inside the admin layout

    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    grant(clerk, "payments.view_paymentattempt")
    html = get(client, clerk, reverse("admin_reports:index")).content.decode()
    assert page_url("failed-rate") in html
    assert page_url("aging") not in html
    assert page_url("collections") not in html  # needs the journal too


def test_a_report_the_user_may_not_see_is_refused(client, django_user_model, book):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    grant(clerk, "payments.view_paymentattempt")
    for url in (
        page_url("aging"),
        reverse("admin_reports:report-csv", args=["aging"]),
        reverse("admin_reports:report-xlsx", args=["aging"]),
    ):
        assert get(client, clerk, url).status_code == 403, url
    assert get(client, clerk, page_url("failed-rate")).status_code == 200
    assert get(client, clerk, page_url("no-such-report")).status_code == 404


def test_the_pages_need_a_staff_login(client):
    response = client.get(page_url("aging"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_aging_page_shows_money_right_aligned_with_its_currency_and_the_chart(
    client, finance, book
):
    response = get(client, finance, page_url("aging"))
    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index('id="report-table"') :]
    # the declined charges: three of 2,500.51 CNY and three of 800.51 USD
    assert re.search(
        r'<td class="[^"]*text-right[^"]*" data-kind="money">7,501.53 <span[^>]*>CNY</span>', table
    )
    assert re.search(
        r'<td class="[^"]*text-right[^"]*" data-kind="money">2,401.53 <span[^>]*>USD</span>', table
    )
    assert "Total receivable" in table
    charts = re.findall(r'<canvas class="chart"[^>]*data-type="bar"', html)
    assert len(charts) == 2  # one per currency
    assert 'href="' + reverse("admin_reports:report-csv", args=["aging"]) in html


def test_downloads_carry_the_filters_of_the_page(client, finance, book):
    params = {"currency": "USD", "date_from": "2026-01-01", "date_to": "2026-03-01"}
    html = get(client, finance, page_url("collections"), params).content.decode()
    csv_link = unescape(re.search(r'href="([^"]+)"[^>]*data-testid="download-csv"', html).group(1))
    xlsx_link = unescape(
        re.search(r'href="([^"]+)"[^>]*data-testid="download-xlsx"', html).group(1)
    )
    assert "currency=USD" in csv_link and "date_from=2026-01-01" in xlsx_link

    response = get(client, finance, csv_link)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) > 1
    currency_at = rows[0].index("Currency")
    assert {row[currency_at] for row in rows[1:]} == {"USD"}

    response = get(client, finance, xlsx_link)
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["USD"]


def test_invalid_filters_show_errors_and_no_figures(client, finance, book):
    params = {"date_from": "2026-03-01", "date_to": "2026-01-01", "customer": "999999"}
    response = get(client, finance, page_url("collections"), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Must not be after the end date." in html
    assert "No customer has this id." in html
    assert 'id="report-table"' not in html
    assert 'data-testid="download-csv"' not in html
    # a download of invalid filters gives the page with its errors, not a file
    response = get(
        client, finance, reverse("admin_reports:report-csv", args=["collections"]), params
    )
    assert response["Content-Type"].startswith("text/html")


def test_a_report_page_costs_the_same_queries_for_a_larger_book(
    client, finance, book, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def measure() -> int:
        client.force_login(finance)
        with at(TODAY, hour=9), CaptureQueriesContext(connection) as queries:
            assert client.get(page_url("aging")).status_code == 200
        return len(queries)

    before = measure()
    demo_book(start=TODAY.replace(month=2), today=TODAY, accounts=False)
    assert measure() == before
