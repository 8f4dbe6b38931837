"""Refunds: money given back from a successful attempt, through its gateway.

The refund row (with its derived key ``RF<attempt>-<n>``) is committed before the
gateway is asked, so a timeout or crash leaves a pending refund that is resolved by
asking again with the same key (the gateway refunds a key once). The ledger posting
(a reversing entry: fee income or the prepaid balance or deposit back to the
clearing account) is made only when the gateway confirms, or when staff confirm a
manual transfer for methods whose refunds are manual (bank transfer, direct debit).
A refund never exceeds what the attempt collected less what was refunded or is
being refunded; the ledger checks the same cap per charge.

Every status change is checked against :data:`payments.choices.REFUND_TRANSITIONS`
and recorded (``refund.requested``, ``refund.succeeded``, ``refund.failed``,
``refund.manual``), as the last write of its transaction. Locks: the charge, then
the attempt or refund, as every collection writer takes them.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, changes_between, snapshot
from billing.models import Charge
from feemgmt.core.exceptions import BusinessError, InvalidTransition
from feemgmt.core.money import Money, money_from_db, money_str, quantize
from ledger.choices import AccountPurpose
from ledger.postings import post_prepaid_refund, post_refund
from ledger.selectors import balances_for_customer
from payments.adapters import AdapterError, RefundRequest, RefundResult, get_adapter
from payments.adapters.base import AttemptStatus as Gateway
from payments.adapters.base import thaw
from payments.choices import REFUND_TRANSITIONS, AttemptStatus, RefundSource, RefundStatus
from payments.models import PaymentAttempt, Refund, refund_key

logger = logging.getLogger(__name__)

MANUAL_CODES = frozenset({"manual_refund_required"})
_COMMITTED = (RefundStatus.PENDING, RefundStatus.SUCCEEDED, RefundStatus.MANUAL)

# Recorded before/after with a status change.
STATE_FIELDS = ("status", "provider_reference", "error_code")

_ACTIONS = {
    RefundStatus.SUCCEEDED: "refund.succeeded",
    RefundStatus.FAILED: "refund.failed",
    RefundStatus.MANUAL: "refund.manual",
}


def check_refund_transition(current: str, target: str) -> None:
    if target not in REFUND_TRANSITIONS[current]:
        raise InvalidTransition(
            _("The refund is %(current)s and cannot become %(target)s.")
            % {"current": RefundStatus(current).label, "target": RefundStatus(target).label}
        )


def _refund_transition(refund: Refund, *, target: str, before: dict) -> Refund:
    """Save a locked refund moved to ``target`` and record the change.

    ``before`` is the snapshot taken before the caller copied the gateway's answer
    onto the row. A refund still pending (the gateway said nothing final) is saved
    without an event."""
    check_refund_transition(before["status"], target)
    refund.status = target
    refund.save()
    changes = changes_between(before, snapshot(refund, STATE_FIELDS))
    if "status" in changes:
        audit_record(action=_ACTIONS[target], obj=refund, changes=changes)
    return refund


def refundable(attempt: PaymentAttempt) -> Money:
    """What can still be refunded from what an attempt collected (refunds out of
    the prepaid balance do not count: that money came on top)."""
    taken = attempt.refunds.filter(status__in=_COMMITTED, source=RefundSource.PAYMENT).aggregate(
        total=Sum("amount")
    )["total"]
    return attempt.amount - money_from_db(taken, attempt.amount.currency.code)


def prepaid_refundable(*, customer_id: int, currency: str) -> Money:
    """The customer's prepaid balance less refunds out of it still on their way."""
    balance = balances_for_customer(customer_id=customer_id, currency=currency)[
        AccountPurpose.PREPAID
    ]
    on_the_way = Refund.objects.filter(
        source=RefundSource.PREPAID,
        status__in=(RefundStatus.PENDING, RefundStatus.MANUAL),
        attempt__charge__contract__customer_id=customer_id,
        amount_currency=currency,
    ).aggregate(total=Sum("amount"))["total"]
    return balance - money_from_db(on_the_way, currency)


def _check_amount(amount: Money, currency: str) -> None:
    if amount.currency.code != currency or amount.amount <= 0 or quantize(amount) != amount:
        raise BusinessError(
            {
                "amount": [
                    _("Refund a positive amount in %(currency)s, in whole minor units (cents).")
                    % {"currency": currency}
                ]
            }
        )


def _create(
    attempt: PaymentAttempt, *, amount: Money, reason: str, requested_by, source: str
) -> Refund:
    """The refund row and its event; the caller holds the charge and attempt locks."""
    number = attempt.refunds.count() + 1
    refund = Refund.objects.create(
        attempt=attempt,
        number=number,
        idempotency_key=refund_key(attempt.pk, number),
        amount=amount,
        source=source,
        reason=reason.strip(),
        requested_by=requested_by,
    )
    audit_record(
        action="refund.requested",
        obj=refund,
        changes={
            "after": {
                "attempt": attempt.pk,
                "idempotency_key": refund.idempotency_key,
                "amount": amount,
                "source": source,
                "reason": refund.reason,
                "requested_by": requested_by.pk,
                "status": refund.status,
            }
        },
    )
    return refund


def _locked_attempt(attempt_id: int) -> PaymentAttempt:
    charge_id = PaymentAttempt.objects.values_list("charge_id", flat=True).get(pk=attempt_id)
    Charge.objects.select_for_update(of=("self",)).get(pk=charge_id)
    return (
        PaymentAttempt.objects.select_for_update(of=("self",))
        .select_related("charge__contract")
        .get(pk=attempt_id)
    )


def payment_refund(
    *, attempt: PaymentAttempt | int, amount: Money, reason: str, requested_by: AbstractBaseUser
) -> Refund:
    """Refund ``amount`` of a successful attempt and return the refund's row."""
    refund = payment_refund_request(
        attempt=attempt, amount=amount, reason=reason, requested_by=requested_by
    )
    return refund_send(refund=refund)


def payment_refund_request(
    *, attempt: PaymentAttempt | int, amount: Money, reason: str, requested_by: AbstractBaseUser
) -> Refund:
    """The refund's row, committed with the caller's transaction and not sent yet
    (:func:`refund_send` asks the gateway)."""
    attempt_id = attempt.pk if isinstance(attempt, PaymentAttempt) else attempt
    with transaction.atomic():
        attempt = _locked_attempt(attempt_id)
        if attempt.status != AttemptStatus.SUCCEEDED:
            raise InvalidTransition(_("Only a successful payment can be refunded."))
        if not reason.strip():
            raise BusinessError({"reason": [_("Say why the money is refunded.")]})
        _check_amount(amount, attempt.amount.currency.code)
        available = refundable(attempt)
        if amount > available:
            raise BusinessError(
                {
                    "amount": [
                        _("At most %(available)s of this payment can still be refunded.")
                        % {"available": money_str(available)}
                    ]
                },
                code="insufficient",
            )
        refund = _create(
            attempt,
            amount=amount,
            reason=reason,
            requested_by=requested_by,
            source=RefundSource.PAYMENT,
        )
    return refund


def prepaid_refund_request(
    *, attempt: PaymentAttempt | int, amount: Money, reason: str, requested_by: AbstractBaseUser
) -> Refund:
    """Ask to pay back ``amount`` of the customer's prepaid balance through the
    attempt the money came by (its gateway or bank), without sending it yet: the
    caller sends it with :func:`refund_send` once its own transaction committed.

    The attempt need not have succeeded: a transfer quoting a notice withdrawn or
    paid already is credited to the balance all the same."""
    attempt_id = attempt.pk if isinstance(attempt, PaymentAttempt) else attempt
    with transaction.atomic():
        attempt = _locked_attempt(attempt_id)
        if not reason.strip():
            raise BusinessError({"reason": [_("Say why the money is refunded.")]})
        currency = attempt.amount.currency.code
        _check_amount(amount, currency)
        available = prepaid_refundable(
            customer_id=attempt.charge.contract.customer_id, currency=currency
        )
        if amount > available:
            raise BusinessError(
                {
                    "amount": [
                        _(
                            "The customer's prepaid balance holds %(available)s (refunds on "
                            "their way deducted): it may have paid later charges."
                        )
                        % {"available": money_str(available)}
                    ]
                },
                code="insufficient",
            )
        return _create(
            attempt,
            amount=amount,
            reason=reason,
            requested_by=requested_by,
            source=RefundSource.PREPAID,
        )


def refund_send(*, refund: Refund | int) -> Refund:
    """Ask the gateway for a pending refund (again, with the same key, after a
    timeout) and record its answer."""
    refund_id = refund.pk if isinstance(refund, Refund) else refund
    refund = Refund.objects.select_related("attempt").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        raise InvalidTransition(_("Only a refund still in progress can be sent again."))
    attempt = refund.attempt
    try:
        result = get_adapter(attempt.method).refund(
            RefundRequest(
                idempotency_key=refund.idempotency_key,
                amount=refund.amount,
                provider_reference=attempt.provider_reference or attempt.idempotency_key,
                reason=refund.reason,
            )
        )
    except AdapterError as exc:
        logger.warning("refund %s: no answer (%s)", refund.idempotency_key, exc)
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            error_code=exc.code, error_message=str(exc.message), updated_at=timezone.now()
        )
        refund.refresh_from_db()
        return refund
    return _record(refund.pk, result)


@transaction.atomic
def _record(refund_id: int, result: RefundResult) -> Refund:
    charge_id = Refund.objects.values_list("attempt__charge_id", flat=True).get(pk=refund_id)
    Charge.objects.select_for_update(of=("self",)).get(pk=charge_id)
    refund = (
        Refund.objects.select_for_update()
        .select_related("attempt__charge__contract")
        .get(pk=refund_id)
    )
    if refund.status != RefundStatus.PENDING:
        return refund
    before = snapshot(refund, STATE_FIELDS)
    refund.provider_reference = result.provider_reference or refund.provider_reference
    refund.error_code = result.error_code or ""
    refund.error_message = result.error_message or ""
    refund.raw = thaw(result.raw)
    target = RefundStatus.PENDING
    if result.status == Gateway.SUCCEEDED:
        target = RefundStatus.SUCCEEDED
        _book(refund)
    elif result.status == Gateway.DECLINED:
        manual = result.error_code in MANUAL_CODES
        target = RefundStatus.MANUAL if manual else RefundStatus.FAILED
    return _refund_transition(refund, target=target, before=before)


def _book(refund: Refund) -> None:
    attempt = refund.attempt
    if refund.source == RefundSource.PREPAID:
        post_prepaid_refund(
            customer_id=attempt.charge.contract.customer_id,
            amount=refund.amount,
            method=attempt.method,
            reference=f"refund:{refund.idempotency_key}",
            on=timezone.localdate(),
        )
        return
    post_refund(
        customer_id=attempt.charge.contract.customer_id,
        amount=refund.amount,
        method=attempt.method,
        reference=f"refund:{refund.idempotency_key}",
        charge_id=attempt.charge_id,
        on=timezone.localdate(),
    )


@transaction.atomic
def refund_confirm_manual(*, refund: Refund | int) -> Refund:
    """Staff sent the money back by hand (bank transfer): book the refund."""
    refund_id = refund.pk if isinstance(refund, Refund) else refund
    charge_id = Refund.objects.values_list("attempt__charge_id", flat=True).get(pk=refund_id)
    Charge.objects.select_for_update(of=("self",)).get(pk=charge_id)
    refund = (
        Refund.objects.select_for_update()
        .select_related("attempt__charge__contract")
        .get(pk=refund_id)
    )
    if refund.status != RefundStatus.MANUAL:
        raise InvalidTransition(_("Only a refund awaiting a manual transfer can be confirmed."))
    before = snapshot(refund, STATE_FIELDS)
    _book(refund)
    return _refund_transition(refund, target=RefundStatus.SUCCEEDED, before=before)
