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
from ledger.postings import post_refund
from payments.adapters import AdapterError, RefundRequest, RefundResult, get_adapter
from payments.adapters.base import AttemptStatus as Gateway
from payments.adapters.base import thaw
from payments.choices import REFUND_TRANSITIONS, AttemptStatus, RefundStatus
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
    """What can still be refunded from an attempt."""
    taken = attempt.refunds.filter(status__in=_COMMITTED).aggregate(total=Sum("amount"))["total"]
    return attempt.amount - money_from_db(taken, attempt.amount.currency.code)


def payment_refund(
    *, attempt: PaymentAttempt | int, amount: Money, reason: str, requested_by: AbstractBaseUser
) -> Refund:
    """Refund ``amount`` of a successful attempt and return the refund's row."""
    attempt_id = attempt.pk if isinstance(attempt, PaymentAttempt) else attempt
    with transaction.atomic():
        charge_id = PaymentAttempt.objects.values_list("charge_id", flat=True).get(pk=attempt_id)
        Charge.objects.select_for_update(of=("self",)).get(pk=charge_id)
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        if attempt.status != AttemptStatus.SUCCEEDED:
            raise InvalidTransition(_("Only a successful payment can be refunded."))
        if not reason.strip():
            raise BusinessError({"reason": [_("Say why the money is refunded.")]})
        if (
            amount.currency != attempt.amount.currency
            or amount.amount <= 0
            or quantize(amount) != amount
        ):
            raise BusinessError(
                {
                    "amount": [
                        _("Refund a positive amount in %(currency)s, in whole minor units (cents).")
                        % {"currency": attempt.amount.currency.code}
                    ]
                }
            )
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
        number = attempt.refunds.count() + 1
        refund = Refund.objects.create(
            attempt=attempt,
            number=number,
            idempotency_key=refund_key(attempt.pk, number),
            amount=amount,
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
                    "reason": refund.reason,
                    "requested_by": requested_by.pk,
                    "status": refund.status,
                }
            },
        )
    return refund_send(refund=refund)


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
