"""A customer's statement of account (对账单) for a period, read from the ledger.

The balance a statement follows is the customer's position with us in one
currency: what they owe (receivable) less what they hold with us (prepaid
balance and deposit held). In the ledger's signs that is simply the sum of every
line on the customer's three accounts in that currency (the receivable is
debit-normal, the two others credit-normal), so the opening balance is that sum
before the first day, the closing balance that sum up to the last day, and each
line of the statement is one journal entry's effect on it. The statement equals
the ledger by construction, and the tests hold it to the ledger's own balances.

Each entry counts as its kind — a reversal as the kind of the entry it cancels,
on its own date, as in the reports:

- **charges** (+): fees billed; a cancelled or re-priced charge's reversal (−);
- **payments** (−): money received, for a charge or as a top-up;
- **refunds** (+): money paid back (from the prepaid balance, the deposit or a
  fee already paid);
- **write-offs** (−): what we gave up on.

A fee refund books no line on the customer's accounts (the fee income is
debited, not the receivable): the customer paid the charge and got part of it
back, so the statement shows both halves, the refund (+) and the charge
reduced by as much (−), and the balance does not move. The prepaid balance or
deposit applied to a charge moves money between the customer's own accounts:
no effect on the balance, so no line.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, CharField, F, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Charge
from contracts.choices import FeeKind
from contracts.models import Customer
from feemgmt.core.money import Money, money_from_db
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalLine

from .company import Company, company

__all__ = ["Statement", "StatementLine", "StatementSection", "statement_for_customer"]

CHARGES, PAYMENTS, REFUNDS, WRITE_OFFS = "charges", "payments", "refunds", "write_offs"
CATEGORIES = (CHARGES, PAYMENTS, REFUNDS, WRITE_OFFS)
# Anything else on a customer's accounts; no posting books one today, but a line
# of an unknown kind must still count, so the closing balance stays the ledger's.
ADJUSTMENTS = "adjustments"
CATEGORY = {
    EntryKind.CHARGE: CHARGES,
    EntryKind.PAYMENT: PAYMENTS,
    EntryKind.PREPAYMENT: PAYMENTS,
    EntryKind.REFUND: REFUNDS,
    EntryKind.DEPOSIT_REFUND: REFUNDS,
    EntryKind.WRITE_OFF: WRITE_OFFS,
}
CUSTOMER_PURPOSES = (
    AccountPurpose.RECEIVABLE,
    AccountPurpose.PREPAID,
    AccountPurpose.DEPOSIT_HELD,
)
SUBJECT_PREFIX = "charge:"


@dataclass(frozen=True)
class StatementLine:
    on: dt.date
    category: str
    description: str
    reference: str
    amount: Money  # + raises what the customer owes, − lowers it
    balance: Money  # after this line


@dataclass
class StatementSection:
    """One currency's part of the statement."""

    currency: str
    opening: Money
    closing: Money
    # the closing balance's parts, each on its normal side (owed / held)
    receivable: Money
    prepaid: Money
    deposit: Money
    lines: list[StatementLine] = field(default_factory=list)
    totals: dict[str, Money] = field(default_factory=dict)

    @property
    def charges(self) -> Money:
        return self.totals[CHARGES]

    @property
    def payments(self) -> Money:
        """Money received, as a positive sum."""
        return -self.totals[PAYMENTS]

    @property
    def refunds(self) -> Money:
        return self.totals[REFUNDS]

    @property
    def write_offs(self) -> Money:
        """Written off, as a positive sum."""
        return -self.totals[WRITE_OFFS]

    @property
    def adjustments(self) -> Money:
        return self.totals[ADJUSTMENTS]


@dataclass(frozen=True)
class Statement:
    customer: Customer
    date_from: dt.date
    date_to: dt.date
    issued_on: dt.date
    company: Company
    sections: tuple[StatementSection, ...]


def _base_kind():
    """The kind an entry counts as: its own, or for a reversal the one it cancels."""
    return Case(
        When(entry__kind=EntryKind.REVERSAL, then=F("entry__reverses__kind")),
        default=F("entry__kind"),
    )


def _balances(customer_id: int, date_from: dt.date, date_to: dt.date) -> dict:
    """Per currency and purpose: the signed sum of lines before the period and up
    to its end, in one grouped query."""
    rows = (
        JournalLine.objects.filter(
            account__customer_id=customer_id,
            account__purpose__in=CUSTOMER_PURPOSES,
            entry__effective_on__lte=date_to,
        )
        .values("account__currency", "account__purpose")
        .annotate(
            before=Coalesce(Sum("amount", filter=Q(entry__effective_on__lt=date_from)), Decimal(0)),
            upto=Sum("amount"),
        )
        .order_by()
    )
    out: dict[str, dict[str, tuple]] = defaultdict(dict)
    for row in rows:
        currency = row["account__currency"]
        out[currency][row["account__purpose"]] = (
            money_from_db(row["before"], currency),
            money_from_db(row["upto"], currency),
        )
    return out


def _movements(customer_id: int, date_from: dt.date, date_to: dt.date) -> list[dict]:
    """Each entry of the period with its net effect on the customer's accounts."""
    return list(
        JournalLine.objects.filter(
            account__customer_id=customer_id,
            account__purpose__in=CUSTOMER_PURPOSES,
            entry__effective_on__gte=date_from,
            entry__effective_on__lte=date_to,
        )
        .values(
            "entry_id",
            "entry__effective_on",
            "entry__reference",
            "entry__subject",
            "entry__kind",
            "account__currency",
        )
        .annotate(base=_base_kind(), amount=Sum("amount"))
        .order_by("entry__effective_on", "entry_id")
    )


def _fee_refunds(customer_id: int, date_from: dt.date, date_to: dt.date) -> list[dict]:
    """Fee refunds (and their reversals) of the customer's charges in the period:
    the fee income line of each, debit positive, is what went back to them."""
    subjects = Charge.objects.filter(contract__customer_id=customer_id).values(
        subject=Concat(Value(SUBJECT_PREFIX), Cast("pk", CharField()))
    )
    refund = Q(entry__kind=EntryKind.REFUND) | Q(
        entry__kind=EntryKind.REVERSAL, entry__reverses__kind=EntryKind.REFUND
    )
    return list(
        JournalLine.objects.filter(
            refund,
            account__purpose=AccountPurpose.FEE_INCOME,
            entry__effective_on__gte=date_from,
            entry__effective_on__lte=date_to,
            entry__subject__in=subjects,
        )
        .values(
            "entry_id",
            "entry__effective_on",
            "entry__reference",
            "entry__subject",
            "entry__kind",
            "account__currency",
        )
        .annotate(amount=Sum("amount"))
        .order_by("entry__effective_on", "entry_id")
    )


def _charges(subjects: set[str]) -> dict[str, str]:
    """What each charge named by a subject was, for the lines' descriptions."""
    ids = {int(s.removeprefix(SUBJECT_PREFIX)) for s in subjects if s.startswith(SUBJECT_PREFIX)}
    if not ids:
        return {}
    rows = Charge.objects.filter(pk__in=sorted(ids)).values_list(
        "pk", "contract__number", "kind", "period_start", "period_end", "due_date"
    )
    kinds = dict(FeeKind.choices)
    out = {}
    for pk, number, kind, start, end, due in rows:
        when = f"{start.isoformat()} – {end.isoformat()}" if start and end else due.isoformat()
        out[f"{SUBJECT_PREFIX}{pk}"] = f"{number} {kinds.get(kind, kind)} {when}"
    return out


def _shown_reference(reference: str, subject: str) -> str:
    """The entry's reference as the customer can use it: none for a charge's own
    booking (named by the description already), an attempt's key without its
    prefix (the key the receipt and the notices quote)."""
    if reference == subject:
        return ""
    return reference.removeprefix("attempt:")


def _describe(base: str, reversal: bool) -> str:
    if base == EntryKind.CHARGE:
        return _("Charge cancelled or changed") if reversal else _("Charge")
    if base == EntryKind.PAYMENT:
        return _("Payment reversed") if reversal else _("Payment received")
    if base == EntryKind.PREPAYMENT:
        return _("Prepayment reversed") if reversal else _("Prepayment received")
    if base == EntryKind.REFUND:
        return _("Refund reversed") if reversal else _("Refund paid to you")
    if base == EntryKind.DEPOSIT_REFUND:
        return _("Deposit refund reversed") if reversal else _("Deposit refunded to you")
    if base == EntryKind.WRITE_OFF:
        return _("Write-off reversed") if reversal else _("Written off")
    return _("Adjustment")


def _events(movements: list[dict], refunds: list[dict]) -> list[tuple]:
    """(entry row, order within the entry, currency, category, text, amount) for
    every line the statement shows, in the order of the books."""
    events = []
    for row in movements:
        currency = row["account__currency"]
        amount = money_from_db(row["amount"], currency)
        if not amount.amount:
            continue  # money moved between the customer's own accounts
        reversal = row["entry__kind"] == EntryKind.REVERSAL
        category = CATEGORY.get(row["base"], ADJUSTMENTS)
        events.append((row, 0, currency, category, _describe(row["base"], reversal), amount))
    for row in refunds:
        currency = row["account__currency"]
        amount = money_from_db(row["amount"], currency)
        if not amount.amount:
            continue
        reversal = row["entry__kind"] == EntryKind.REVERSAL
        events.append((row, 0, currency, REFUNDS, _describe(EntryKind.REFUND, reversal), amount))
        reduced = _("Fee refund reversed") if reversal else _("Fee reduced by the refund")
        events.append((row, 1, currency, CHARGES, reduced, -amount))
    events.sort(key=lambda e: (e[0]["entry__effective_on"], e[0]["entry_id"], e[1]))
    return events


def _section(currency: str, parts: dict[str, tuple[Money, Money]]) -> StatementSection:
    """A currency's section with its balances; its lines are added after."""
    zero = money_from_db(0, currency)

    def part(purpose, index):
        return parts.get(purpose, (zero, zero))[index]

    return StatementSection(
        currency=currency,
        opening=sum((part(p, 0) for p in CUSTOMER_PURPOSES), zero),
        closing=sum((part(p, 1) for p in CUSTOMER_PURPOSES), zero),
        receivable=part(AccountPurpose.RECEIVABLE, 1),
        prepaid=-part(AccountPurpose.PREPAID, 1),
        deposit=-part(AccountPurpose.DEPOSIT_HELD, 1),
        totals={name: zero for name in (*CATEGORIES, ADJUSTMENTS)},
    )


def statement_for_customer(
    *, customer: Customer, date_from: dt.date, date_to: dt.date
) -> Statement:
    """The customer's statement for [date_from, date_to] (inclusive, effective
    dates), one section per currency with a balance or a movement: four queries
    whatever the number of lines."""
    balances = _balances(customer.pk, date_from, date_to)
    movements = _movements(customer.pk, date_from, date_to)
    refunds = _fee_refunds(customer.pk, date_from, date_to)
    labels = _charges({row["entry__subject"] for row in [*movements, *refunds]})
    events = _events(movements, refunds)

    currencies = sorted(set(balances) | {event[2] for event in events})
    sections = {currency: _section(currency, balances.get(currency, {})) for currency in currencies}
    running = {currency: section.opening for currency, section in sections.items()}
    for row, _order, currency, category, text, amount in events:
        section = sections[currency]
        running[currency] += amount
        section.totals[category] += amount
        subject = row["entry__subject"]
        section.lines.append(
            StatementLine(
                on=row["entry__effective_on"],
                category=category,
                description=f"{text}: {labels[subject]}" if subject in labels else text,
                reference=_shown_reference(row["entry__reference"], subject),
                amount=amount,
                balance=running[currency],
            )
        )
    shown = tuple(
        section
        for section in sections.values()
        if section.lines or section.opening.amount or section.closing.amount
    )
    return Statement(
        customer=customer,
        date_from=date_from,
        date_to=date_to,
        issued_on=timezone.localdate(),
        company=company(),
        sections=shown,
    )
