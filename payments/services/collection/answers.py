"""Recording what a gateway answered for one attempt (from the collection itself,
a query, a notification or a bank file), and the charge's outcome that follows:
paid, a retry scheduled, pending, overdue, or blocked."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.choices import AlertKind, Severity
from alerts.services import alert_raise, alerts_resolve
from billing.choices import ChargeStatus
from billing.models import Charge
from billing.services import charge_fail, charge_mark_overdue, charge_reopen, charge_settle
from feemgmt.core.money import Money
from ledger.postings import charge_subject, post_payment, post_prepayment
from payments.adapters import AdapterError, CollectionResult
from payments.adapters.base import AttemptStatus as Gateway
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt

from .. import notices
from ..attempts import attempt_fail, attempt_mark_pending, attempt_mark_unknown, attempt_succeed
from .rules import (
    COLLECTABLE,
    Outcome,
    charge_treatment,
    logger,
    notify_after_commit,
    outstanding,
    overdue_after,
    retry_days,
)


def record_unanswered(attempt: PaymentAttempt, exc: AdapterError, *, on: dt.date) -> Outcome:
    """No answer: note the error and look again on the next sweep. An attempt that
    was never answered stays unknown; one known to be pending stays pending."""
    logger.warning("payment attempt %s: no answer (%s)", attempt.idempotency_key, exc)
    with transaction.atomic():
        # The charge first, then the attempt: the order every writer takes them in
        # (record_result, staff actions, refunds, returned debits), so none deadlock.
        charge = Charge.objects.select_for_update(of=("self",)).get(pk=attempt.charge_id)
        locked = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
        if not locked.is_open:
            return Outcome.NOT_DUE
        locked.error_code = exc.code
        locked.error_message = str(exc.message)
        locked.save(update_fields=["error_code", "error_message", "updated_at"])
        charge.next_attempt_on = on
        charge.save(update_fields=["next_attempt_on", "updated_at"])
    return Outcome.UNKNOWN if locked.status == AttemptStatus.UNKNOWN else Outcome.PENDING


def record_result(
    attempt_id: int, result: CollectionResult, *, on: dt.date | None = None
) -> Outcome:
    """Apply a gateway's answer (from collect, query or a notification) to an attempt.

    Idempotent and monotonic: a repeated answer changes nothing; a decided attempt
    is not reopened, except that a success always counts (money that arrived is
    booked, if need be to the customer's prepaid balance).
    """
    on = on or timezone.localdate()
    with transaction.atomic():
        charge_id = PaymentAttempt.objects.values_list("charge_id", flat=True).get(pk=attempt_id)
        charge = (
            Charge.objects.select_for_update(of=("self",))
            .select_related("contract__customer", "fee")
            .get(pk=charge_id)
        )
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        attempt.charge = charge
        if result.status == Gateway.SUCCEEDED:
            if attempt.status in (AttemptStatus.SUCCEEDED, AttemptStatus.RETURNED):
                return Outcome.PAID if charge.status == ChargeStatus.PAID else Outcome.NOT_DUE
            return _succeeded(charge, attempt, result, on=on)
        if not attempt.is_open:
            return Outcome.NOT_DUE
        if result.status == Gateway.DECLINED:
            return _declined(charge, attempt, result, on=on)
        if result.status == Gateway.PENDING:
            return _pending(charge, attempt, result, on=on)
        charge.next_attempt_on = on
        charge.save(update_fields=["next_attempt_on", "updated_at"])
        attempt_mark_unknown(attempt=attempt, result=result)
        return Outcome.UNKNOWN


def _succeeded(
    charge: Charge, attempt: PaymentAttempt, result: CollectionResult, *, on: dt.date
) -> Outcome:
    if result.amount is not None and result.amount != attempt.amount:
        # The gateway says it took another amount than we asked: book nothing, let
        # a person look (the attempt stays unresolved).
        alert_raise(
            kind=AlertKind.UNEXPECTED_PAYMENT,
            subject=charge_subject(charge.pk),
            severity=Severity.CRITICAL,
            customer=charge.contract.customer_id,
            message=_("Payment %(key)s: the gateway reports %(got)s, we asked for %(asked)s.")
            % {"key": attempt.idempotency_key, "got": result.amount, "asked": attempt.amount},
        )
        return Outcome.UNKNOWN
    was_open = attempt.is_open
    owed = outstanding(charge) if charge.status in COLLECTABLE else Money(0, charge.amount.currency)
    # Booked first, so the audit events (attempt, then charge) are the last writes.
    _book_payment(charge, attempt, owed=owed, on=on)
    attempt_succeed(attempt=attempt, result=result)
    if outstanding(charge).amount <= 0 and charge.status in COLLECTABLE:
        settle_charge(charge, on=on)
    elif not was_open:
        logger.info("late success on %s booked", attempt.idempotency_key)
    notify_after_commit(notices.receipt, attempt.pk)
    return Outcome.PAID


def _book_payment(charge: Charge, attempt: PaymentAttempt, *, owed: Money, on: dt.date) -> None:
    """Book what an attempt collected: against the charge as far as it is still
    ``owed``, the excess (a double payment, a charge cancelled meanwhile) to the
    customer's prepaid balance."""
    customer_id = charge.contract.customer_id
    treatment = charge_treatment(charge)
    reference = f"attempt:{attempt.idempotency_key}"
    amount = attempt.amount
    against = max(min(owed.amount, amount.amount), 0)
    if against > 0:
        post_payment(
            customer_id=customer_id,
            amount=Money(against, amount.currency),
            method=attempt.method,
            reference=reference,
            charge_id=charge.pk,
            on=on,
            treatment=treatment,
        )
    excess = amount.amount - against
    if excess > 0:
        post_prepayment(
            customer_id=customer_id,
            amount=Money(excess, amount.currency),
            method=attempt.method,
            reference=f"{reference}:excess",
            on=on,
        )
        alert_raise(
            kind=AlertKind.UNEXPECTED_PAYMENT,
            subject=charge_subject(charge.pk),
            customer=customer_id,
            message=_(
                "Payment %(key)s brought %(excess)s more than the charge still needed; "
                "it was credited to the customer's prepaid balance."
            )
            % {"key": attempt.idempotency_key, "excess": Money(excess, amount.currency)},
        )


def settle_charge(charge: Charge, *, on: dt.date) -> None:
    """Nothing left to collect: no overdue alert either (recorded last)."""
    alerts_resolve(kind=AlertKind.CHARGE_OVERDUE, subject=charge_subject(charge.pk))
    charge_settle(charge=charge)


def _declined(
    charge: Charge, attempt: PaymentAttempt, result: CollectionResult, *, on: dt.date
) -> Outcome:
    attempt_fail(attempt=attempt, result=result)
    outcome = schedule_retry(charge, on=on)
    retry_on = charge.next_attempt_on
    notify_after_commit(notices.failure, attempt.pk, retry_on=retry_on)
    return outcome


def schedule_retry(charge: Charge, *, on: dt.date) -> Outcome:
    """After a decline or a returned debit: the next retry on the schedule, or
    overdue once every retry was spent (each failed or returned attempt is one).

    A paid charge (its debit returned) is re-opened onto the same schedule."""
    failures = charge.attempts.filter(
        status__in=[AttemptStatus.FAILED, AttemptStatus.RETURNED]
    ).count()
    schedule = retry_days()
    reopen = charge.status == ChargeStatus.PAID
    if 0 < failures <= len(schedule) and charge.status != ChargeStatus.OVERDUE:
        retry_on = on + dt.timedelta(days=schedule[failures - 1])
        if reopen:
            charge_reopen(charge=charge, next_attempt_on=retry_on)
        else:
            charge_fail(charge=charge, next_attempt_on=retry_on)
        return Outcome.FAILED
    if reopen:
        _overdue_alert(charge)
        charge_reopen(charge=charge, next_attempt_on=None)
        return Outcome.OVERDUE
    return _overdue(charge, next_attempt_on=None)


def _pending(
    charge: Charge, attempt: PaymentAttempt, result: CollectionResult, *, on: dt.date
) -> Outcome:
    first_answer = attempt.status == AttemptStatus.UNKNOWN and not attempt.action_value
    check_on = on + dt.timedelta(days=settings.PAYMENT_PENDING_CHECK_DAYS)
    outcome = Outcome.PENDING
    if on > overdue_after(charge) and charge.status != ChargeStatus.OVERDUE:
        outcome = _overdue(charge, next_attempt_on=check_on)
    else:
        charge.next_attempt_on = check_on
        charge.save(update_fields=["next_attempt_on", "updated_at"])
    attempt_mark_pending(attempt=attempt, result=result)
    if first_answer and attempt.action_value:
        notify_after_commit(notices.payment_request, attempt.pk)
    return outcome


def _overdue(charge: Charge, *, next_attempt_on: dt.date | None) -> Outcome:
    """Overdue, with an alert saying what is still owed; collection looks again on
    ``next_attempt_on`` (a payment still pending, a blocked charge) or not at all."""
    _overdue_alert(charge)
    charge_mark_overdue(charge=charge, next_attempt_on=next_attempt_on)
    return Outcome.OVERDUE


def _overdue_alert(charge: Charge) -> None:
    alert_raise(
        kind=AlertKind.CHARGE_OVERDUE,
        subject=charge_subject(charge.pk),
        customer=charge.contract.customer_id,
        message=_("%(charge)s is overdue: %(amount)s is still unpaid after every retry.")
        % {"charge": charge, "amount": outstanding(charge)},
    )


def block(charge: Charge, problem: str, *, on: dt.date) -> Outcome:
    """Not attempted: tell staff, look again tomorrow (a mandate may be added)."""
    alert_raise(
        kind=AlertKind.COLLECTION_BLOCKED,
        subject=charge_subject(charge.pk),
        customer=charge.contract.customer_id,
        message=problem,
    )
    look_again_on = on + dt.timedelta(days=1)
    if on > overdue_after(charge) and charge.status != ChargeStatus.OVERDUE:
        _overdue(charge, next_attempt_on=look_again_on)
    else:
        charge.next_attempt_on = look_again_on
        charge.save(update_fields=["next_attempt_on", "updated_at"])
    return Outcome.BLOCKED
