"""Reading the ledger: balances are sums of lines, never stored.

Every aggregate is read through :func:`feemgmt.core.money.money_from_db` (SQLite
returns sums of decimals as floats) and is taken over one currency only: an
account has one currency, and grouped reads group by it.

Two sign conventions, on purpose:

- :func:`account_balance` is the ledger's own: debit positive, credit negative.
- :func:`balances_for_customer` is what finance staff and customers read: each
  account on its normal side, so a customer with 100.00 of prepaid balance sees
  +100.00 although the liability account holds a credit of -100.00.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Sum

from feemgmt.core.money import Money, money_from_db

from .choices import CUSTOMER_PURPOSES, AccountPurpose, normal_sign
from .models import Account, JournalLine

__all__ = [
    "account_balance",
    "balances_for_customer",
    "customer_subject_balance",
    "receivable_by_customer",
    "subject_balance",
    "unbalanced_entries",
]


def account_balance(account: Account) -> Money:
    """Signed balance (debit positive) of one account."""
    total = JournalLine.objects.filter(account=account).aggregate(total=Sum("amount"))["total"]
    return money_from_db(total, account.currency)


def balances_for_customer(*, customer_id: int, currency: str) -> dict[str, Money]:
    """The customer's receivable, prepaid balance and deposit held in one currency,
    each on its normal side (what the customer owes / holds with us)."""
    rows = (
        JournalLine.objects.filter(
            account__customer_id=customer_id,
            account__currency=currency,
            account__purpose__in=sorted(CUSTOMER_PURPOSES),
        )
        .values("account__purpose")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    balances = {purpose: money_from_db(0, currency) for purpose in _customer_purposes()}
    for row in rows:
        purpose = row["account__purpose"]
        balances[purpose] = money_from_db(row["total"], currency) * normal_sign(purpose)
    return balances


def _customer_purposes() -> list[str]:
    return [p for p in AccountPurpose.values if p in CUSTOMER_PURPOSES]


def subject_balance(*, account: Account, subject: str, kinds: list[str] | None = None) -> Money:
    """Signed sum of an account's lines in entries about one subject (a charge):
    what is still receivable on a charge, or the cash collected for it."""
    lines = JournalLine.objects.filter(account=account, entry__subject=subject)
    if kinds is not None:
        lines = lines.filter(entry__kind__in=kinds)
    total = lines.aggregate(total=Sum("amount"))["total"]
    return money_from_db(total, account.currency)


def customer_subject_balance(
    *, customer_id: int, purpose: str, currency: str, subject: str
) -> Money:
    """:func:`subject_balance` of a customer's account found by its owner, purpose and
    currency; zero when the account does not exist. A pure read, unlike
    :func:`ledger.services.account_for`, which creates the account it looks for."""
    total = JournalLine.objects.filter(
        account__customer_id=customer_id,
        account__purpose=purpose,
        account__currency=currency,
        account__payment_method="",
        entry__subject=subject,
    ).aggregate(total=Sum("amount"))["total"]
    return money_from_db(total, currency)


def unbalanced_entries() -> list[int]:
    """Ids of entries whose lines do not sum to zero: always empty unless rows were
    written around :func:`ledger.services.journal_post`. For the scheduled audit."""
    rows = (
        JournalLine.objects.values("entry_id", "entry__currency")
        .annotate(total=Sum("amount"))
        .order_by("entry_id")
    )
    return [
        row["entry_id"]
        for row in rows
        if money_from_db(row["total"], row["entry__currency"]).amount != 0
    ]


def receivable_by_customer(customer_ids: Iterable[int]) -> dict[int, list[Money]]:
    """What each customer owes, per currency (non-zero only), in one query."""
    rows = (
        JournalLine.objects.filter(
            account__customer_id__in=list(customer_ids),
            account__purpose=AccountPurpose.RECEIVABLE,
        )
        .values("account__customer_id", "account__currency")
        .annotate(total=Sum("amount"))
        .order_by("account__customer_id", "account__currency")
    )
    due: dict[int, list[Money]] = defaultdict(list)
    sign = normal_sign(AccountPurpose.RECEIVABLE)
    for row in rows:
        amount = money_from_db(row["total"], row["account__currency"]) * sign
        if amount.amount:
            due[row["account__customer_id"]].append(amount)
    return dict(due)


def receivable_by_subject(subjects: Iterable[str]) -> dict[str, Decimal]:
    """The receivable balance (debit positive) booked against each subject, in one
    grouped query; a subject with no receivable line is left out."""
    rows = (
        JournalLine.objects.filter(
            account__purpose=AccountPurpose.RECEIVABLE, entry__subject__any=list(subjects)
        )
        .values_list("entry__subject")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return dict(rows)


def holding_prepaid(keys: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (customer, currency) pairs hold prepaid credit, in one query."""
    keys = set(keys)
    rows = (
        JournalLine.objects.filter(
            account__purpose=AccountPurpose.PREPAID,
            account__customer_id__any=sorted({customer for customer, _currency in keys}),
        )
        .values_list("account__customer_id", "account__currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    # a liability: credit (negative) is what the customer holds
    return {(customer, currency) for customer, currency, total in rows if total < 0} & keys
