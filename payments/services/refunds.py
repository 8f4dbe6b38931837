"""Refunds: money given back from a successful attempt, through its gateway.

The refund row (with its derived key ``RF<attempt>-<n>``) is committed before the
gateway is asked, so a timeout or crash leaves a pending refund that is resolved by
asking again with the same key (the gateway refunds a key once). The ledger posting
(a reversing entry: fee income or the prepaid balance or deposit back to the
clearing account) is made only when the gateway confirms, or when staff confirm a
manual transfer for methods whose refunds are manual (bank transfer, direct debit).
A refund never exceeds what the attempt collected less what was refunded or is
being refunded; the ledger checks the same cap per charge.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Charge
from feemgmt.core.exceptions import BusinessError, InvalidTransition
from feemgmt.core.money import Money, money_from_db, money_str, quantize
from ledger.postings import post_refund
from payments.adapters import AdapterError, RefundRequest, RefundResult, get_adapter
from payments.adapters.base import AttemptStatus as Gateway
from payments.adapters.base import thaw
from payments.choices import AttemptStatus, RefundStatus
from payments.models import PaymentAttempt, Refund, refund_key

logger = logging.getLogger(__name__)

MANUAL_CODES = frozenset({"manual_refund_required"})
_COMMITTED = (RefundStatus.PENDING, RefundStatus.SUCCEEDED, RefundStatus.MANUAL)


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
    refund.provider_reference = result.provider_reference or refund.provider_reference
    refund.error_code = result.error_code or ""
    refund.error_message = result.error_message or ""
    refund.raw = thaw(result.raw)
    if result.status == Gateway.SUCCEEDED:
        refund.status = RefundStatus.SUCCEEDED
        _book(refund)
    elif result.status == Gateway.DECLINED:
        manual = result.error_code in MANUAL_CODES
        refund.status = RefundStatus.MANUAL if manual else RefundStatus.FAILED
    refund.save()
    return refund


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
    refund.status = RefundStatus.SUCCEEDED
    _book(refund)
    refund.save()
    return refund
