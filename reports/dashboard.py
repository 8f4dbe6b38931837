"""What the admin home reads: today's charges and deductions, the week ahead, the
open alerts and the last reconciliation of each receiving account.

Each function is one or two aggregate queries whatever the number of customers,
charges or currencies, so the home page costs the same on a small book and on a
million charges. Money is summed per currency, never across currencies, and goes
through ``money_from_db`` (SQLite returns sums as floats). "Today" is the billing
calendar's day, in ``settings.TIME_ZONE`` (Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from alerts.choices import OPEN_STATUSES, SEVERITY_ORDER
from alerts.models import Alert
from billing.choices import ChargeStatus
from billing.models import Charge
from feemgmt.core.money import Money, money_from_db
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt
from reconciliation.models import BankAccount, ReconciliationRun

UPCOMING_DAYS = 7
NEWEST_ALERTS = 5


@dataclass(frozen=True)
class Figure:
    """A number of rows and what they add up to, in one currency."""

    count: int
    amount: Money

    @property
    def amount_text(self) -> str:
        """The amount with thousands separators and its currency: 12,000.00 CNY."""
        return f"{self.amount.amount:,} {self.amount.currency.code}"


def today() -> dt.date:
    return timezone.localdate()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of ``day`` and of the next day, in the billing time zone."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, zone)


def _figure(row: dict, prefix: str, currency: str) -> Figure:
    return Figure(
        count=row[f"{prefix}_n"] or 0, amount=money_from_db(row[f"{prefix}_sum"], currency)
    )


def charges_today(day: dt.date) -> dict[str, dict[str, Figure]]:
    """Per currency: the charges due on ``day`` (whatever became of them since) and
    the charges overdue now. One query."""
    due = Q(due_date=day)
    overdue = Q(status=ChargeStatus.OVERDUE)
    rows = (
        Charge.objects.filter(due | overdue)
        .order_by()
        .values("amount_currency")
        .annotate(
            due_n=Count("id", filter=due),
            due_sum=Sum("amount", filter=due),
            overdue_n=Count("id", filter=overdue),
            overdue_sum=Sum("amount", filter=overdue),
        )
    )
    return {
        row["amount_currency"]: {
            "due": _figure(row, "due", row["amount_currency"]),
            "overdue": _figure(row, "overdue", row["amount_currency"]),
        }
        for row in rows
    }


def attempts_today(day: dt.date) -> dict[str, dict[str, Figure]]:
    """Per currency: the deductions that succeeded (collected) and that failed on
    ``day``, by the time the outcome was known. One query."""
    start, end = day_bounds(day)
    succeeded = Q(status=AttemptStatus.SUCCEEDED)
    failed = Q(status=AttemptStatus.FAILED)
    rows = (
        PaymentAttempt.objects.filter(decided_at__gte=start, decided_at__lt=end)
        .filter(succeeded | failed)
        .order_by()
        .values("amount_currency")
        .annotate(
            collected_n=Count("id", filter=succeeded),
            collected_sum=Sum("amount", filter=succeeded),
            failed_n=Count("id", filter=failed),
            failed_sum=Sum("amount", filter=failed),
        )
    )
    return {
        row["amount_currency"]: {
            "collected": _figure(row, "collected", row["amount_currency"]),
            "failed": _figure(row, "failed", row["amount_currency"]),
        }
        for row in rows
    }


def upcoming_deductions(day: dt.date, days: int = UPCOMING_DAYS) -> list[dict]:
    """The charges collection will act on in the ``days`` after ``day``, per day and
    currency, earliest first. One query on the partial index of ``next_attempt_on``."""
    rows = (
        Charge.objects.filter(
            next_attempt_on__gt=day, next_attempt_on__lte=day + dt.timedelta(days=days)
        )
        .order_by()
        .values("next_attempt_on", "amount_currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("next_attempt_on", "amount_currency")
    )
    return [
        {
            "day": row["next_attempt_on"],
            "currency": row["amount_currency"],
            "figure": Figure(row["n"], money_from_db(row["total"], row["amount_currency"])),
        }
        for row in rows
    ]


def open_alerts(newest: int = NEWEST_ALERTS) -> tuple[dict[str, int], list[Alert]]:
    """How many alerts are still someone's, per severity (highest first, every
    severity present), and the newest of them. Two queries."""
    counted = dict(
        Alert.objects.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values_list("severity")
        .annotate(n=Count("id"))
    )
    by_severity = {str(s): counted.get(str(s), 0) for s in reversed(SEVERITY_ORDER)}
    latest = list(
        Alert.objects.filter(status__in=OPEN_STATUSES)
        .select_related("customer")
        .order_by("-created_at", "-id")[:newest]
    )
    return by_severity, latest


def last_reconciliations() -> list[tuple[BankAccount, ReconciliationRun | None]]:
    """Each active receiving account with its latest run (by period end), or None
    when it was never reconciled. Two queries."""
    accounts = list(BankAccount.objects.filter(active=True).order_by("code"))
    newest = ReconciliationRun.objects.filter(account=OuterRef("account")).order_by(
        "-period_end", "-id"
    )
    latest = {
        run.account_id: run
        for run in ReconciliationRun.objects.filter(
            account__in=accounts, id=Subquery(newest.values("id")[:1])
        )
    }
    return [(account, latest.get(account.pk)) for account in accounts]
