"""The report endpoints: the list, the formats, and who may read what."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from reports.registry import REPORTS

from .books import charge, contract_for, customer, pay

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/"


@pytest.fixture
def book():
    a = customer()
    made = charge(contract_for(a), "1000.00", dt.date(2026, 6, 1))
    pay(made, "400.00", dt.date(2026, 6, 2))
    return a


def staff_with(django_user_model, *perms: str) -> APIClient:
    user = django_user_model.objects.create_user("finance", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = APIClient()
    client.force_login(user)
    return client


def test_the_list_names_the_reports_the_user_may_open(django_user_model, api):
    names = [item["name"] for item in api.get(URL).json()]
    assert names == list(REPORTS)
    first = api.get(URL).json()[0]
    assert first["url"].endswith("/api/v1/reports/customer-status/")
    client = staff_with(django_user_model, "ledger.view_account")
    assert [item["name"] for item in client.get(URL).json()] == ["balances"]


def test_json_rows_carry_their_currency(api, book):
    response = api.get(URL + "aging/", {"date_to": "2026-06-30"})
    assert response.status_code == 200
    body = response.json()
    assert body["filters"]["date_to"] == "2026-06-30"
    assert body["rows"] == [
        {
            "currency": "CNY",
            "current": "0.00",
            "days_1_30": "600.00",
            "days_31_60": "0.00",
            "days_61_90": "0.00",
            "days_over_90": "0.00",
            "total": "600.00",
        }
    ]


def test_csv_and_xlsx_are_attachments_named_by_report_and_date(api, book):
    response = api.get(URL + "aging/", {"format": "csv", "date_to": "2026-06-30"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="aging-2026-06-30.csv"'
    _header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert row[0] == "CNY" and row[-1] == "600.00"

    response = api.get(URL + "customer-status/", {"format": "xlsx", "date_to": "2026-06-30"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == (
        'attachment; filename="customer-status-2026-06-30.xlsx"'
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["CNY"]
    assert sheet.max_row == 2


def test_bad_filters_are_400_with_a_message_per_field(api, book):
    response = api.get(
        URL + "aging/",
        {"date_from": "2026-07-01", "date_to": "2026-06-01", "currency": "XXX", "customer": 99999},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"date_from", "currency"}
    assert api.get(URL + "aging/", {"date_to": "30/06/2026"}).json().keys() == {"date_to"}


def test_an_unknown_customer_is_a_report_without_rows(api, book):
    response = api.get(URL + "aging/", {"customer": 99999})
    assert response.status_code == 200
    assert response.json()["rows"] == []


def test_errors_stay_json_when_a_spreadsheet_was_asked_for(api):
    response = api.get(URL + "aging/", {"format": "xlsx", "date_to": "nonsense"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "date_to" in response.json()


def test_an_unknown_report_is_404(api):
    assert api.get(URL + "profit-forecast/").status_code == 404


def test_a_user_without_the_reports_permissions_is_403(django_user_model, book):
    client = staff_with(django_user_model, "billing.view_charge")  # not ledger.view_account
    assert client.get(URL + "aging/").status_code == 403
    assert client.get(URL + "aging/", {"format": "csv"}).status_code == 403


def test_staff_with_the_permissions_get_the_report(django_user_model, book):
    client = staff_with(django_user_model, "billing.view_charge", "ledger.view_account")
    response = client.get(URL + "aging/", {"date_to": "2026-06-30"})
    assert response.status_code == 200
    assert response.json()["rows"][0]["total"] == "600.00"


def test_non_staff_cannot_read_reports(django_user_model):
    user = django_user_model.objects.create_superuser("root", "r@example.com", "pw")
    user.is_staff = False
    user.save()
    client = APIClient()
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert APIClient().get(URL + "aging/").status_code in (401, 403)
