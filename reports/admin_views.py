"""The admin home's tiles and the report pages under /admin/reports/.

The home is unfold's index with ``UNFOLD["DASHBOARD_CALLBACK"]`` pointing at
:func:`dashboard_callback`: it adds the tiles the user may see, each figure with
the link to the admin list that shows its rows. A tile whose rows the user may
not view is left out, not shown empty. The report pages render a registered
report (reports/registry.py) inside the admin layout; the CSV and Excel buttons
ask for the same report with the same filters.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.widgets import INPUT_CLASSES, SELECT_CLASSES

from alerts.choices import Severity
from billing.choices import ChargeStatus
from payments.choices import AttemptStatus

from . import dashboard

CHARGE_PERMISSION = "billing.view_charge"
ATTEMPT_PERMISSION = "payments.view_paymentattempt"
ALERT_PERMISSION = "alerts.view_alert"
RUN_PERMISSION = "reconciliation.view_reconciliationrun"
COLLECTION_MONTHS = 12

# Chart.js colours: unfold's primary shades first, then distinct hues for the
# further series (a method, a currency, a bucket).
PALETTE = (
    "var(--color-primary-600)",
    "var(--color-primary-300)",
    "#f59e0b",
    "#ef4444",
    "#10b981",
    "#6366f1",
    "#ec4899",
    "#64748b",
)


def _link(name: str, **params) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


# --- Charts ----------------------------------------------------------------------


def _label(value, kind: str, key: str = "") -> str:
    if key == "method":  # a payment method's code: show its name, as the admin lists do
        return str(settings.PAYMENT_METHODS.get(value, value))
    if isinstance(value, dt.date):
        return f"{value.year}-{value.month:02d}" if kind == "month" else value.isoformat()
    return str(value)


def _number(value) -> float | int:
    """Chart.js draws numbers; the exact amounts stay in the table beside it."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "amount"):  # Money
        return float(value.amount)
    return value or 0


def chart_json(chart, columns, rows: list[dict]) -> tuple[str, str]:
    """Chart.js ``data`` and ``options`` (as JSON for unfold's chart component) for
    ``rows`` drawn as ``chart`` says: the x axis from ``label_key``, one dataset per
    value column, or per value of ``series_key``."""
    kinds = {column.key: column.kind for column in columns}
    names = {column.key: str(column.label) for column in columns}
    labels: list[str] = []
    for row in rows:
        label = _label(row[chart.label_key], kinds.get(chart.label_key, "text"))
        if label not in labels:
            labels.append(label)
    series: dict[str, dict[str, float]] = {}
    for row in rows:
        label = _label(row[chart.label_key], kinds.get(chart.label_key, "text"))
        for key in chart.value_keys:
            if chart.series_key:
                name = _label(row[chart.series_key], "text", chart.series_key)
                if len(chart.value_keys) > 1:
                    name = f"{name} · {names[key]}"
            else:
                name = names[key]
            values = series.setdefault(name, {})
            number = _number(row[key])
            if kinds.get(key) == "percent":
                number = round(number * 100, 2)
            values[label] = values.get(label, 0) + number
    datasets = []
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        dataset = {
            "label": name,
            "data": [values.get(label, 0) for label in labels],
            "backgroundColor": colour,
            "borderColor": colour,
        }
        if chart.kind == "line":
            dataset["fill"] = False
        datasets.append(dataset)
    options = {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "plugins": {"legend": {"display": True, "position": "top", "align": "end"}},
        "scales": {
            "x": {"stacked": chart.stacked, "grid": {"display": False}},
            "y": {"stacked": chart.stacked, "beginAtZero": True},
        },
    }
    if chart.kind == "bar":
        options["datasets"] = {"bar": {"borderRadius": 4, "maxBarThickness": 32}}
    return json.dumps({"labels": labels, "datasets": datasets}), json.dumps(options)


def columns_chart_json(chart, columns, rows: list[dict], currency: str) -> tuple[str, str]:
    """A chart whose x axis is the report's currency (aging: one stacked bar per
    currency) drawn for one currency: its value columns become the x axis, one bar
    each, which reads better than a single stacked bar."""
    names = {column.key: str(column.label) for column in columns}
    colours = [PALETTE[index % len(PALETTE)] for index in range(len(chart.value_keys))]
    data = {
        "labels": [names[key] for key in chart.value_keys],
        "datasets": [
            {
                "label": currency,
                "data": [sum(_number(row[key]) for row in rows) for key in chart.value_keys],
                "backgroundColor": colours,
                "borderColor": colours,
            }
        ],
    }
    options = {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "plugins": {"legend": {"display": False}},
        "scales": {"x": {"grid": {"display": False}}, "y": {"beginAtZero": True}},
        "datasets": {"bar": {"borderRadius": 4, "maxBarThickness": 32}},
    }
    return json.dumps(data), json.dumps(options)


def charts_per_currency(result) -> list[dict]:
    """One chart per currency (amounts in different currencies never share an
    axis), or one chart when the report is not per currency."""
    report = result.report
    if report.chart is None or not result.rows:
        return []
    if not report.per_currency:
        data, options = chart_json(report.chart, report.columns, result.rows)
        return [{"currency": None, "data": data, "options": options}]
    by_currency: dict[str, list[dict]] = {}
    for row in result.rows:
        by_currency.setdefault(row["currency"], []).append(row)
    charts = []
    draw = chart_json
    if report.chart.label_key == "currency":

        def draw(chart, columns, rows):
            return columns_chart_json(chart, columns, rows, rows[0]["currency"])

    for currency, rows in sorted(by_currency.items()):
        data, options = draw(report.chart, report.columns, rows)
        charts.append({"currency": currency, "data": data, "options": options})
    return charts


# --- The admin home ------------------------------------------------------------


def _today_tile(user, day: dt.date) -> list[dict] | None:
    see_charges = user.has_perm(CHARGE_PERMISSION)
    see_attempts = user.has_perm(ATTEMPT_PERMISSION)
    if not (see_charges or see_attempts):
        return None
    charges = dashboard.charges_today(day) if see_charges else {}
    attempts = dashboard.attempts_today(day) if see_attempts else {}
    rows = []
    for currency in sorted(set(charges) | set(attempts)):
        row = {"currency": currency, "cells": []}
        if see_charges:
            row["cells"].append(
                (
                    "due",
                    charges.get(currency, {}).get("due"),
                    _link(
                        "admin:billing_charge_changelist",
                        due_date_from=day.isoformat(),
                        due_date_to=day.isoformat(),
                        currency=currency,
                    ),
                )
            )
        if see_attempts:
            for key, status in (
                ("collected", AttemptStatus.SUCCEEDED),
                ("failed", AttemptStatus.FAILED),
            ):
                row["cells"].append(
                    (
                        key,
                        attempts.get(currency, {}).get(key),
                        _link(
                            "admin:payments_paymentattempt_changelist",
                            status__exact=status,
                            decided_at__date=day.isoformat(),
                            amount_currency=currency,
                        ),
                    )
                )
        if see_charges:
            row["cells"].append(
                (
                    "overdue",
                    charges.get(currency, {}).get("overdue"),
                    _link(
                        "admin:billing_charge_changelist",
                        status__exact=ChargeStatus.OVERDUE,
                        currency=currency,
                    ),
                )
            )
        rows.append(row)
    return rows


TODAY_HEADERS = {
    "due": _("Due today"),
    "collected": _("Collected today"),
    "failed": _("Failed today"),
    "overdue": _("Overdue now"),
}


def _today_columns(user) -> list:
    """The headers of the today tile, in the order of ``_today_tile``'s cells."""
    keys = []
    if user.has_perm(CHARGE_PERMISSION):
        keys.append("due")
    if user.has_perm(ATTEMPT_PERMISSION):
        keys += ["collected", "failed"]
    if user.has_perm(CHARGE_PERMISSION):
        keys.append("overdue")
    return [TODAY_HEADERS[key] for key in keys]


def _report_tile(user, name: str, filters_kwargs: dict) -> dict | None:
    try:
        from .registry import REPORTS, ReportFilters
    except ImportError:  # the reports are not installed yet
        return None
    report = REPORTS.get(name)
    if report is None or not report.visible_to(user):
        return None
    filters = ReportFilters(**filters_kwargs)
    result = report.run(filters)
    params = {k: v.isoformat() for k, v in filters_kwargs.items() if v is not None}
    return {
        "report": report,
        "charts": charts_per_currency(result),
        "url": report_url(name, params),
    }


def report_url(name: str, params: dict | None = None) -> str:
    url = reverse("admin_reports:report", args=[name])
    return f"{url}?{urlencode(params)}" if params else url


def _months_back(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months - 1`` months before ``day``'s: with
    ``day``'s own month that is ``months`` calendar months."""
    index = day.year * 12 + day.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def _alerts_tile(user) -> dict | None:
    if not user.has_perm(ALERT_PERMISSION):
        return None
    by_severity, latest = dashboard.open_alerts()
    labels = dict(Severity.choices)
    return {
        "severities": [
            {
                "severity": severity,
                "label": labels[severity],
                "count": count,
                "url": _link("admin:alerts_alert_changelist", open="yes", severity__exact=severity),
            }
            for severity, count in by_severity.items()
        ],
        "total": sum(by_severity.values()),
        "total_url": _link("admin:alerts_alert_changelist", open="yes"),
        "latest": [
            {
                "alert": alert,
                "url": reverse("admin:alerts_alert_change", args=[alert.pk]),
            }
            for alert in latest
        ],
    }


def _reconciliation_tile(user) -> list[dict] | None:
    if not user.has_perm(RUN_PERMISSION):
        return None
    return [
        {
            "account": account,
            "run": run,
            "url": reverse("admin:reconciliation_reconciliationrun_change", args=[run.pk])
            if run
            else _link(
                "admin:reconciliation_reconciliationrun_changelist",
                account__id__exact=account.pk,
            ),
        }
        for account, run in dashboard.last_reconciliations()
    ]


def _upcoming_tile(user, day: dt.date) -> list[dict] | None:
    if not user.has_perm(CHARGE_PERMISSION):
        return None
    return [
        {
            **row,
            "url": _link(
                "admin:billing_charge_changelist",
                next_attempt_on=row["day"].isoformat(),
                currency=row["currency"],
            ),
        }
        for row in dashboard.upcoming_deductions(day)
    ]


def dashboard_callback(request, context: dict) -> dict:
    """UNFOLD["DASHBOARD_CALLBACK"]: the tiles of the admin home this user may see."""
    user = request.user
    day = dashboard.today()
    context["dashboard"] = {
        "today": day,
        "today_columns": _today_columns(user),
        "today_rows": _today_tile(user, day),
        "aging": _report_tile(user, "aging", {}),
        "collections": _report_tile(
            user, "collections", {"date_from": _months_back(day, COLLECTION_MONTHS)}
        ),
        "alerts": _alerts_tile(user),
        "reconciliation": _reconciliation_tile(user),
        "upcoming": _upcoming_tile(user, day),
        "upcoming_days": dashboard.UPCOMING_DAYS,
    }
    return context


# --- Report pages ----------------------------------------------------------------


def _page(request, template: str, title, **context) -> TemplateResponse:
    request.current_app = admin.site.name
    return TemplateResponse(
        request,
        template,
        {**admin.site.each_context(request), "title": title, "content_title": title, **context},
    )


def reports_index(request):
    from .registry import reports_for

    return _page(
        request,
        "reports/index.html",
        _("Reports"),
        reports=[(report, report_url(report.name)) for report in reports_for(request.user)],
    )


def _visible_report(request, name: str):
    from .registry import REPORTS

    report = REPORTS.get(name)
    if report is None:
        raise Http404
    if not report.visible_to(request.user):
        raise PermissionDenied
    return report


def _run(request, report):
    """The filter form bound to the query string (no parameter is a valid, unfiltered
    report) and the report run with it, or None when a filter is invalid."""
    from .forms import ReportFilterForm

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
        cell["text"] = _label(value, column.kind, column.key)
    return cell


def _table(result) -> list[list[dict]]:
    return [[_cell(row, column) for column in result.report.columns] for row in result.rows]


def _download(request, name: str, fmt: str) -> HttpResponse:
    from . import exports

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
