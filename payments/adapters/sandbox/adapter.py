"""The sandbox adapter: the interface a real gateway adapter has, against
:mod:`.gateway`, a simulated gateway in memory (for the demo and for fault tests).

Notifications are JSON bodies signed like a webhook: ``X-Sandbox-Signature`` is the
hex HMAC-SHA256 of the raw body with the shared ``secret``; the body carries the app
id and a Unix ``timestamp`` (inside the signed bytes, so neither can be altered).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from feemgmt.core.money import Money, money_str
from payments.adapters.base import (
    ActionKind,
    AdapterError,
    AttemptStatus,
    CollectionRequest,
    CollectionResult,
    CustomerAction,
    GatewayTimeout,
    Notification,
    NotificationRejected,
    PaymentAdapter,
    RefundRequest,
    RefundResult,
    error_text,
    redact,
)
from payments.adapters.sandbox.gateway import (
    GATEWAY,
    OUTCOMES,
    IdempotencyConflict,
    SandboxPayment,
    outcome_for_amount,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"
REPLAY_WINDOW_SECONDS = 300  # five minutes either way, as WeChat Pay checks


class SandboxAdapter(PaymentAdapter):
    """Options: ``secret`` (required; signs notifications), ``app_id``
    (default "sandbox-app"), ``sandbox_outcome`` (force one outcome for every
    collection), ``slow_seconds`` (the "slow" outcome's delay, default 1.0)."""

    name = "sandbox"
    supports_notifications = True

    def __init__(self, **options: Any):
        super().__init__(**options)
        if not options.get("secret"):
            raise ImproperlyConfigured("the sandbox adapter needs a non-empty 'secret' option")
        outcome = options.get("sandbox_outcome")
        if outcome is not None and outcome not in OUTCOMES:
            raise ImproperlyConfigured(f"sandbox_outcome {outcome!r} is not one of {OUTCOMES}")
        self._secret = str(options["secret"]).encode()
        self.app_id = str(options.get("app_id", "sandbox-app"))
        self.slow_seconds = float(options.get("slow_seconds", 1.0))
        self.gateway = GATEWAY

    # --- collections ---------------------------------------------------------------

    def _outcome(self, request: CollectionRequest) -> str:
        outcome = request.metadata.get("sandbox_outcome") or self.options.get("sandbox_outcome")
        if outcome is None:
            return outcome_for_amount(request.amount)
        if outcome not in OUTCOMES:
            raise AdapterError(code="adapter_error", detail=f"unknown sandbox_outcome {outcome!r}")
        return outcome

    def collect(self, request: CollectionRequest) -> CollectionResult:
        sent = {
            "app_id": self.app_id,
            "out_trade_no": request.idempotency_key,
            "amount": money_str(request.amount),
            "currency": request.amount.currency.code,
            "reference": request.reference,
            "description": request.description,
            "customer_ref": request.customer_ref,
            "notify_url": request.notify_url,
            "metadata": dict(request.metadata),
        }
        try:
            payment, created = self.gateway.charge(
                idempotency_key=request.idempotency_key,
                amount=request.amount,
                outcome=self._outcome(request),
                slow_seconds=self.slow_seconds,
                notify_url=request.notify_url,
                request=dict(redact(sent)),
            )
        except IdempotencyConflict as exc:
            raise AdapterError(code="idempotency_conflict", detail=str(exc)) from exc
        if created and payment.outcome in ("timeout_then_success", "timeout_failed"):
            # The gateway decided; its answer is lost on the way back.
            raise GatewayTimeout(detail=f"sandbox: no answer for {request.idempotency_key}")
        return self._result(payment, "collect")

    def query(
        self, idempotency_key: str, provider_reference: str | None = None
    ) -> CollectionResult:
        payment = self.gateway.payment(idempotency_key)
        if payment is None:
            return CollectionResult(
                status=AttemptStatus.DECLINED,
                error_code="not_found",
                error_message=error_text("not_found"),
                raw={"operation": "query", "out_trade_no": idempotency_key, "found": False},
            )
        if provider_reference is not None and provider_reference != payment.trade_no:
            raise AdapterError(
                detail=f"{idempotency_key} is trade {payment.trade_no}, not {provider_reference}"
            )
        return self._result(payment, "query")

    def _result(self, payment: SandboxPayment, operation: str) -> CollectionResult:
        action = None
        if payment.status == AttemptStatus.PENDING:
            action = CustomerAction(
                kind=ActionKind.QR_CODE, value=f"sandbox://pay/{payment.trade_no}"
            )
        return CollectionResult(
            status=payment.status,
            provider_reference=payment.trade_no,
            error_code=payment.error_code,
            error_message=error_text(payment.error_code) or None,
            raw=self._raw(payment, operation),
            action=action,
            amount=payment.amount if payment.status == AttemptStatus.SUCCEEDED else None,
        )

    def _raw(self, payment: SandboxPayment, operation: str) -> Mapping[str, Any]:
        return redact(
            {
                "operation": operation,
                "request": payment.request,
                "response": {
                    "trade_no": payment.trade_no,
                    "out_trade_no": payment.idempotency_key,
                    "status": payment.status.value,
                    "error_code": payment.error_code,
                    "amount": money_str(payment.amount),
                    "currency": payment.amount.currency.code,
                    "refunded": money_str(payment.refunded),
                },
            }
        )

    # --- refunds -------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        try:
            refund = self.gateway.refund(
                idempotency_key=request.idempotency_key,
                trade_no=request.provider_reference,
                amount=request.amount,
            )
        except IdempotencyConflict as exc:
            raise AdapterError(code="idempotency_conflict", detail=str(exc)) from exc
        return RefundResult(
            status=refund.status,
            provider_reference=refund.refund_no,
            error_code=refund.error_code,
            error_message=error_text(refund.error_code) or None,
            raw=redact(
                {
                    "operation": "refund",
                    "out_request_no": refund.idempotency_key,
                    "trade_no": refund.trade_no,
                    "refund_no": refund.refund_no,
                    "amount": money_str(refund.amount),
                    "currency": refund.amount.currency.code,
                    "reason": request.reason,
                    "status": refund.status.value,
                    "error_code": refund.error_code,
                }
            ),
            amount=refund.amount if refund.status == AttemptStatus.SUCCEEDED else None,
        )

    # --- notifications -------------------------------------------------------------

    def sign(self, body: bytes) -> str:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def notification_for(
        self, idempotency_key: str, **overrides: Any
    ) -> tuple[dict[str, str], bytes]:
        """The notification the gateway sends for a decided payment, signed now.

        ``overrides`` replace fields of the body before signing (fault tests).
        """
        payment = self.gateway.payment(idempotency_key)
        if payment is None:
            raise KeyError(idempotency_key)
        if payment.status == AttemptStatus.PENDING:
            raise ValueError(f"{idempotency_key} is still pending: nothing to notify")
        fields = {
            "event_id": f"EVT{payment.trade_no}",
            "app_id": self.app_id,
            "out_trade_no": payment.idempotency_key,
            "trade_no": payment.trade_no,
            "status": payment.status.value,
            "amount": money_str(payment.amount),
            "currency": payment.amount.currency.code,
            "error_code": payment.error_code,
            "timestamp": int(time.time()),
        }
        fields.update(overrides)
        body = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: self.sign(body)}
        return headers, body

    def deliveries(self, idempotency_key: str) -> list[tuple[dict[str, str], bytes]]:
        """What the gateway posts to the notify URL: once, or twice (the same bytes)
        for the "duplicate_notification" outcome; nothing while pending."""
        payment = self.gateway.payment(idempotency_key)
        if payment is None or payment.deliveries == 0:
            return []
        delivery = self.notification_for(idempotency_key)
        return [delivery] * payment.deliveries

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        signature = lowered.get(SIGNATURE_HEADER.lower(), "")
        if not hmac.compare_digest(self.sign(body).encode(), signature.encode()):
            raise NotificationRejected("bad_signature")
        try:
            fields = json.loads(body)
            key, trade_no = str(fields["out_trade_no"]), str(fields["trade_no"])
            amount = Money(Decimal(str(fields["amount"])), str(fields["currency"]))
            status = AttemptStatus(fields["status"])
            timestamp = int(fields["timestamp"])
            app_id = fields["app_id"]
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise NotificationRejected("malformed", str(exc)) from exc
        if not hmac.compare_digest(str(app_id).encode(), self.app_id.encode()):
            raise NotificationRejected("wrong_app_id", f"app_id {app_id!r}")
        if abs(time.time() - timestamp) > REPLAY_WINDOW_SECONDS:
            raise NotificationRejected("stale_timestamp", f"timestamp {timestamp}")
        payment = self.gateway.payment(key)
        if payment is None or payment.trade_no != trade_no:
            raise NotificationRejected("unknown_payment", f"{key} / {trade_no}")
        if amount.currency != payment.amount.currency or amount.amount != payment.amount.amount:
            raise NotificationRejected("amount_mismatch", f"{amount} != {payment.amount}")
        return Notification(
            provider_reference=trade_no,
            idempotency_key=key,
            status=status,
            amount=amount,
            raw=redact(fields),
            ack_body=b"success",
            ack_status=200,
        )
