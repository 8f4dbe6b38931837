"""Rules about what the banks and gateways report: money in that no charge
explains, duplicate payments, and reconciliation runs that do not agree or are
not signed off in time (docs/risk.md)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alerts.choices import AlertKind
from feemgmt.core.money import money_from_db, money_label
from reconciliation.choices import DiscrepancyKind, DiscrepancyStatus, LineStatus, RunStatus
from reconciliation.models import Discrepancy, ReconciliationRun, StatementLine

from .base import Check, Finding, Rule, subject

UNSIGNED = [RunStatus.PREPARED, RunStatus.REOPENED]


def unmatched_payment(check: Check):
    """Money received (a positive statement line) that nothing matched N days or
    more after it was booked."""
    cutoff = check.today - dt.timedelta(days=check.days)
    rows = (
        StatementLine.objects.filter(
            status=LineStatus.UNMATCHED, amount__gt=0, booked_on__lte=cutoff
        )
        .values(
            "id",
            "amount",
            "amount_currency",
            "booked_on",
            "counterparty_name",
            "reference",
            "account__name",
        )
        .order_by("id")
    )
    for row in rows:
        yield Finding(
            subject=subject("line", row["id"]),
            message=_(
                "%(amount)s received on %(account)s on %(date)s from %(payer)s "
                "(reference %(reference)s) matches no charge."
            )
            % {
                "amount": money_label(money_from_db(row["amount"], row["amount_currency"])),
                "account": row["account__name"],
                "date": row["booked_on"].isoformat(),
                "payer": row["counterparty_name"] or "—",
                "reference": row["reference"] or "—",
            },
        )


def duplicate_payment(check: Check):
    """Open duplicate-payment discrepancies: a charge paid twice, to be refunded or
    kept as prepaid credit."""
    rows = (
        Discrepancy.objects.filter(
            kind=DiscrepancyKind.DUPLICATE_PAYMENT, status=DiscrepancyStatus.OPEN
        )
        .values("id", "message", "charge__contract__customer_id")
        .order_by("id")
    )
    for row in rows:
        yield Finding(
            subject=subject("discrepancy", row["id"]),
            customer_id=row["charge__contract__customer_id"],
            message=row["message"],
        )


def reconciliation_difference(check: Check):
    """Reconciliation runs not signed off whose statement and ledger totals differ."""
    runs = ReconciliationRun.objects.filter(status__in=UNSIGNED).exclude(difference=0)
    if (ids := check.ids("run")) is not None:
        runs = runs.filter(id__in=ids)
    for row in runs.values(
        "id", "difference", "currency", "period_start", "period_end", "account__name"
    ).order_by("id"):
        yield Finding(
            subject=subject("run", row["id"]),
            message=_(
                "The reconciliation of %(account)s for %(start)s to %(end)s differs by "
                "%(difference)s."
            )
            % {
                "account": row["account__name"],
                "start": row["period_start"].isoformat(),
                "end": row["period_end"].isoformat(),
                "difference": money_label(money_from_db(row["difference"], row["currency"])),
            },
        )


def reconciliation_unsigned(check: Check):
    """Reconciliation runs still not signed off N days after their period ended."""
    cutoff = check.today - dt.timedelta(days=check.days)
    rows = (
        ReconciliationRun.objects.filter(status__in=UNSIGNED, period_end__lte=cutoff)
        .values("id", "period_start", "period_end", "account__name")
        .order_by("id")
    )
    for row in rows:
        yield Finding(
            subject=subject("run", row["id"]),
            message=_(
                "The reconciliation of %(account)s for %(start)s to %(end)s is not signed "
                "off %(days)d days after the period ended."
            )
            % {
                "account": row["account__name"],
                "start": row["period_start"].isoformat(),
                "end": row["period_end"].isoformat(),
                "days": (check.today - row["period_end"]).days,
            },
        )


RULES = (
    Rule(
        code=AlertKind.UNMATCHED_PAYMENT,
        description=gettext_lazy(
            "Money received on a statement still matches no charge N days after booking."
        ),
        thresholds=("days",),
        find=unmatched_payment,
    ),
    Rule(
        code=AlertKind.DUPLICATE_PAYMENT,
        description=gettext_lazy(
            "A charge was paid twice (an open duplicate-payment discrepancy)."
        ),
        thresholds=(),
        find=duplicate_payment,
    ),
    Rule(
        code=AlertKind.RECONCILIATION_DIFFERENCE,
        description=gettext_lazy(
            "A reconciliation run not signed off shows a difference between the statement "
            "and the ledger."
        ),
        thresholds=(),
        find=reconciliation_difference,
        scopes=("run",),
        subject_scope="run",
    ),
    Rule(
        code=AlertKind.RECONCILIATION_UNSIGNED,
        description=gettext_lazy(
            "A reconciliation run is not signed off N days after its period ended."
        ),
        thresholds=("days",),
        find=reconciliation_unsigned,
    ),
)
