"""The entry point reconciliation uses to settle a bank transfer.

A bank transfer attempt is PENDING with its remittance reference as the gateway
reference. A statement line quoting that reference (anywhere in its narrative:
:func:`~payments.adapters.bank_transfer.parse_remittance_reference` finds it) is money
the customer sent for that charge, whatever the amount, and is booked as such:

- exactly what is still owed settles the charge;
- less pays part of it: the charge stays collectable and shows what is still owed,
  and a later line quoting the same reference pays the rest;
- more settles it and the excess goes to the customer's prepaid balance;
- a charge that no longer owes anything (paid already, cancelled, written off) is
  paid again: the whole line goes to the prepaid balance.

Each line is booked under its own ledger reference, so matching a line twice books
it once. A prepayment or deposit charge is booked only when collected whole: any
other amount is refused and left for staff.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.utils.translation import gettext as _

from alerts.choices import AlertKind
from alerts.services import alert_raise
from billing.models import Charge
from contracts.choices import SigningTreatment
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, money_label
from ledger.models import JournalEntry
from ledger.postings import charge_subject, post_payment, post_prepayment
from payments.adapters.bank_transfer import parse_remittance_reference
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt

from . import notices
from .attempts import attempt_succeed
from .collection import (
    COLLECTABLE,
    charge_treatment,
    notify_after_commit,
    outstanding,
    settle_charge,
)

METHOD = "bank_transfer"


class Receipt(StrEnum):
    """What a received transfer did to the charge it names."""

    SETTLED = "settled"
    PARTIAL = "partial"
    OVERPAID = "overpaid"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class TransferReceipt:
    effect: Receipt
    attempt_id: int
    charge_id: int
    applied: Money  # booked against the charge
    excess: Money  # credited to the prepaid balance
    still_owed: Money
    already_booked: bool = False  # this line had been booked before (a repeat)


def bank_transfer_attempt(reference: str) -> PaymentAttempt | None:
    """The payment notice with this remittance reference, if any."""
    return PaymentAttempt.objects.filter(method=METHOD, provider_reference=reference).first()


def bank_transfer_receive(
    *, reference: str, amount: Money, booked_on: dt.date, line_reference: str
) -> TransferReceipt:
    """Book money a statement line says the customer sent for the notice ``reference``.

    ``line_reference`` names the line (``statement-line:42``) and is the ledger
    reference of what it booked, so a repeat changes nothing.
    """
    if amount.amount <= 0:
        raise BusinessError({"amount": [_("Only money received can pay a charge.")]})
    attempt = bank_transfer_attempt(reference)
    if attempt is None:
        raise BusinessError(
            {"reference": [_("No payment notice has the reference %(ref)s.") % {"ref": reference}]},
            code="unknown_reference",
        )
    with transaction.atomic():
        charge = (
            Charge.objects.select_for_update(of=("self",))
            .select_related("contract__customer", "fee")
            .get(pk=attempt.charge_id)
        )
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
        currency = charge.amount.currency.code
        if amount.currency.code != currency:
            raise BusinessError(
                {
                    "amount": [
                        _("The line is in %(got)s; the charge is in %(expected)s.")
                        % {"got": amount.currency.code, "expected": currency}
                    ]
                },
                code="currency_mismatch",
            )
        payment_ref = f"{line_reference}:payment"
        excess_ref = f"{line_reference}:excess"
        booked = dict(
            JournalEntry.objects.filter(reference__in=[payment_ref, excess_ref]).values_list(
                "reference", "kind"
            )
        )
        if booked:
            return _repeat(charge, attempt, amount, booked, payment_ref)
        owed = outstanding(charge) if charge.status in COLLECTABLE else Money(0, currency)
        treatment = charge_treatment(charge)
        if treatment != SigningTreatment.FEE and owed.amount > 0 and amount != owed:
            raise BusinessError(
                {
                    "amount": [
                        _("The line pays %(paid)s; the notice %(ref)s asks for %(asked)s.")
                        % {
                            "paid": money_label(amount),
                            "ref": reference,
                            "asked": money_label(owed),
                        }
                    ]
                },
                code="amount_mismatch",
            )
        applied = Money(max(min(owed.amount, amount.amount), 0), currency)
        excess = amount - applied
        customer_id = charge.contract.customer_id
        if applied.amount > 0:
            post_payment(
                customer_id=customer_id,
                amount=applied,
                method=METHOD,
                reference=payment_ref,
                charge_id=charge.pk,
                on=booked_on,
                treatment=treatment,
            )
        if excess.amount > 0:
            post_prepayment(
                customer_id=customer_id,
                amount=excess,
                method=METHOD,
                reference=excess_ref,
                on=booked_on,
            )
            alert_raise(
                kind=AlertKind.UNEXPECTED_PAYMENT,
                subject=charge_subject(charge.pk),
                customer=customer_id,
                message=_(
                    "A transfer quoting %(ref)s brought %(excess)s more than the charge "
                    "still needed; it was credited to the customer's prepaid balance."
                )
                % {"ref": reference, "excess": money_label(excess)},
            )
        if applied.amount == 0:
            still_owed = owed
        elif treatment == SigningTreatment.FEE:
            still_owed = outstanding(charge)  # the receivable, after this payment
        else:
            still_owed = owed - applied  # paid whole (checked above)
        if applied.amount == 0:
            effect = Receipt.DUPLICATE
        elif still_owed.amount > 0:
            effect = Receipt.PARTIAL
        else:
            effect = Receipt.OVERPAID if excess.amount > 0 else Receipt.SETTLED
            _attempt_succeeded(attempt, reference=reference, booked_on=booked_on)
            settle_charge(charge, on=booked_on)
            notify_after_commit(notices.receipt, attempt.pk)
        return TransferReceipt(
            effect=effect,
            attempt_id=attempt.pk,
            charge_id=charge.pk,
            applied=applied,
            excess=excess,
            still_owed=still_owed,
        )


def _attempt_succeeded(attempt: PaymentAttempt, *, reference: str, booked_on: dt.date) -> None:
    if attempt.status == AttemptStatus.SUCCEEDED:
        return
    attempt_succeed(attempt=attempt, raw={"settled_by_statement_on": booked_on.isoformat()})


def _repeat(
    charge: Charge, attempt: PaymentAttempt, amount: Money, booked: dict, payment_ref: str
) -> TransferReceipt:
    currency = charge.amount.currency.code
    applied = amount if payment_ref in booked else Money(0, currency)
    still_owed = outstanding(charge) if charge.status in COLLECTABLE else Money(0, currency)
    if applied.amount == 0:
        effect = Receipt.DUPLICATE
    else:
        effect = Receipt.SETTLED if still_owed.amount <= 0 else Receipt.PARTIAL
    return TransferReceipt(
        effect=effect,
        attempt_id=attempt.pk,
        charge_id=charge.pk,
        applied=applied,
        excess=amount - applied,
        still_owed=still_owed,
        already_booked=True,
    )


def bank_transfer_settle(
    *, narrative: str, amount: Money, booked_on: dt.date, line_reference: str = ""
) -> TransferReceipt:
    """Settle the bank transfer a line's narrative names (for callers holding only
    the free text of a line, like the demo's simulated bank)."""
    reference = parse_remittance_reference(narrative)
    if reference is None:
        raise BusinessError({"narrative": [_("No remittance reference found in the line.")]})
    return bank_transfer_receive(
        reference=reference,
        amount=amount,
        booked_on=booked_on,
        line_reference=line_reference or f"transfer:{reference}:{booked_on.isoformat()}",
    )


__all__ = [
    "Receipt",
    "TransferReceipt",
    "bank_transfer_attempt",
    "bank_transfer_receive",
    "bank_transfer_settle",
]
