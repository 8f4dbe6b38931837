"""One charge's collection, step by step: resolve an open attempt, apply the
prepaid balance, open an attempt, call the gateway outside any transaction, record
the answer (the package docstring says how the steps are ordered and locked)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from alerts.choices import AlertKind
from alerts.services import alerts_resolve
from billing.choices import ChargeStatus
from billing.models import Charge
from billing.services import charge_resume
from contracts.choices import SigningTreatment
from feemgmt.core.locks import advisory_lock
from feemgmt.core.money import Money
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry
from ledger.postings import apply_prepaid, charge_subject
from ledger.selectors import account_balance
from ledger.services import account_for, accounts_lock
from payments.adapters import AdapterError, CollectionRequest, CollectionResult, get_adapter
from payments.adapters.base import AttemptStatus as Gateway
from payments.choices import OPEN_ATTEMPT_STATUSES, AttemptStatus
from payments.models import PaymentAttempt

from .. import mandates
from ..attempts import attempt_open
from .answers import block, record_result, record_unanswered, settle_charge
from .rules import (
    COLLECTABLE,
    LOCK_NAMESPACE,
    Outcome,
    charge_label,
    charge_treatment,
    collection_request,
    outstanding,
)


@dataclass(frozen=True)
class _Plan:
    attempt: PaymentAttempt | None
    outcome: Outcome | None = None


def charge_collect(charge_id: int, *, on: dt.date | None = None, force: bool = False) -> Outcome:
    """Move one charge's collection forward; safe to call twice, or from two workers.

    ``force`` ignores the charge's next collection date (staff "retry now").
    """
    on = on or timezone.localdate()
    with advisory_lock(LOCK_NAMESPACE, charge_id) as held:
        if not held:
            return Outcome.BUSY
        open_attempt = (
            PaymentAttempt.objects.filter(charge_id=charge_id, status__in=OPEN_ATTEMPT_STATUSES)
            .select_related("charge")
            .first()
        )
        if open_attempt is not None:
            return _resolve(open_attempt, on=on, force=force)
        plan = _prepare(charge_id, on=on, force=force)
        if plan.attempt is None:
            return plan.outcome or Outcome.NOT_DUE
        return _send(plan.attempt, on=on)


def _resolve(attempt: PaymentAttempt, *, on: dt.date, force: bool) -> Outcome:
    """Ask the gateway about an open attempt before anything else happens."""
    charge = attempt.charge
    waiting = charge.next_attempt_on is None or charge.next_attempt_on > on
    if attempt.status == AttemptStatus.PENDING and not force and waiting:
        return Outcome.PENDING
    adapter = get_adapter(attempt.method)
    try:
        result = adapter.query(attempt.idempotency_key, attempt.provider_reference)
    except AdapterError as exc:  # the gateway cannot say yet
        return record_unanswered(attempt, exc, on=on)
    never_received = result.status == Gateway.DECLINED and result.error_code == "not_found"
    if attempt.status == AttemptStatus.UNKNOWN:
        if never_received:
            # No money moved: asking again with the same key is the same payment.
            return _send(attempt, on=on)
        if result.status == Gateway.PENDING and not attempt.action_value:
            # Accepted, but the customer never got the QR code or notice: the same
            # key again returns it (a repeat is never a second payment).
            return _send(attempt, on=on)
    elif never_received:
        # A QR code nobody has scanned yet is unknown to some gateways (Alipay
        # creates the trade on the first scan): still waiting for the customer.
        result = CollectionResult(status=Gateway.PENDING)
    return record_result(attempt.pk, result, on=on)


def _prepare(charge_id: int, *, on: dt.date, force: bool) -> _Plan:
    """Under the charge's row lock: apply the prepaid balance, then open an attempt
    for the rest (committed before the gateway hears of it)."""
    with transaction.atomic():
        charge = (
            Charge.objects.select_for_update(of=("self",))
            .select_related("contract__customer", "fee")
            .get(pk=charge_id)
        )
        if charge.status not in COLLECTABLE:
            return _Plan(None, Outcome.NOT_DUE)
        if not force and (charge.next_attempt_on is None or charge.next_attempt_on > on):
            return _Plan(None, Outcome.NOT_DUE)
        number = (
            charge.attempts.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        rest = outstanding(charge)
        if rest.amount > 0 and charge_treatment(charge) == SigningTreatment.FEE:
            rest = _apply_prepaid(charge, rest, on=on)
        if rest.amount <= 0:
            settle_charge(charge, on=on)
            return _Plan(None, Outcome.PAID)

        method = charge.contract.payment_method
        try:
            get_adapter(method)
        except ImproperlyConfigured as exc:  # no adapter, or one that cannot load
            return _Plan(None, block(charge, str(exc), on=on))
        mandate = None
        if mandates.required(method):
            mandate, problem = mandates.for_charge(charge, rest, on=on)
            if problem:
                return _Plan(None, block(charge, problem, on=on))
        alerts_resolve(kind=AlertKind.COLLECTION_BLOCKED, subject=charge_subject(charge.pk))
        # Resolved on the next sweep if no answer comes.
        if charge.status == ChargeStatus.FAILED:
            charge_resume(charge=charge, next_attempt_on=on)
        else:
            charge.next_attempt_on = on
            charge.save(update_fields=["next_attempt_on", "updated_at"])
        # Unknown until the gateway answers.
        attempt = attempt_open(
            charge=charge, number=number, method=method, amount=rest, mandate=mandate
        )
    attempt.charge = charge
    return _Plan(attempt)


def _apply_prepaid(charge: Charge, rest: Money, *, on: dt.date) -> Money:
    customer_id, currency = charge.contract.customer_id, rest.currency.code
    prepaid = account_for(
        purpose=AccountPurpose.PREPAID, currency=currency, customer_id=customer_id
    )
    receivable = account_for(
        purpose=AccountPurpose.RECEIVABLE, currency=currency, customer_id=customer_id
    )
    # Locked before the balance is read, so another charge of the same customer
    # collected at this moment cannot spend it under us.
    accounts_lock([prepaid, receivable])
    available = -account_balance(prepaid)  # a liability: credit balance
    use = min(available.amount, rest.amount)
    if use <= 0:
        return rest
    # Numbered by the charge's applications, not by its attempts: a step that spends
    # the balance and then opens no attempt (a blocked debit), or an application
    # given back when a termination re-prices the charge, must not leave the next
    # application reusing its reference.
    subject = charge_subject(charge.pk)
    applied = JournalEntry.objects.filter(kind=EntryKind.PREPAID_APPLIED, subject=subject).count()
    apply_prepaid(
        customer_id=customer_id,
        amount=Money(use, rest.currency),
        charge_id=charge.pk,
        on=on,
        reference=f"{subject}:prepaid:{applied + 1}",
    )
    return rest - Money(use, rest.currency)


def _request(attempt: PaymentAttempt) -> CollectionRequest:
    charge = attempt.charge
    contract = charge.contract
    return collection_request(
        key=attempt.idempotency_key,
        amount=attempt.amount,
        method=attempt.method,
        charge_id=charge.pk,
        charge_label=charge_label(charge.get_kind_display(), charge.period_start),
        contract_number=contract.number,
        customer_code=contract.customer.code,
        metadata=mandates.request_metadata(attempt) if attempt.mandate_id else None,
        mandate_limit=mandates.request_limit(attempt),
    )


def _send(attempt: PaymentAttempt, *, on: dt.date) -> Outcome:
    """Call the gateway for an attempt already committed; record what it says."""
    attempt.charge = Charge.objects.select_related("contract__customer", "fee").get(
        pk=attempt.charge_id
    )
    adapter = get_adapter(attempt.method)
    try:
        result = adapter.collect(_request(attempt))
    except AdapterError as exc:  # a timeout, or an error after which nobody knows
        return record_unanswered(attempt, exc, on=on)
    return record_result(attempt.pk, result, on=on)
