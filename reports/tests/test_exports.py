"""The exports as finance staff open them: Chinese headers, numbers that sum."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
from django.utils import translation

from reports.exports import report_csv, report_json, report_xlsx
from reports.registry import REPORTS, ReportFilters, ReportResult

D = Decimal


def result(name: str, rows: list[dict]) -> ReportResult:
    return ReportResult(report=REPORTS[name], filters=ReportFilters(), rows=rows)


AGING = [
    {
        "currency": "CNY",
        "current": D("1000.00"),
        "days_1_30": D("1500.50"),
        "days_31_60": D("0.00"),
        "days_61_90": D("3000.00"),
        "days_over_90": D("0.00"),
        "total": D("5500.50"),
    },
    {
        "currency": "JPY",
        "current": D("1200"),
        "days_1_30": D("0"),
        "days_31_60": D("0"),
        "days_61_90": D("0"),
        "days_over_90": D("0"),
        "total": D("1200"),
    },
]

STATUS = [
    {
        "currency": "CNY",
        "customer_id": 7,
        "customer_code": "C000007",
        "customer_name": "上海某某有限公司",
        "billed": D("7100.00"),
        "paid": D("900.00"),
        "outstanding": D("6200.00"),
        "overdue": D("5200.00"),
        "prepaid": D("0.00"),
        "deposit": D("0.00"),
        "last_payment_on": dt.date(2026, 6, 15),
        "charges_due": 5,
        "on_time_rate": D("0.2000"),
    }
]


def test_csv_parses_back_with_chinese_headers():
    with translation.override("zh-hans"):
        data = report_csv(result("customer-status", STATUS))
        labels = [str(column.label) for column in REPORTS["customer-status"].columns]
    assert data.startswith("\ufeff".encode())
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header == labels
    # labels already in the catalogue come out in Chinese (the rest once translated)
    assert header[0] == "币种"
    assert "预付款余额" in header
    parsed = dict(zip([c.key for c in REPORTS["customer-status"].columns], row, strict=True))
    assert parsed["customer_name"] == "上海某某有限公司"
    assert parsed["outstanding"] == "6200.00"
    assert parsed["last_payment_on"] == "2026-06-15"
    assert parsed["on_time_rate"] == "20.0%"


def test_csv_writes_each_currency_with_its_minor_digits():
    data = report_csv(result("aging", AGING)).decode("utf-8-sig")
    _header, cny, jpy = list(csv.reader(io.StringIO(data)))
    assert cny[2] == "1500.50"
    assert jpy[1] == "1200"


def test_xlsx_has_one_sheet_per_currency_with_numeric_cells():
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(result("aging", AGING))))
    assert book.sheetnames == ["CNY", "JPY"]
    cny = book["CNY"]
    assert [cell.value for cell in cny[1]] == [str(c.label) for c in REPORTS["aging"].columns]
    cell = cny["C2"]
    assert cell.data_type == "n"
    assert D(str(cell.value)) == D("1500.50")
    assert cell.number_format == "#,##0.00"
    assert book["JPY"]["B2"].number_format == "#,##0"
    assert cny.max_row == 2  # the JPY row is on its own sheet


def test_xlsx_dates_are_dates_and_rates_are_percentages():
    with translation.override("zh-hans"):
        data = report_xlsx(result("customer-status", STATUS))
        headers = [str(c.label) for c in REPORTS["customer-status"].columns]
    sheet = openpyxl.load_workbook(io.BytesIO(data))["CNY"]
    assert [cell.value for cell in sheet[1]] == headers
    by_key = {c.key: i for i, c in enumerate(REPORTS["customer-status"].columns)}
    row = sheet[2]
    assert row[by_key["last_payment_on"]].is_date
    assert row[by_key["last_payment_on"]].value.date() == dt.date(2026, 6, 15)
    assert row[by_key["on_time_rate"]].data_type == "n"
    assert row[by_key["on_time_rate"]].number_format == "0.0%"
    assert row[by_key["charges_due"]].value == 5


def test_json_has_amounts_as_strings_with_the_currency():
    data = report_json(result("aging", AGING))
    assert data["name"] == "aging"
    assert [c["key"] for c in data["columns"]][:2] == ["currency", "current"]
    assert data["rows"][0]["days_1_30"] == "1500.50"
    assert data["rows"][1] == {
        "currency": "JPY",
        "current": "1200",
        "days_1_30": "0",
        "days_31_60": "0",
        "days_61_90": "0",
        "days_over_90": "0",
        "total": "1200",
    }
    status = report_json(result("customer-status", STATUS))["rows"][0]
    assert (status["last_payment_on"], status["on_time_rate"], status["charges_due"]) == (
        "2026-06-15",
        "0.2000",
        5,
    )
