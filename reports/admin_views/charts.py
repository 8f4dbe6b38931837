"""Chart.js data for unfold's chart components, from a report's rows and its
``Chart`` (reports/registry.py). Amounts in different currencies never share an
axis: a per-currency report gets one chart per currency."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.conf import settings

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


def label(value, kind: str, key: str = "") -> str:
    """How a value reads on an axis, in a legend or a table cell."""
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
        tick = label(row[chart.label_key], kinds.get(chart.label_key, "text"))
        if tick not in labels:
            labels.append(tick)
    series: dict[str, dict[str, float]] = {}
    for row in rows:
        tick = label(row[chart.label_key], kinds.get(chart.label_key, "text"))
        for key in chart.value_keys:
            if chart.series_key:
                name = label(row[chart.series_key], "text", chart.series_key)
                if len(chart.value_keys) > 1:
                    name = f"{name} · {names[key]}"
            else:
                name = names[key]
            values = series.setdefault(name, {})
            number = _number(row[key])
            if kinds.get(key) == "percent":
                number = round(number * 100, 2)
            values[tick] = values.get(tick, 0) + number
    datasets = []
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        dataset = {
            "label": name,
            "data": [values.get(tick, 0) for tick in labels],
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
