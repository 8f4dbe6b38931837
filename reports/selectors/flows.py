"""Money moving in a period: collections, fee income and failed deductions.

Ledger figures count on the entry's effective date (the day the movement is
booked), and a reversal counts as the kind of the entry it cancels, on its own
date: a payment reversed in March lowers March's collections.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from contracts.choices import FeeKind
from feemgmt.core.money import money_from_db
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import Account
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt

from .sql import (
    ACCOUNT,
    CHARGE,
    CONTRACT,
    ENTRY,
    LINE,
    SUBJECT_PREFIX,
    base_kind,
    charge_id_of,
    fetch,
    in_range,
    month_of,
    to_date,
)

if TYPE_CHECKING:
    from ..registry import ReportFilters

COLLECTED_KINDS = (EntryKind.PAYMENT, EntryKind.PREPAYMENT)
DECIDED = (AttemptStatus.SUCCEEDED, AttemptStatus.FAILED, AttemptStatus.RETURNED)
FAILED = (AttemptStatus.FAILED, AttemptStatus.RETURNED)


def collections(filters: ReportFilters) -> list[dict]:
    """What payments and prepayments brought into the clearing accounts (the
    debit side of every receipt), per method and month."""
    params: list = [AccountPurpose.CLEARING, *COLLECTED_KINDS]
    period = in_range("e.effective_on", filters, params)
    scope = ""
    if filters.currency:
        scope += " AND a.currency = %s"
        params.append(filters.currency)
    if filters.customer_id is not None:
        # the customer's side of the same entry names whose money it was
        scope += f"""
            AND EXISTS (
                SELECT 1 FROM {LINE} cl JOIN {ACCOUNT} ca ON ca.id = cl.account_id
                WHERE cl.entry_id = e.id AND ca.customer_id = %s
            )"""
        params.append(filters.customer_id)
    sql = f"""
        SELECT a.currency, {month_of("e.effective_on")} AS month, a.payment_method AS method,
            SUM(l.amount) AS amount,
            SUM(CASE WHEN e.kind = '{EntryKind.REVERSAL}' THEN -1 ELSE 1 END) AS count
        FROM {LINE} l
        JOIN {ACCOUNT} a ON a.id = l.account_id
        JOIN {ENTRY} e ON e.id = l.entry_id
        WHERE a.purpose = %s AND {base_kind("e")} IN (%s, %s) AND {period}{scope}
        GROUP BY a.currency, {month_of("e.effective_on")}, a.payment_method
        ORDER BY a.currency, month, a.payment_method
    """
    return [
        {
            "currency": row["currency"],
            "month": to_date(row["month"]),
            "method": row["method"],
            "amount": money_from_db(row["amount"], row["currency"]).amount,
            "count": int(row["count"]),
        }
        for row in fetch(sql, params)
    ]


def income(filters: ReportFilters) -> list[dict]:
    """The fee income account's movement (credits positive) per month and the fee
    kind of the charge each entry is about: charges add, refunds, cancellations
    and reversals of fee income take away."""
    # The few fee income accounts are read first and named by id: planned against
    # a join, their lines were estimated at an average account's (a hundred, not a
    # million) and read by a million index look-ups.
    accounts = Account.objects.filter(purpose=AccountPurpose.FEE_INCOME)
    if filters.currency:
        accounts = accounts.filter(currency=filters.currency)
    ids = list(accounts.values_list("id", flat=True))
    if not ids:
        return []
    params: list = [*ids]
    period = in_range("e.effective_on", filters, params)
    scope = ""
    if filters.customer_id is not None:
        # by the entries' subjects (indexed), not by scanning every fee income line
        scope += f"""
            AND e.subject IN (
                SELECT '{SUBJECT_PREFIX}' || ch.id FROM {CHARGE} ch
                JOIN {CONTRACT} ct ON ct.id = ch.contract_id WHERE ct.customer_id = %s
            )"""
        params.append(filters.customer_id)
    sql = f"""
        SELECT a.currency, {month_of("e.effective_on")} AS month, c.kind AS fee_kind,
            -SUM(l.amount) AS income
        FROM {LINE} l
        JOIN {ACCOUNT} a ON a.id = l.account_id
        JOIN {ENTRY} e ON e.id = l.entry_id
        LEFT JOIN {CHARGE} c ON c.id = {charge_id_of("e.subject")}
        WHERE l.account_id IN ({", ".join(["%s"] * len(ids))}) AND {period}{scope}
        GROUP BY a.currency, {month_of("e.effective_on")}, c.kind
        ORDER BY a.currency, month, c.kind
    """
    labels = dict(FeeKind.choices)
    return [
        {
            "currency": row["currency"],
            "month": to_date(row["month"]),
            "fee_kind": labels.get(row["fee_kind"], row["fee_kind"] or ""),
            "fee_kind_code": row["fee_kind"] or "",
            "income": money_from_db(row["income"], row["currency"]).amount,
        }
        for row in fetch(sql, params)
    ]


def failed_rate(filters: ReportFilters) -> list[dict]:
    """Decided attempts (succeeded, failed, returned by the bank) per method and the
    month they were made in, local time; failed counts declines and returns."""
    attempts = PaymentAttempt.objects.filter(status__in=DECIDED)
    if filters.date_from:
        attempts = attempts.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        attempts = attempts.filter(created_at__date__lte=filters.date_to)
    if filters.customer_id is not None:
        attempts = attempts.filter(charge__contract__customer_id=filters.customer_id)
    if filters.currency:
        attempts = attempts.filter(amount_currency=filters.currency)
    grouped = (
        attempts.annotate(month=TruncMonth("created_at"))
        .values("amount_currency", "month", "method")
        .annotate(attempts=Count("id"), failed=Count("id", filter=Q(status__in=FAILED)))
        .order_by("amount_currency", "month", "method")
    )
    return [
        {
            "currency": row["amount_currency"],
            "month": to_date(row["month"]),
            "method": row["method"],
            "attempts": row["attempts"],
            "failed": row["failed"],
            "rate": (Decimal(row["failed"]) / row["attempts"]).quantize(Decimal("0.0001")),
        }
        for row in grouped
    ]
