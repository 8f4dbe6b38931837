"""What a receipt (收据) says, read from the charge and the ledger.

A receipt acknowledges the money that settled one paid charge. Its settlements
are the ledger entries that settled the charge and were not reversed: payments
(through a payment method), the prepaid balance applied and the deposit applied,
each with its date, how it was paid, its reference and amount. The amount in
figures and in capitals is their sum, so the receipt says what the books say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import ChargeStatus
from billing.models import Charge
from contracts.models import Contract, Customer
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, money_from_db
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalLine
from ledger.postings import charge_subject
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt

from .capitals import amount_in_capitals
from .company import Company, company, currency_name

__all__ = [
    "Receipt",
    "Settlement",
    "receipt_for_charge",
    "receipt_number",
    "receipts_for_charges",
]

SETTLING_KINDS = (EntryKind.PAYMENT, EntryKind.PREPAID_APPLIED, EntryKind.DEPOSIT_APPLIED)
ATTEMPT_PREFIX = "attempt:"


@dataclass(frozen=True)
class Settlement:
    on: dt.date
    method: str
    reference: str
    amount: Money


@dataclass(frozen=True)
class Receipt:
    number: str
    issued_on: dt.date
    company: Company
    customer: Customer
    contract: Contract
    charge: Charge
    item: str
    amount: Money
    capitals: str
    settlements: tuple[Settlement, ...]

    @property
    def paid_on(self) -> dt.date | None:
        return self.settlements[-1].on if self.settlements else None

    @property
    def capitals_line(self) -> str:
        """人民币壹仟贰佰元整: the currency's name, then the amount in capitals."""
        return currency_name(self.amount.currency.code) + self.capitals

    @property
    def methods(self) -> str:
        return "、".join(dict.fromkeys(s.method for s in self.settlements))

    @property
    def references(self) -> str:
        return ", ".join(s.reference for s in self.settlements if s.reference)


def receipt_number(charge_id: int) -> str:
    """One receipt per charge, its number derived from the charge: a receipt
    downloaded twice, by the customer or by staff, carries the same number."""
    return f"SJ{charge_id:08d}"


def paid_charge(charge: Charge) -> None:
    """Refuse a receipt for a charge that is not paid (pending, overdue, written
    off, cancelled, or returned by the bank)."""
    if charge.status != ChargeStatus.PAID:
        raise BusinessError(
            {
                "charge": [
                    _("Only a paid charge has a receipt; this one is %(status)s.")
                    % {"status": charge.get_status_display()}
                ]
            },
            code="not_paid",
        )


def _method_label(purpose: str, method: str) -> str:
    if purpose == AccountPurpose.PREPAID:
        return _("Prepaid balance")
    if purpose == AccountPurpose.DEPOSIT_HELD:
        return _("Deposit")
    return str(settings.PAYMENT_METHODS.get(method, method))


def settlements(charge_ids: list[int]) -> dict[int, tuple[Settlement, ...]]:
    """The entries that settled each charge, oldest first: two queries, however
    many charges."""
    subjects = {charge_subject(pk): pk for pk in charge_ids}
    gateway = dict(
        PaymentAttempt.objects.filter(charge_id__in=charge_ids, status=AttemptStatus.SUCCEEDED)
        .exclude(provider_reference=None)
        .values_list("idempotency_key", "provider_reference")
    )
    # each settling entry has one debit: the clearing account of the method the
    # money came by, or the prepaid balance or deposit it was taken from
    rows = (
        JournalLine.objects.filter(
            entry__subject__in=list(subjects),
            entry__kind__in=SETTLING_KINDS,
            entry__reversed_by__isnull=True,
            amount__gt=0,
        )
        .values_list(
            "entry__subject",
            "entry__effective_on",
            "entry__reference",
            "account__purpose",
            "account__payment_method",
            "account__currency",
            "amount",
        )
        .order_by("entry__effective_on", "entry_id")
    )
    out: dict[int, list[Settlement]] = {pk: [] for pk in charge_ids}
    for subject, on, reference, purpose, method, currency, amount in rows:
        if reference.startswith(ATTEMPT_PREFIX):
            key = reference.removeprefix(ATTEMPT_PREFIX)
            reference = gateway.get(key) or key
        out[subjects[subject]].append(
            Settlement(
                on=on,
                method=_method_label(purpose, method),
                reference=reference,
                amount=money_from_db(amount, currency),
            )
        )
    return {pk: tuple(found) for pk, found in out.items()}


def receipts_for_charges(charges: list[Charge]) -> list[Receipt]:
    """The receipts of paid charges (``BusinessError`` if one is not paid), each
    charge with its contract and customer (``select_related``): two queries for
    all of them."""
    for charge in charges:
        paid_charge(charge)
    settled = settlements([charge.pk for charge in charges])
    issued_on = timezone.localdate()
    issuer = company()
    return [_receipt(charge, settled[charge.pk], issued_on, issuer) for charge in charges]


def receipt_for_charge(charge: Charge) -> Receipt:
    """The receipt of one paid charge."""
    return receipts_for_charges([charge])[0]


def _receipt(charge: Charge, settled, issued_on: dt.date, issuer: Company) -> Receipt:
    currency = charge.amount.currency.code
    if settled:
        total = money_from_db(sum(s.amount.amount for s in settled), currency)
    else:
        total = money_from_db(charge.amount.amount, currency)
    return Receipt(
        number=receipt_number(charge.pk),
        issued_on=issued_on,
        company=issuer,
        customer=charge.contract.customer,
        contract=charge.contract,
        charge=charge,
        item=str(charge.get_kind_display()),
        amount=total,
        capitals=amount_in_capitals(total.amount),
        settlements=settled,
    )
