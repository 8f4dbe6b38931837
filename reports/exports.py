"""A report's rows as CSV, Excel and JSON.

Headers are the columns' translated labels, so the active language (Chinese by
default) names them. Excel gets real numbers and dates with number formats, one
sheet per currency: finance staff sum and chart the cells, and a sheet never
mixes currencies.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from feemgmt.core.money import minor_digits

from .registry import Column, ReportResult

__all__ = ["report_csv", "report_json", "report_xlsx"]


def _text(column: Column, value, currency: str | None) -> str:
    if value is None:
        return ""
    if column.kind == "money":
        return _money_str(value, currency)
    if column.kind == "percent":
        return f"{Decimal(value) * 100:.1f}%"
    if column.kind == "month":
        return value.strftime("%Y-%m")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _money_str(value, currency: str | None) -> str:
    digits = minor_digits(currency) if currency else 2
    return f"{Decimal(value):.{digits}f}"


def _json_value(column: Column, value, currency: str | None):
    if value is None:
        return None
    if column.kind == "money":
        return _money_str(value, currency)
    if column.kind == "percent":
        return f"{Decimal(value):.4f}"
    if column.kind == "month":
        return value.strftime("%Y-%m")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if column.kind == "count" else str(value)


def report_csv(result: ReportResult) -> bytes:
    """UTF-8 with a byte order mark: without it Excel reads Chinese headers as mojibake."""
    columns = result.report.columns
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(column.label) for column in columns])
    for row in result.rows:
        currency = row.get("currency")
        writer.writerow([_text(column, row.get(column.key), currency) for column in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_json(result: ReportResult) -> dict:
    """Amounts as strings with the currency's minor digits, as the rest of the API."""
    report, filters = result.report, result.filters
    return {
        "name": report.name,
        "title": str(report.title),
        "description": str(report.description),
        "filters": {
            "date_from": filters.date_from.isoformat() if filters.date_from else None,
            "date_to": filters.date_to.isoformat() if filters.date_to else None,
            "customer": filters.customer_id,
            "currency": filters.currency,
        },
        "columns": [
            {"key": column.key, "label": str(column.label), "kind": column.kind}
            for column in report.columns
        ],
        "rows": [
            {
                column.key: _json_value(column, row.get(column.key), row.get("currency"))
                for column in report.columns
            }
            for row in result.rows
        ],
    }


def _number_format(column: Column, currency: str | None) -> str | None:
    if column.kind == "money":
        digits = minor_digits(currency) if currency else 2
        return "#,##0" + ("." + "0" * digits if digits else "")
    if column.kind == "percent":
        return "0.0%"
    if column.kind == "count":
        return "0"
    if column.kind == "date":
        return "yyyy-mm-dd"
    if column.kind == "month":
        return "yyyy-mm"
    return None


def _cell_value(column: Column, value):
    if value is None:
        return None
    if column.kind in ("money", "percent"):
        # openpyxl writes a Decimal as a number cell, exactly as the database summed it
        return Decimal(value)
    if column.kind in ("date", "month"):
        if isinstance(value, dt.datetime):
            return value.date()
        return value
    if column.kind == "count":
        return int(value)
    return str(value)


def report_xlsx(result: ReportResult) -> bytes:
    report = result.report
    workbook = Workbook()
    workbook.remove(workbook.active)
    if report.per_currency:
        currencies = sorted({row["currency"] for row in result.rows}) or [
            result.filters.currency or _("Report")
        ]
        sheets = [
            (currency, [row for row in result.rows if row.get("currency") == currency])
            for currency in currencies
        ]
    else:
        sheets = [(str(report.title)[:31], result.rows)]
    for title, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([str(column.label) for column in report.columns])
        for row in rows:
            sheet.append([_cell_value(column, row.get(column.key)) for column in report.columns])
        for index, column in enumerate(report.columns, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = max(12, len(str(column.label)) * 2 + 2)
            number_format = _number_format(column, title if report.per_currency else None)
            if number_format:
                for (cell,) in sheet.iter_rows(
                    min_row=2, min_col=index, max_col=index, max_row=sheet.max_row
                ):
                    cell.number_format = number_format
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
