"""What each portal page reads, always filtered by the logged-in customer.

No function here writes; each one runs a fixed number of queries however many rows
the customer has (the tests count them). Balances come from the ledger's selectors
and the next charge of a fee from billing's, never recomputed here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.choices import COLLECTABLE_STATUSES, ChargeStatus
from billing.models import Charge
from billing.selectors import fee_next_charge
from contracts.choices import ContractStatus
from contracts.models import Contract, Customer, Fee
from feemgmt.core.money import Money
from ledger.choices import CUSTOMER_PURPOSES, AccountPurpose
from ledger.models import Account
from ledger.selectors import balances_for_customer
from payments.choices import AttemptStatus, MandateStatus
from payments.models import Mandate, PaymentAttempt

# Contracts whose fees are still billed.
LIVE_CONTRACT_STATUSES = (ContractStatus.SIGNED, ContractStatus.ACTIVE)


# --- Overview -------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrencyBalances:
    """What the customer owes and holds with us in one currency."""

    currency: str
    owed: Money
    prepaid: Money
    deposit: Money


@dataclass(frozen=True)
class NextDeduction:
    """The next money taken: an open charge's next collection, or the next charge a
    fee will be billed (then ``charge`` is None)."""

    on: dt.date
    amount: Money
    contract: Contract
    charge: Charge | None = None


@dataclass(frozen=True)
class Overview:
    balances: list[CurrencyBalances]
    next_deduction: NextDeduction | None
    overdue: list[Charge]


def customer_balances(customer: Customer) -> list[CurrencyBalances]:
    """Per currency the customer has accounts in (its own currency always first):
    one query for the currencies, one per currency for its balances."""
    currencies = set(
        Account.objects.filter(customer=customer, purpose__in=sorted(CUSTOMER_PURPOSES))
        .values_list("currency", flat=True)
        .distinct()
    )
    ordered = [customer.currency, *sorted(currencies - {customer.currency})]
    rows = []
    for currency in ordered:
        found = balances_for_customer(customer_id=customer.pk, currency=currency)
        rows.append(
            CurrencyBalances(
                currency=currency,
                owed=found[AccountPurpose.RECEIVABLE],
                prepaid=found[AccountPurpose.PREPAID],
                deposit=found[AccountPurpose.DEPOSIT_HELD],
            )
        )
    return rows


def next_deduction(customer: Customer, *, on: dt.date | None = None) -> NextDeduction | None:
    """Whichever comes first: the next collection of an open charge, or the next
    charge of a live contract's fee (its amount as the billing run will compute it)."""
    on = on or timezone.localdate()
    charge = (
        Charge.objects.select_related("contract")
        .filter(
            contract__customer=customer,
            status__in=COLLECTABLE_STATUSES,
            next_attempt_on__isnull=False,
            next_attempt_on__gte=on,
        )
        .order_by("next_attempt_on", "id")
        .first()
    )
    fee = (
        Fee.objects.select_related("contract")
        .filter(
            contract__customer=customer,
            contract__status__in=LIVE_CONTRACT_STATUSES,
            next_due_date__isnull=False,
            next_due_date__gte=on,
        )
        .order_by("next_due_date", "id")
        .first()
    )
    candidates = []
    if charge is not None:
        candidates.append(
            NextDeduction(
                on=charge.next_attempt_on,
                amount=charge.amount,
                contract=charge.contract,
                charge=charge,
            )
        )
    if fee is not None and (charge is None or fee.next_due_date < charge.next_attempt_on):
        spec = fee_next_charge(fee.pk)
        if spec is not None:
            candidates.append(
                NextDeduction(on=spec.due_date, amount=spec.amount, contract=fee.contract)
            )
    return min(candidates, key=lambda item: item.on) if candidates else None


def overdue_charges(customer: Customer) -> list[Charge]:
    return list(
        Charge.objects.select_related("contract")
        .filter(contract__customer=customer, status=ChargeStatus.OVERDUE)
        .order_by("due_date", "id")
    )


def portal_overview(customer: Customer, *, on: dt.date | None = None) -> Overview:
    return Overview(
        balances=customer_balances(customer),
        next_deduction=next_deduction(customer, on=on),
        overdue=overdue_charges(customer),
    )


# --- Contracts ------------------------------------------------------------------------


def contract_list(customer: Customer) -> QuerySet[Contract]:
    """The customer's contracts, newest first, with their fee schedules (two queries)."""
    return (
        Contract.objects.filter(customer=customer)
        .prefetch_related("fees")
        .order_by("-service_start", "-id")
    )


def contract_recent_charges(contract: Contract, *, limit: int = 12) -> list[Charge]:
    return list(contract.charges.order_by("-due_date", "-id")[:limit])


# --- Charges and payments -------------------------------------------------------------


def charge_list(
    customer: Customer,
    *,
    status: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Charge]:
    """The customer's charges, latest due first, filtered by status and due date."""
    charges = Charge.objects.select_related("contract").filter(contract__customer=customer)
    if status:
        charges = charges.filter(status=status)
    if date_from:
        charges = charges.filter(due_date__gte=date_from)
    if date_to:
        charges = charges.filter(due_date__lte=date_to)
    return charges.order_by("-due_date", "-id")


@dataclass(frozen=True)
class ChargeDetail:
    charge: Charge
    attempts: list[PaymentAttempt]
    # The attempt waiting for the customer (a QR code, pay link or payment notice).
    waiting: PaymentAttempt | None
    # The latest attempt that collected money (the survey after a payment is about it).
    succeeded: PaymentAttempt | None = None


def charge_detail(charge: Charge) -> ChargeDetail:
    """A charge (looked up through the customer's :func:`charge_list`) and its payment
    attempts (one query)."""
    attempts = list(charge.attempts.order_by("-number"))
    waiting = next(
        (a for a in attempts if a.status == AttemptStatus.PENDING and a.action_value), None
    )
    succeeded = next((a for a in attempts if a.status == AttemptStatus.SUCCEEDED), None)
    return ChargeDetail(charge=charge, attempts=attempts, waiting=waiting, succeeded=succeeded)


def payment_list(
    customer: Customer,
    *,
    status: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[PaymentAttempt]:
    """The customer's payment attempts, newest first, filtered by status and by the
    day they were made (in the site's time zone)."""
    attempts = PaymentAttempt.objects.select_related("charge__contract").filter(
        charge__contract__customer=customer
    )
    if status:
        attempts = attempts.filter(status=status)
    if date_from:
        attempts = attempts.filter(created_at__date__gte=date_from)
    if date_to:
        attempts = attempts.filter(created_at__date__lte=date_to)
    return attempts.order_by("-created_at", "-id")


# --- Mandates -------------------------------------------------------------------------


@dataclass(frozen=True)
class MandatePage:
    active: Mandate | None
    history: list[Mandate]
    debit_contracts: list[Contract]


def mandate_page(customer: Customer) -> MandatePage:
    """The customer's mandates with their portal consent, and the contracts paid by
    direct debit (two queries)."""
    mandates = list(
        Mandate.objects.filter(customer=customer)
        .select_related("portal_consent")
        .order_by("-signed_on", "-id")
    )
    active = next((m for m in mandates if m.status == MandateStatus.ACTIVE), None)
    contracts = list(
        Contract.objects.filter(customer=customer, payment_method="auto_debit")
        .filter(Q(status__in=LIVE_CONTRACT_STATUSES) | Q(status=ContractStatus.DRAFT))
        .order_by("number")
    )
    return MandatePage(
        active=active, history=[m for m in mandates if m is not active], debit_contracts=contracts
    )
