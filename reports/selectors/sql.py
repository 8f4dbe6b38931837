"""The pieces of SQL the report queries share.

The reports join the ledger to charges through an entry's subject
(``charge:<id>``) and group by calendar month; both are spelled differently by
PostgreSQL and SQLite, so they are written once here. Every amount read back goes
through :func:`feemgmt.core.money.money_from_db` in the selectors.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from billing.models import Charge
from contracts.models import Contract, Customer
from ledger.models import Account, JournalEntry, JournalLine

if TYPE_CHECKING:
    from ..registry import ReportFilters


LINE = JournalLine._meta.db_table
ACCOUNT = Account._meta.db_table
ENTRY = JournalEntry._meta.db_table
CHARGE = Charge._meta.db_table
CONTRACT = Contract._meta.db_table
CUSTOMER = Customer._meta.db_table

SUBJECT_PREFIX = "charge:"


def as_of(filters: ReportFilters) -> dt.date:
    """The date balances are taken at: the end of the range, else today in the
    project's time zone (Asia/Shanghai), the day finance staff live in."""
    return filters.date_to or timezone.localdate()


def month_of(column: str) -> str:
    """First day of the column's month, as a date (PostgreSQL) or an ISO string (SQLite)."""
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"strftime('%%Y-%%m-01', {column})"


def charge_id_of(subject: str) -> str:
    """The charge id named by an entry's subject, NULL for any other subject."""
    return (
        f"(CASE WHEN {subject} LIKE '{SUBJECT_PREFIX}%%' "
        f"THEN CAST(substr({subject}, {len(SUBJECT_PREFIX) + 1}) AS BIGINT) END)"
    )


def base_kind(entry: str) -> str:
    """The kind an entry counts as: its own, or for a reversal the kind of the entry
    it cancels. A scalar subquery taken for reversals only (a join to every entry
    was a third of a report's time at a million charges)."""
    return (
        f"(CASE WHEN {entry}.reverses_id IS NULL THEN {entry}.kind "
        f"ELSE (SELECT o.kind FROM {ENTRY} o WHERE o.id = {entry}.reverses_id) END)"
    )


def in_range(column: str, filters: ReportFilters, params: list) -> str:
    """``column`` within the filters' dates, as a condition; appends its parameters."""
    parts = ["1 = 1"]
    if filters.date_from:
        parts.append(f"{column} >= %s")
        params.append(filters.date_from)
    if filters.date_to:
        parts.append(f"{column} <= %s")
        params.append(filters.date_to)
    return " AND ".join(parts)


def account_scope(alias: str, filters: ReportFilters, params: list) -> str:
    """The customer and currency filters on an account alias."""
    parts = []
    if filters.customer_id is not None:
        parts.append(f"{alias}.customer_id = %s")
        params.append(filters.customer_id)
    if filters.currency:
        parts.append(f"{alias}.currency = %s")
        params.append(filters.currency)
    return "".join(f" AND {part}" for part in parts)


def fetch(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def to_date(value) -> dt.date | None:
    """A date read back: SQLite returns strings from raw queries, and a month
    truncated from a timestamp comes as a local midnight."""
    if isinstance(value, dt.datetime):
        return value.date()
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
