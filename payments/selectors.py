"""Reads of collection that several services and pages share; none of them writes.

A contract's deposit is what its deposit charges collected (their successful
attempts) less what was refunded of them. When the contract ends, the deposit
pays what the customer still owes — their fee charges in the deposit's currency
due by then, this contract's first, oldest first — and the rest is refunded
(docs/collection.md, "Deposits").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, Sum, Value, When

from billing.choices import COLLECTABLE_STATUSES
from billing.models import Charge
from contracts.choices import SigningTreatment
from contracts.models import Contract
from feemgmt.core.money import Money, money_from_db
from ledger.choices import AccountPurpose
from ledger.models import JournalLine
from ledger.postings import charge_subject

from .choices import AttemptStatus, RefundSource, RefundStatus
from .models import PaymentAttempt, Refund

_COMMITTED_REFUNDS = (RefundStatus.PENDING, RefundStatus.MANUAL, RefundStatus.SUCCEEDED)


def deposit_attempts(contract: Contract):
    """The successful attempts that collected the contract's deposit."""
    return PaymentAttempt.objects.filter(
        charge__contract=contract,
        charge__fee__treatment=SigningTreatment.DEPOSIT,
        status=AttemptStatus.SUCCEEDED,
    ).order_by("id")


def deposit_held(contract: Contract) -> Money:
    """The contract's deposit still with us (two aggregate queries)."""
    currency = contract.currency
    attempts = deposit_attempts(contract)
    collected = attempts.aggregate(total=Sum("amount"))["total"]
    refunded = Refund.objects.filter(
        attempt__in=attempts, source=RefundSource.PAYMENT, status__in=_COMMITTED_REFUNDS
    ).aggregate(total=Sum("amount"))["total"]
    return money_from_db(collected, currency) - money_from_db(refunded, currency)


@dataclass(frozen=True)
class DepositPlan:
    """What releasing a deposit would do: ``items`` are (charge, amount) paid from
    it in that order, ``blocked`` the charges owed that cannot be paid from it yet
    (a payment with an unknown outcome: the gateway may have taken the money)."""

    held: Money
    items: tuple[tuple[Charge, Money], ...]
    refund: Money
    blocked: tuple[Charge, ...] = ()

    @property
    def applied(self) -> Money:
        return self.held - self.refund

    def as_stored(self) -> list[dict]:
        return [
            {"charge": charge.pk, "amount": str(amount.amount)} for charge, amount in self.items
        ]


def charges_owed(*, customer_id: int, currency: str, on: dt.date, first_contract: int):
    """The customer's fee charges still to collect, due by ``on``: the contract
    being released first, then by due date."""
    return (
        Charge.objects.filter(
            contract__customer_id=customer_id,
            amount_currency=currency,
            status__in=COLLECTABLE_STATUSES,
            due_date__lte=on,
            amount__gt=0,
        )
        .filter(Q(fee__treatment="") | Q(fee__treatment=SigningTreatment.FEE))
        .select_related("contract")
        .annotate(
            other_contract=Case(
                When(contract_id=first_contract, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("other_contract", "due_date", "id")
    )


def receivable_by_charge(*, customer_id: int, currency: str, charge_ids: list[int]) -> dict:
    """What is still receivable on each charge, in one aggregate query."""
    subjects = {charge_subject(pk): pk for pk in charge_ids}
    rows = (
        JournalLine.objects.filter(
            account__customer_id=customer_id,
            account__purpose=AccountPurpose.RECEIVABLE,
            account__currency=currency,
            entry__subject__in=list(subjects),
        )
        .values("entry__subject")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    owed = {pk: money_from_db(0, currency) for pk in charge_ids}
    for row in rows:
        owed[subjects[row["entry__subject"]]] = money_from_db(row["total"], currency)
    return owed


def deposit_release_plan(contract: Contract, *, on: dt.date) -> DepositPlan:
    """How the contract's deposit would be released on ``on`` (a fixed number of
    queries, however many charges are owed)."""
    held = deposit_held(contract)
    currency = contract.currency
    owed = list(
        charges_owed(
            customer_id=contract.customer_id, currency=currency, on=on, first_contract=contract.pk
        )
    )
    unknown = set(
        PaymentAttempt.objects.filter(charge__in=owed, status=AttemptStatus.UNKNOWN).values_list(
            "charge_id", flat=True
        )
    )
    left = receivable_by_charge(
        customer_id=contract.customer_id, currency=currency, charge_ids=[c.pk for c in owed]
    )
    items, blocked, rest = [], [], held
    for charge in owed:
        if rest.amount <= 0:
            break
        if left[charge.pk].amount <= 0:
            continue
        if charge.pk in unknown:
            blocked.append(charge)
            continue
        use = min(rest, left[charge.pk])
        items.append((charge, use))
        rest -= use
    return DepositPlan(held=held, items=tuple(items), refund=rest, blocked=tuple(blocked))
