"""The report pages under /admin/reports/: a registered report (reports/registry.py)
inside the admin layout, with its filters, chart, table and the CSV and Excel
downloads of the same filters."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.widgets import INPUT_CLASSES, SELECT_CLASSES

from .. import dashboard, exports
from ..forms import ReportFilterForm
from ..registry import REPORTS, reports_for
from .charts import charts_per_currency, label
from .home import report_url


def _page(request, template: str, title, **context) -> TemplateResponse:
    request.current_app = admin.site.name
    return TemplateResponse(
        request,
        template,
        {**admin.site.each_context(request), "title": title, "content_title": title, **context},
    )


def reports_index(request):
    return _page(
        request,
        "reports/index.html",
        _("Reports"),
        reports=[(report, report_url(report.name)) for report in reports_for(request.user)],
    )


def _visible_report(request, name: str):
    report = REPORTS.get(name)
    if report is None:
        raise Http404
    if not report.visible_to(request.user):
        raise PermissionDenied
    return report


def _run(request, report):
    """The filter form bound to the query string (no parameter is a valid, unfiltered
    report) and the report run with it, or None when a filter is invalid."""
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, report.run(form.filters())


def report_page(request, name: str):
    report = _visible_report(request, name)
    form, result = _run(request, report)
    _style(form)
    query = request.GET.urlencode()
    suffix = f"?{query}" if query else ""
    return _page(
        request,
        "reports/report.html",
        report.title,
        report=report,
        form=form,
        result=result,
        table=_table(result) if result else None,
        charts=charts_per_currency(result) if result else [],
        csv_url=reverse("admin_reports:report-csv", args=[name]) + suffix,
        xlsx_url=reverse("admin_reports:report-xlsx", args=[name]) + suffix,
        index_url=reverse("admin_reports:index"),
        csv_attrs={"data-testid": "download-csv"},
        xlsx_attrs={"data-testid": "download-xlsx"},
    )


def _style(form) -> None:
    """The admin's look for the shared filter form: unfold's input classes, and the
    browser's date picker for the dates."""
    for name, field in form.fields.items():
        classes = SELECT_CLASSES if name == "currency" else INPUT_CLASSES
        field.widget.attrs["class"] = " ".join(classes)
        if name.startswith("date_"):
            field.widget.input_type = "date"
            field.widget.format = "%Y-%m-%d"


def _cell(row: dict, column) -> dict:
    """A table cell as the page shows it: money with thousands separators and its
    currency beside it, a rate as a percentage, a month as 2026-03."""
    value = row.get(column.key)
    cell = {"value": value, "kind": column.kind, "text": "" if value is None else str(value)}
    if value is None:
        cell["text"] = "—" if column.kind in ("money", "count", "percent", "date") else ""
    elif column.kind == "money":
        amount = value.amount if hasattr(value, "amount") else value
        cell.update(text=f"{amount:,}", currency=row.get("currency", ""))
    elif column.kind == "count":
        cell["text"] = f"{value:,}"
    elif column.kind == "percent":
        cell["text"] = f"{Decimal(value) * 100:.1f}%"
    else:
        cell["text"] = label(value, column.kind, column.key)
    return cell


def _table(result) -> list[list[dict]]:
    return [[_cell(row, column) for column in result.report.columns] for row in result.rows]


def _download(request, name: str, fmt: str) -> HttpResponse:
    report = _visible_report(request, name)
    _form, result = _run(request, report)
    if result is None:  # invalid filters: the page says which
        return report_page(request, name)
    if fmt == "csv":
        content = exports.report_csv(result)
        content_type = "text/csv; charset=utf-8"
    else:
        content = exports.report_xlsx(result)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(content, content_type=content_type)
    stamp = dashboard.today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{fmt}"'
    return response


def report_csv(request, name: str):
    return _download(request, name, "csv")


def report_xlsx(request, name: str):
    return _download(request, name, "xlsx")
