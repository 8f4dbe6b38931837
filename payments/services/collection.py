"""Collecting a charge (docs/collection.md).

For one charge, in this order:

1. An attempt still open is resolved first: an *unknown* one (a timeout, an error,
   a worker that died mid-call) by querying the gateway with its key; a *pending*
   one (a QR code, a payment notice, a queued direct debit) by asking again when
   its check date comes. Nothing new is tried while one is open.
2. What is left is paid from the customer's prepaid balance, all or part.
3. The rest goes to the contract's payment method: an attempt row is committed
   (status unknown, key ``CH<charge>-<n>``) before the gateway is called, and the
   answer is recorded in a second transaction.

A session advisory lock per charge keeps two workers from collecting the same
charge at once (a duplicate task just returns ``busy``); row locks on the charge
order the recording of answers against notifications and staff actions (always the
charge's row first, then the attempt's, then ledger accounts, so no two writers
wait on each other in a cycle); unique
constraints make every repeat a no-op. The key is derived from the attempt number,
so even a crash that loses the attempt row re-asks the gateway with the same key.

Outcomes follow the retry schedule (``settings.PAYMENT_RETRY_DAYS``): a decline
fails the charge and schedules the next attempt; after the last retry, or when a
payment is still outstanding past the schedule's end, the charge is overdue (and
still collectable: a late payment settles it). Money that arrives for a charge that
no longer needs it (paid twice, cancelled, written off) is never lost: it is
credited to the customer's prepaid balance and raises an alert.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.choices import AlertKind, Severity
from alerts.services import alert_raise, alerts_resolve
from billing.choices import COLLECTABLE_STATUSES, ChargeStatus
from billing.models import Charge
from billing.services import (
    charge_fail,
    charge_mark_overdue,
    charge_reopen,
    charge_resume,
    charge_settle,
)
from contracts.choices import SigningTreatment
from feemgmt.core.locks import advisory_lock
from feemgmt.core.money import Money, money_from_db
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry
from ledger.postings import apply_prepaid, charge_subject, post_payment, post_prepayment
from ledger.selectors import account_balance, customer_subject_balance
from ledger.services import account_for, accounts_lock
from payments.adapters import (
    AdapterError,
    CollectionRequest,
    CollectionResult,
    get_adapter,
)
from payments.adapters.base import AttemptStatus as Gateway
from payments.choices import OPEN_ATTEMPT_STATUSES, AttemptStatus
from payments.models import PaymentAttempt

from . import mandates, notices
from .attempts import (
    attempt_fail,
    attempt_mark_pending,
    attempt_mark_unknown,
    attempt_open,
    attempt_succeed,
)

logger = logging.getLogger(__name__)

LOCK_NAMESPACE = "charge-collection"
COLLECTABLE = COLLECTABLE_STATUSES


class Outcome(StrEnum):
    """What one call of :func:`charge_collect` did (for tasks, logs and staff)."""

    BUSY = "busy"  # another worker holds the charge
    NOT_DUE = "not_due"  # nothing to do today (or the charge is settled)
    PAID = "paid"
    PENDING = "pending"  # waiting for the customer, the bank or a notification
    UNKNOWN = "unknown"  # no answer yet; asked again on the next sweep
    FAILED = "failed"  # declined; a retry is scheduled
    OVERDUE = "overdue"
    BLOCKED = "blocked"  # cannot be attempted (no mandate, over its limit, no adapter)


@dataclass(frozen=True)
class _Plan:
    attempt: PaymentAttempt | None
    outcome: Outcome | None = None


def retry_days() -> list[int]:
    return [int(days) for days in settings.PAYMENT_RETRY_DAYS]


def overdue_after(charge: Charge) -> dt.date:
    """The day after which an unpaid charge is overdue: the due date plus every retry."""
    return charge.due_date + dt.timedelta(days=sum(retry_days()))


def charge_treatment(charge: Charge) -> str:
    return charge.fee.treatment or SigningTreatment.FEE


def outstanding(charge: Charge) -> Money:
    """What is still to collect on a charge.

    A fee charge is booked as receivable, so the ledger says (payments, prepaid
    applied and write-offs included). A prepayment or deposit is booked only when
    collected: the charge less what its attempts collected.
    """
    currency = charge.amount.currency.code
    if charge_treatment(charge) == SigningTreatment.FEE:
        if charge.amount.amount == 0:
            return charge.amount
        # A read: a customer without a receivable account yet owes nothing on it.
        return customer_subject_balance(
            customer_id=charge.contract.customer_id,
            purpose=AccountPurpose.RECEIVABLE,
            currency=currency,
            subject=charge_subject(charge.pk),
        )
    collected = charge.attempts.filter(status=AttemptStatus.SUCCEEDED).aggregate(
        total=Sum("amount")
    )["total"]
    return charge.amount - money_from_db(collected, currency)


def notify_url(method: str) -> str:
    return settings.PAYMENT_NOTIFY_BASE_URL.rstrip("/") + reverse(
        "payments:notify", kwargs={"method": method}
    )


# --- The pipeline --------------------------------------------------------------------


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
        return _record_unanswered(attempt, exc, on=on)
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
            return _Plan(None, _block(charge, str(exc), on=on))
        mandate = None
        if mandates.required(method):
            mandate, problem = mandates.for_charge(charge, rest, on=on)
            if problem:
                return _Plan(None, _block(charge, problem, on=on))
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
    metadata = {"contract": contract.number, "charge": str(charge.pk)}
    if attempt.mandate_id:
        metadata.update(mandates.request_metadata(attempt))
    period = f" {charge.period_start:%Y-%m}" if charge.period_start else ""
    return CollectionRequest(
        idempotency_key=attempt.idempotency_key,
        amount=attempt.amount,
        reference=f"{contract.number}-{charge.pk}",
        description=f"{contract.number} {charge.get_kind_display()}{period}",
        customer_ref=contract.customer.code,
        notify_url=notify_url(attempt.method),
        metadata=metadata,
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
        return _record_unanswered(attempt, exc, on=on)
    return record_result(attempt.pk, result, on=on)


# --- Recording answers ----------------------------------------------------------------


def _record_unanswered(attempt: PaymentAttempt, exc: AdapterError, *, on: dt.date) -> Outcome:
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


def notify_after_commit(notice, *args, **kwargs) -> None:
    """Send a customer notice once the outcome is committed. A notice that cannot be
    sent (mail server down) is logged; it never undoes or fails the collection."""

    def send():
        try:
            notice(*args, **kwargs)
        except Exception:
            logger.exception("customer notice %s%s not sent", notice.__name__, args)

    transaction.on_commit(send)


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


def _block(charge: Charge, problem: str, *, on: dt.date) -> Outcome:
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


# --- Which charges ---------------------------------------------------------------------


def collectable_charge_ids(*, on: dt.date, after: int = 0, limit: int | None = None) -> list[int]:
    """Charges whose next collection step is due, by id (for the sweep's chunks)."""
    ids = (
        Charge.objects.filter(status__in=COLLECTABLE, next_attempt_on__lte=on, id__gt=after)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return list(ids[:limit] if limit else ids)
