"""What customers owe and hold: customer status, aging and balances.

Outstanding is the receivable accounts' balance at the end date, and aging splits
that same balance by the due date of the charge each line is about, so the two
reports and the ledger always agree to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from billing.choices import ChargeStatus
from feemgmt.core.money import money_from_db
from ledger.choices import AccountPurpose, EntryKind

from .sql import (
    ACCOUNT,
    CHARGE,
    CONTRACT,
    CUSTOMER,
    ENTRY,
    LINE,
    SUBJECT_PREFIX,
    account_scope,
    as_of,
    base_kind,
    charge_id_of,
    fetch,
    in_range,
    to_date,
)

if TYPE_CHECKING:
    from ..registry import ReportFilters

R, P, D = AccountPurpose.RECEIVABLE, AccountPurpose.PREPAID, AccountPurpose.DEPOSIT_HELD
# what settles a charge's receivable (a write-off does not: it is not paid)
SETTLING_KINDS = (EntryKind.PAYMENT, EntryKind.PREPAID_APPLIED, EntryKind.DEPOSIT_APPLIED)
# money arriving from the customer, for the last payment date
RECEIPT_KINDS = (EntryKind.PAYMENT, EntryKind.PREPAYMENT)

BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")


def _kinds(kinds) -> str:
    return ", ".join(f"'{kind}'" for kind in kinds)


def _money(value, currency: str) -> Decimal:
    return money_from_db(value, currency).amount


def _open_receivables(filters: ReportFilters) -> list[dict]:
    """The receivable balance at the end date split into aging buckets, grouped per
    currency, in one pass over the receivable lines.

    Each line counts in the bucket of the charge its entry is about; the buckets
    being sums, no balance per charge is needed first (at a million charges that
    grouping by subject was most of the time)."""
    on = as_of(filters)
    # days past due = end date - due date; a charge due on the end date is current
    past = [on - dt.timedelta(days=days) for days in (0, 30, 60, 90)]
    params: list = [past[0], past[0], past[1], past[1], past[2], past[2], past[3], past[3]]
    params += [R, on]
    scope = account_scope("a", filters, params)
    group = "a.currency"
    sql = f"""
        SELECT {group},
            SUM(CASE WHEN c.due_date IS NULL OR c.due_date >= %s
                THEN l.amount ELSE 0 END) AS current,
            SUM(CASE WHEN c.due_date < %s AND c.due_date >= %s
                THEN l.amount ELSE 0 END) AS days_1_30,
            SUM(CASE WHEN c.due_date < %s AND c.due_date >= %s
                THEN l.amount ELSE 0 END) AS days_31_60,
            SUM(CASE WHEN c.due_date < %s AND c.due_date >= %s
                THEN l.amount ELSE 0 END) AS days_61_90,
            SUM(CASE WHEN c.due_date < %s THEN l.amount ELSE 0 END) AS days_over_90,
            SUM(l.amount) AS total
        FROM {LINE} l
        JOIN {ACCOUNT} a ON a.id = l.account_id
        JOIN {ENTRY} e ON e.id = l.entry_id
        LEFT JOIN {CHARGE} c ON c.id = {charge_id_of("e.subject")}
        WHERE a.purpose = %s AND e.effective_on <= %s{scope}
        GROUP BY {group}
        ORDER BY {group}
    """
    return [row for row in fetch(sql, params) if row["total"]]


def aging(filters: ReportFilters) -> list[dict]:
    rows = []
    for row in _open_receivables(filters):
        currency = row["currency"]
        rows.append(
            {"currency": currency}
            | {key: _money(row[key], currency) for key in (*BUCKETS, "total")}
        )
    return rows


def _customer_ledger(filters: ReportFilters) -> list[dict]:
    """Billed and paid in the range, balances at its end and the last receipt, per
    customer and currency, in one pass over the customers' account lines; overdue
    is the receivable on charges due before the end date, as in the aging.

    A reversal counts as the kind of the entry it cancels, so a reversed payment
    takes back what it paid and a reversed charge what it billed."""
    on = as_of(filters)
    range_params: list = []
    in_period = in_range("e.effective_on", filters, range_params)
    params: list = [
        R,
        *range_params,
        R,
        *range_params,
        R,
        R,
        on,
        P,
        D,
    ]
    sql = f"""
        SELECT a.customer_id, a.currency, cu.code AS customer_code, cu.name AS customer_name,
            SUM(CASE WHEN a.purpose = %s AND {base_kind("e")} = '{EntryKind.CHARGE}'
                AND {in_period} THEN l.amount ELSE 0 END) AS billed,
            -SUM(CASE WHEN a.purpose = %s
                AND {base_kind("e")} IN ({_kinds(SETTLING_KINDS)})
                AND {in_period} THEN l.amount ELSE 0 END) AS paid,
            SUM(CASE WHEN a.purpose = %s THEN l.amount ELSE 0 END) AS outstanding,
            SUM(CASE WHEN a.purpose = %s AND c.due_date < %s
                THEN l.amount ELSE 0 END) AS overdue,
            -SUM(CASE WHEN a.purpose = %s THEN l.amount ELSE 0 END) AS prepaid,
            -SUM(CASE WHEN a.purpose = %s THEN l.amount ELSE 0 END) AS deposit,
            MAX(CASE WHEN e.kind IN ({_kinds(RECEIPT_KINDS)}) AND r.reverses_id IS NULL
                THEN e.effective_on END) AS last_payment_on
        FROM {LINE} l
        JOIN {ACCOUNT} a ON a.id = l.account_id
        JOIN {ENTRY} e ON e.id = l.entry_id
        JOIN {CUSTOMER} cu ON cu.id = a.customer_id
        LEFT JOIN {CHARGE} c ON c.id = {charge_id_of("e.subject")}
        LEFT JOIN (
            SELECT reverses_id FROM {ENTRY}
            WHERE kind = '{EntryKind.REVERSAL}' AND effective_on <= %s
        ) r ON r.reverses_id = e.id
        WHERE a.purpose IN (%s, %s, %s) AND e.effective_on <= %s{{scope}}
        GROUP BY a.customer_id, a.currency, cu.code, cu.name
    """
    params += [on, R, P, D, on]
    sql = sql.replace("{scope}", account_scope("a", filters, params))
    return fetch(sql, params)


def _on_time(filters: ReportFilters) -> list[dict]:
    """Charges due in the range and how many of them were paid by their due date:
    paid, and the last payment settling it effective on or before that date."""
    params: list = []
    due_in = in_range("c.due_date", filters, params)
    params += [ChargeStatus.CANCELLED]
    scope = []
    if filters.customer_id is not None:
        scope.append("ct.customer_id = %s")
        params.append(filters.customer_id)
    if filters.currency:
        scope.append("c.amount_currency = %s")
        params.append(filters.currency)
    params.insert(0, ChargeStatus.PAID)
    sql = f"""
        SELECT ct.customer_id, c.amount_currency AS currency,
            cu.code AS customer_code, cu.name AS customer_name,
            COUNT(*) AS charges_due,
            SUM(CASE WHEN c.status = %s AND s.settled_on <= c.due_date
                THEN 1 ELSE 0 END) AS on_time
        FROM {CHARGE} c
        JOIN {CONTRACT} ct ON ct.id = c.contract_id
        JOIN {CUSTOMER} cu ON cu.id = ct.customer_id
        LEFT JOIN (
            SELECT subject, MAX(effective_on) AS settled_on
            FROM {ENTRY}
            WHERE kind IN ({_kinds(SETTLING_KINDS)})
            GROUP BY subject
        ) s ON s.subject = '{SUBJECT_PREFIX}' || c.id
        WHERE {due_in} AND c.status <> %s AND c.amount > 0
            {"".join(f" AND {part}" for part in scope)}
        GROUP BY ct.customer_id, c.amount_currency, cu.code, cu.name
    """
    return fetch(sql, params)


def customer_status(filters: ReportFilters) -> list[dict]:
    ledger = {(row["customer_id"], row["currency"]): row for row in _customer_ledger(filters)}
    on_time = {(row["customer_id"], row["currency"]): row for row in _on_time(filters)}
    rows = []
    for key in sorted(ledger.keys() | on_time.keys(), key=lambda k: (k[1], k[0])):
        customer_id, currency = key
        books = ledger.get(key, {})
        dues = on_time.get(key, {})
        named = books or dues
        due = dues.get("charges_due", 0)
        rows.append(
            {
                "currency": currency,
                "customer_id": customer_id,
                "customer_code": named["customer_code"],
                "customer_name": named["customer_name"],
                "billed": _money(books.get("billed"), currency),
                "paid": _money(books.get("paid"), currency),
                "outstanding": _money(books.get("outstanding"), currency),
                "overdue": _money(books.get("overdue"), currency),
                "prepaid": _money(books.get("prepaid"), currency),
                "deposit": _money(books.get("deposit"), currency),
                "last_payment_on": to_date(books.get("last_payment_on")),
                "charges_due": due,
                "on_time_rate": (
                    (Decimal(dues["on_time"]) / due).quantize(Decimal("0.0001")) if due else None
                ),
            }
        )
    return rows


def balances(filters: ReportFilters) -> list[dict]:
    """Prepaid balances and deposits held at the end date, on their normal side, per
    customer and currency, each currency closed by its total row."""
    params: list = [P, D, P, D, as_of(filters)]
    scope = account_scope("a", filters, params)
    sql = f"""
        SELECT a.customer_id, a.currency, cu.code AS customer_code, cu.name AS customer_name,
            -SUM(CASE WHEN a.purpose = %s THEN l.amount ELSE 0 END) AS prepaid,
            -SUM(CASE WHEN a.purpose = %s THEN l.amount ELSE 0 END) AS deposit
        FROM {LINE} l
        JOIN {ACCOUNT} a ON a.id = l.account_id
        JOIN {ENTRY} e ON e.id = l.entry_id
        JOIN {CUSTOMER} cu ON cu.id = a.customer_id
        WHERE a.purpose IN (%s, %s) AND e.effective_on <= %s{scope}
        GROUP BY a.customer_id, a.currency, cu.code, cu.name
        ORDER BY a.currency, cu.code
    """
    rows: list[dict] = []
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"prepaid": 0, "deposit": 0})
    for row in fetch(sql, params):
        currency = row["currency"]
        prepaid, deposit = _money(row["prepaid"], currency), _money(row["deposit"], currency)
        if not prepaid and not deposit:
            continue
        if rows and rows[-1]["currency"] != currency:
            rows.append(_total_row(rows[-1]["currency"], totals, _("Total")))
        rows.append(
            {
                "currency": currency,
                "customer_id": row["customer_id"],
                "customer_code": row["customer_code"],
                "customer_name": row["customer_name"],
                "prepaid": prepaid,
                "deposit": deposit,
                "is_total": False,
            }
        )
        totals[currency]["prepaid"] += prepaid
        totals[currency]["deposit"] += deposit
    if rows:
        rows.append(_total_row(rows[-1]["currency"], totals, _("Total")))
    return rows


def _total_row(currency: str, totals: dict, label) -> dict:
    return {
        "currency": currency,
        "customer_id": None,
        "customer_code": "",
        "customer_name": label,
        "prepaid": _money(totals[currency]["prepaid"], currency),
        "deposit": _money(totals[currency]["deposit"], currency),
        "is_total": True,
    }
