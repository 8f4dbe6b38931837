"""Rules about collecting charges: deductions failing in a row, charges long
overdue, a charge far from what the fee usually costs, customers who pay late,
and prepaid balances that will not cover what is coming (docs/risk.md)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import Avg, Count, F, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alerts.choices import AlertKind
from billing.choices import AmendmentStatus, ChargeStatus
from billing.models import Charge, FeeAmendment
from contracts.choices import ContractStatus
from contracts.models import Fee
from feemgmt.core.money import money_from_db, money_label
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalLine
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt

from .base import Check, Finding, Rule, subject

FAILURES = (AttemptStatus.FAILED, AttemptStatus.RETURNED)
# The entries that pay a charge (a write-off settles it without paying it).
SETTLING_KINDS = (EntryKind.PAYMENT, EntryKind.PREPAID_APPLIED, EntryKind.DEPOSIT_APPLIED)
# How far back the on-time rate looks for a customer's last N charges.
ON_TIME_LOOKBACK_DAYS = 3 * 366
# How far back a scheduled run looks for charges far from their usual amount (the
# billing run checks each new charge as it is created).
DEVIATION_LOOKBACK_DAYS = 31
# Where a fee's comparison window starts when no consented change is in force.
EVER = dt.date(1900, 1, 1)


def failed_deductions(check: Check):
    """Contracts whose last N deductions or more all failed (declined, or returned by
    the bank): the failures since the contract's last successful one."""
    last_success = (
        PaymentAttempt.objects.filter(
            charge__contract_id=OuterRef("charge__contract_id"), status=AttemptStatus.SUCCEEDED
        )
        .order_by()
        .values("charge__contract_id")
        .annotate(last=Max("created_at"))
        .values("last")
    )
    attempts = PaymentAttempt.objects.filter(
        status__in=FAILURES,
        charge__contract__status__in=[ContractStatus.SIGNED, ContractStatus.ACTIVE],
    )
    if (ids := check.ids("charge")) is not None:  # the contracts of these charges
        attempts = attempts.filter(
            charge__contract_id__in=Charge.objects.filter(id__in=ids).values("contract_id")
        )
    rows = (
        attempts.annotate(last_success=Subquery(last_success))
        .filter(Q(last_success__isnull=True) | Q(created_at__gt=F("last_success")))
        .values("charge__contract_id", "charge__contract__number", "charge__contract__customer_id")
        .annotate(failures=Count("id"), last=Max("created_at"))
        .filter(failures__gte=check.count)
        .order_by("charge__contract_id")
    )
    for row in rows:
        yield Finding(
            subject=subject("contract", row["charge__contract_id"]),
            customer_id=row["charge__contract__customer_id"],
            message=_(
                "The last %(count)d deductions for contract %(number)s failed "
                "(the latest on %(date)s)."
            )
            % {
                "count": row["failures"],
                "number": row["charge__contract__number"],
                "date": row["last"].date().isoformat(),
            },
        )


def overdue_long(check: Check):
    """Overdue charges whose due date is N days or more in the past."""
    cutoff = check.today - dt.timedelta(days=check.days)
    rows = (
        Charge.objects.filter(status=ChargeStatus.OVERDUE, due_date__lte=cutoff)
        .values(
            "id",
            "due_date",
            "amount",
            "amount_currency",
            "contract__number",
            "contract__customer_id",
        )
        .order_by("id")
    )
    for row in rows:
        yield Finding(
            subject=subject("charge", row["id"]),
            customer_id=row["contract__customer_id"],
            message=_(
                "%(amount)s of contract %(number)s has been overdue for %(days)d days "
                "(due %(due)s)."
            )
            % {
                "amount": money_label(money_from_db(row["amount"], row["amount_currency"])),
                "number": row["contract__number"],
                "days": (check.today - row["due_date"]).days,
                "due": row["due_date"].isoformat(),
            },
        )


def amount_deviation(check: Check):
    """Charges (for a whole period) more than X% above or below the average of the
    same fee's earlier whole-period charges; a fee's first charge has nothing to be
    compared with, and prorated charges are expected to differ. A consented fee
    change starts the comparison afresh: only charges since the change in force for
    a charge count as its usual amount (docs/amendments.md)."""
    in_force_since = (
        FeeAmendment.objects.filter(
            fee_id=OuterRef("fee_id"),
            status=AmendmentStatus.CONSENTED,
            effective_from__lte=OuterRef("due_date"),
        )
        .order_by("-effective_from")
        .values("effective_from")[:1]
    )
    usual = (
        Charge.objects.filter(
            fee_id=OuterRef("fee_id"),
            due_date__lt=OuterRef("due_date"),
            due_date__gte=OuterRef("since"),
            prorated=False,
        )
        .exclude(status=ChargeStatus.CANCELLED)
        .order_by()
        .values("fee_id")
        .annotate(usual=Avg("amount"))
        .values("usual")
    )
    charges = Charge.objects.filter(prorated=False).exclude(status=ChargeStatus.CANCELLED)
    if (ids := check.ids("charge")) is not None:
        charges = charges.filter(id__in=ids)
    else:
        charges = charges.filter(
            due_date__gte=check.today - dt.timedelta(days=DEVIATION_LOOKBACK_DAYS)
        )
    share = check.percent / Decimal(100)
    rows = (
        charges.annotate(since=Coalesce(Subquery(in_force_since), Value(EVER)))
        .annotate(usual=Subquery(usual))
        .filter(usual__isnull=False, usual__gt=0)
        .filter(Q(amount__gt=F("usual") * (1 + share)) | Q(amount__lt=F("usual") * (1 - share)))
        .values(
            "id",
            "amount",
            "amount_currency",
            "usual",
            "due_date",
            "contract__number",
            "contract__customer_id",
        )
        .order_by("id")
    )
    for row in rows:
        currency = row["amount_currency"]
        amount = money_from_db(row["amount"], currency)
        usual_amount = money_from_db(row["usual"], currency)
        away = abs(amount.amount - usual_amount.amount) * 100 / usual_amount.amount
        yield Finding(
            subject=subject("charge", row["id"]),
            customer_id=row["contract__customer_id"],
            message=_(
                "The charge of %(amount)s due %(due)s for contract %(number)s is "
                "%(percent)s%% away from the usual %(usual)s."
            )
            % {
                "amount": money_label(amount),
                "due": row["due_date"].isoformat(),
                "number": row["contract__number"],
                "percent": round(away),
                "usual": money_label(usual_amount),
            },
        )


# A charge is paid on time when it is paid and the payments (prepaid or deposit
# applied included) credited to its receivable on or before its due date cover it —
# the customer-status report's definition (docs/reports.md). The charges ranked per
# customer, newest due first.
ON_TIME_SQL = """
WITH ranked AS (
    SELECT c.id, c.amount, c.due_date, c.status, k.customer_id,
           ROW_NUMBER() OVER (PARTITION BY k.customer_id ORDER BY c.due_date DESC, c.id DESC) AS n
    FROM billing_charge c
    JOIN contracts_contract k ON k.id = c.contract_id
    WHERE c.due_date < %(today)s AND c.due_date >= %(since)s
      AND c.status <> %(cancelled)s AND c.amount > 0
), paid AS (
    SELECT r.id, r.customer_id, r.amount, r.status,
           COALESCE((
               SELECT -SUM(l.amount)
               FROM ledger_journalentry e
               JOIN ledger_journalline l ON l.entry_id = e.id
               JOIN ledger_account a ON a.id = l.account_id
               WHERE e.subject = 'charge:' || r.id AND a.purpose = %(receivable)s
                 AND e.kind IN (%(payment)s, %(prepaid_applied)s, %(deposit_applied)s)
                 AND l.amount < 0 AND e.effective_on <= r.due_date
           ), 0) AS credited
    FROM ranked r
    WHERE r.n <= %(periods)s
)
SELECT customer_id, COUNT(*) AS due,
       SUM(CASE WHEN status = %(paid)s AND credited >= amount THEN 1 ELSE 0 END) AS on_time
FROM paid
GROUP BY customer_id
HAVING COUNT(*) >= %(periods)s
ORDER BY customer_id
"""


def on_time_rate(check: Check):
    """Customers who paid fewer than X% of their last N charges by the due date
    (a customer with fewer than N charges due yet is not judged)."""
    params = {
        "today": check.today,
        "since": check.today - dt.timedelta(days=ON_TIME_LOOKBACK_DAYS),
        "cancelled": ChargeStatus.CANCELLED.value,
        "receivable": AccountPurpose.RECEIVABLE.value,
        **{str(kind): str(kind) for kind in SETTLING_KINDS},
        "paid": ChargeStatus.PAID.value,
        "periods": check.count,
    }
    with connection.cursor() as cursor:
        cursor.execute(ON_TIME_SQL, params)
        rows = cursor.fetchall()
    for customer_id, due, on_time in rows:
        rate = Decimal(on_time) * 100 / Decimal(due)
        if rate >= check.percent:
            continue
        yield Finding(
            subject=subject("customer", customer_id),
            customer_id=customer_id,
            message=_(
                "Only %(on_time)d of the customer's last %(due)d charges were paid by their "
                "due date (%(rate)s%%, below %(threshold)s%%)."
            )
            % {
                "on_time": on_time,
                "due": due,
                "rate": round(rate),
                "threshold": check.percent.normalize(),
            },
        )


def prepaid_low(check: Check):
    """Customers holding prepaid credit that will not cover the fees falling due in
    the next N days (in the same currency)."""
    held = (
        JournalLine.objects.filter(account__purpose=AccountPurpose.PREPAID)
        .values_list("account__customer_id", "account__currency")
        .annotate(total=Sum("amount"))
        .filter(total__lt=0)  # a liability: credit is what the customer holds
        .order_by()
    )
    balances = {
        (customer, currency): -money_from_db(total, currency) for customer, currency, total in held
    }
    if not balances:
        return
    coming = (
        Fee.objects.filter(
            contract__customer_id__in=sorted({customer for customer, _c in balances}),
            contract__status__in=[ContractStatus.SIGNED, ContractStatus.ACTIVE],
            next_due_date__gte=check.today,
            next_due_date__lte=check.today + dt.timedelta(days=check.days),
        )
        .values_list("contract__customer_id", "amount_currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    needed = defaultdict(Decimal)
    for customer, currency, total in coming:
        needed[(customer, currency)] += money_from_db(total, currency).amount
    for (customer, currency), balance in sorted(balances.items()):
        due = needed.get((customer, currency))
        if due is None or balance.amount >= due:
            continue
        yield Finding(
            subject=f"customer:{customer}:{currency}",
            customer_id=customer,
            message=_(
                "The prepaid balance of %(balance)s will not cover the %(due)s falling due "
                "in the next %(days)d days."
            )
            % {
                "balance": money_label(balance),
                "due": money_label(money_from_db(due, currency)),
                "days": check.days,
            },
        )


RULES = (
    Rule(
        code=AlertKind.FAILED_DEDUCTIONS,
        description=gettext_lazy(
            "A contract's last N deductions all failed (declined or returned by the bank)."
        ),
        thresholds=("count",),
        find=failed_deductions,
        scopes=("charge",),
    ),
    Rule(
        code=AlertKind.OVERDUE_LONG,
        description=gettext_lazy("A charge is still overdue N days after its due date."),
        thresholds=("days",),
        find=overdue_long,
    ),
    Rule(
        code=AlertKind.AMOUNT_DEVIATION,
        description=gettext_lazy(
            "A charge for a whole period differs from the average of the same fee's "
            "earlier charges by more than X%."
        ),
        thresholds=("percent",),
        find=amount_deviation,
        scopes=("charge",),
        resolves=False,
    ),
    Rule(
        code=AlertKind.ON_TIME_RATE,
        description=gettext_lazy(
            "Of a customer's last N charges, the share paid by the due date is below X%."
        ),
        thresholds=("percent", "count"),
        find=on_time_rate,
        percent_max=100,
    ),
    Rule(
        code=AlertKind.PREPAID_LOW,
        description=gettext_lazy(
            "A customer's prepaid balance will not cover the fees due in the next N days."
        ),
        thresholds=("days",),
        find=prepaid_low,
    ),
)
