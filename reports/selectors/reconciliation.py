"""Where reconciliation stands: every run per receiving account and period."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from feemgmt.core.money import money_from_db
from reconciliation.choices import RunStatus
from reconciliation.models import ReconciliationRun

if TYPE_CHECKING:
    from ..registry import ReportFilters


def reconciliation(filters: ReportFilters) -> list[dict]:
    """Runs whose period overlaps the range, with the totals they were prepared
    with; open discrepancies are the run's own count, frozen when signed off. A run
    is about a receiving account, not a customer: the customer filter does not apply."""
    runs = ReconciliationRun.objects.all()
    if filters.date_from:
        runs = runs.filter(period_end__gte=filters.date_from)
    if filters.date_to:
        runs = runs.filter(period_start__lte=filters.date_to)
    if filters.currency:
        runs = runs.filter(currency=filters.currency)
    statuses = dict(RunStatus.choices)
    rows = runs.values(
        "currency",
        "account__code",
        "period_start",
        "period_end",
        "statement_total",
        "ledger_total",
        "difference",
        "open_discrepancies",
        "status",
        "prepared_by__username",
        "signed_off_by__username",
        "signed_off_at",
    ).order_by("currency", "account__code", "period_start")
    return [
        {
            "currency": row["currency"],
            "account": row["account__code"],
            "period_start": row["period_start"],
            "period_end": row["period_end"],
            "statement_total": money_from_db(row["statement_total"], row["currency"]).amount,
            "ledger_total": money_from_db(row["ledger_total"], row["currency"]).amount,
            "difference": money_from_db(row["difference"], row["currency"]).amount,
            "open_discrepancies": row["open_discrepancies"],
            "status": statuses.get(row["status"], row["status"]),
            "prepared_by": row["prepared_by__username"] or "",
            "signed_off_by": row["signed_off_by__username"] or "",
            "signed_off_at": (
                timezone.localdate(row["signed_off_at"]) if row["signed_off_at"] else None
            ),
        }
        for row in rows
    ]
