"""The admin home's tiles (UNFOLD["DASHBOARD_CALLBACK"]): each figure with the
link to the admin list that shows its rows, and only the tiles whose rows the
user may view."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alerts.choices import Severity
from billing.choices import ChargeStatus
from payments.choices import AttemptStatus

from .. import dashboard
from ..registry import REPORTS, ReportFilters
from .charts import charts_per_currency

CHARGE_PERMISSION = "billing.view_charge"
ATTEMPT_PERMISSION = "payments.view_paymentattempt"
ALERT_PERMISSION = "alerts.view_alert"
RUN_PERMISSION = "reconciliation.view_reconciliationrun"
COLLECTION_MONTHS = 12


def _link(name: str, **params) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


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
