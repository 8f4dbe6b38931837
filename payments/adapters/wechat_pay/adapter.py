"""The WeChat Pay adapter (微信支付): API v3 Native payments, paid by scanning a QR code.

Protocol decisions:

- ``collect`` places a Native order whose ``out_trade_no`` is the idempotency key and
  answers PENDING with the order's ``code_url`` as a QR code action. Placing the same
  order again returns the same ``code_url``; once the order is paid (``ORDERPAID``) or
  closed (``ORDER_CLOSED``), or reused with other parameters (``OUT_TRADE_NO_USED``),
  the adapter queries the order and answers what the gateway holds, so a repeated
  collect never creates a second payment (``idempotency_conflict`` when the order's
  amount differs from the request's).
- ``provider_reference`` is WeChat Pay's ``transaction_id``, assigned when the customer
  pays. ``collect`` for a paid order, ``query`` and a notification all give it; a
  pending order has none yet (None). A refund names the payment by it.
- Amounts go on the wire in fen, as integers, converted exactly from the Decimal
  (:func:`to_fen`); only CNY is accepted.
- ``refund`` asks the order's total first (the v3 refund request must state it): an
  unknown ``transaction_id`` is DECLINED ``unknown_payment``, an unpaid order
  ``payment_not_refundable``, more than the total ``refund_exceeds_available`` without
  a request. The gateway enforces the rest (earlier refunds); its refusal shares the
  code ``INVALID_REQUEST`` with other errors, so it is recognised by its message. The
  refund's ``out_refund_no`` is the refund's idempotency key: the same key is the
  same refund.
- Notifications (:mod:`.notification`) are answered with HTTP 200 and
  ``{"code": "SUCCESS", "message": "成功"}``; a rejected one with a FAIL body (401 for
  signature problems, 400 otherwise), so WeChat Pay delivers it again later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from payments.adapters.base import (
    ActionKind,
    AdapterError,
    AttemptStatus,
    CollectionRequest,
    CollectionResult,
    CustomerAction,
    Notification,
    PaymentAdapter,
    RefundRequest,
    RefundResult,
    error_text,
    redact,
)
from payments.adapters.wechat_pay.client import Reply, WechatPayClient
from payments.adapters.wechat_pay.notification import NotificationReader
from payments.adapters.wechat_pay.protocol import (
    CURRENCY,
    DECLINE_CODES,
    REFUND_STATES,
    TRADE_STATES,
    from_fen,
    to_fen,
)

__all__ = [
    "DEFAULT_GATEWAY_URL",
    "ERROR_MESSAGES",
    "TRADE_STATES",
    "WechatPayAdapter",
    "from_fen",
    "to_fen",
    "wechat_error_text",
]

DEFAULT_GATEWAY_URL = "https://api.mch.weixin.qq.com"
NATIVE_PATH = "/v3/pay/transactions/native"
QUERY_BY_KEY_PATH = "/v3/pay/transactions/out-trade-no/{}"
QUERY_BY_ID_PATH = "/v3/pay/transactions/id/{}"
REFUND_PATH = "/v3/refund/domestic/refunds"
DESCRIPTION_LIMIT = 127  # characters, the gateway's limit
REASON_LIMIT = 80

# Native order errors that mean "this out_trade_no already has an order".
KNOWN_ORDER_CODES = frozenset({"ORDERPAID", "ORDER_CLOSED", "OUT_TRADE_NO_USED"})
NOT_FOUND_CODES = frozenset({"ORDER_NOT_EXIST", "ORDERNOTEXIST", "RESOURCE_NOT_EXISTS"})
# Words of the gateway's message when a refund is beyond what is left to refund.
OVER_REFUND_MARKERS = ("可退金额", "全额退款", "退款金额超过", "exceed")

ERROR_MESSAGES: Mapping[str, Any] = {
    "order_closed": _("The WeChat Pay order was closed before the customer paid."),
    "order_revoked": _("The WeChat Pay order was revoked."),
    "refund_closed": _("WeChat Pay closed the refund without paying it out."),
    "refund_abnormal": _(
        "WeChat Pay could not pay the refund out to the customer; it needs handling in "
        "the merchant platform."
    ),
    "merchant_balance_insufficient": _(
        "The merchant's WeChat Pay balance is too low for this refund."
    ),
}


def wechat_error_text(code: str | None) -> str:
    """:func:`~payments.adapters.base.error_text`, knowing this adapter's codes too."""
    message = ERROR_MESSAGES.get(code or "")
    return str(message) if message is not None else error_text(code)


class WechatPayAdapter(PaymentAdapter):
    """Options: ``mchid``, ``appid``, ``apiv3_key`` (32 bytes), ``cert_serial_no`` (the
    merchant certificate's serial), ``private_key`` (merchant PEM), ``public_key``
    (WeChat Pay public key PEM), ``public_key_id`` (all required); ``gateway_url``
    (default the production API), ``timeout`` (seconds, default 10) and
    ``notify_url`` (used when a request has none)."""

    name = "wechat_pay"
    supports_notifications = True

    REQUIRED = (
        "mchid",
        "appid",
        "apiv3_key",
        "cert_serial_no",
        "private_key",
        "public_key",
        "public_key_id",
    )

    def __init__(self, **options: Any):
        super().__init__(**options)
        missing = [key for key in self.REQUIRED if not str(options.get(key) or "").strip()]
        if missing:
            raise ImproperlyConfigured(
                f"the wechat_pay adapter needs the options {', '.join(missing)}"
            )
        apiv3_key = str(options["apiv3_key"]).encode()
        if len(apiv3_key) != 32:
            raise ImproperlyConfigured("the wechat_pay option apiv3_key must be 32 bytes")
        self.mchid = str(options["mchid"]).strip()
        self.appid = str(options["appid"]).strip()
        self.public_key_id = str(options["public_key_id"]).strip()
        self.notify_url = str(options.get("notify_url") or "")
        try:
            timeout = float(options.get("timeout", 10))
            self.client = WechatPayClient(
                gateway_url=str(options.get("gateway_url") or DEFAULT_GATEWAY_URL),
                mchid=self.mchid,
                cert_serial_no=str(options["cert_serial_no"]).strip(),
                private_key=str(options["private_key"]),
                public_key=str(options["public_key"]),
                public_key_id=self.public_key_id,
                timeout=timeout,
            )
            self.reader = NotificationReader(
                mchid=self.mchid,
                appid=self.appid,
                apiv3_key=apiv3_key,
                public_key=str(options["public_key"]),
                public_key_id=self.public_key_id,
            )
        except (ValueError, TypeError) as exc:
            # The message names the problem, never the key material.
            raise ImproperlyConfigured(f"the wechat_pay adapter's keys: {exc}") from None

    # --- collections ---------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> CollectionResult:
        total = to_fen(request.amount)
        notify_url = request.notify_url or self.notify_url
        if not notify_url:
            raise AdapterError(detail="wechat_pay needs a notify_url for a Native order")
        sent = {
            "appid": self.appid,
            "mchid": self.mchid,
            "description": request.description[:DESCRIPTION_LIMIT],
            "out_trade_no": request.idempotency_key,
            "attach": request.reference[:128],
            "notify_url": notify_url,
            "amount": {"total": total, "currency": CURRENCY},
        }
        reply = self.client.post(NATIVE_PATH, sent)
        if reply.ok:
            code_url = reply.data.get("code_url")
            if not isinstance(code_url, str) or not code_url:
                raise AdapterError(detail="wechat_pay: Native order answer without code_url")
            return CollectionResult(
                status=AttemptStatus.PENDING,
                raw=self._raw("collect", reply, sent),
                action=CustomerAction(kind=ActionKind.QR_CODE, value=code_url),
            )
        if reply.code in KNOWN_ORDER_CODES:
            # The key already has an order: its state is the answer, not a new order.
            found, transaction = self._query(request.idempotency_key, "collect", reply)
            if transaction is None:
                raise AdapterError(detail=f"wechat_pay: {reply.detail()}, yet no such order")
            if (transaction.get("amount") or {}).get("total") != total:
                raise AdapterError(
                    code="idempotency_conflict",
                    detail=f"out_trade_no {request.idempotency_key} has another amount",
                )
            return found
        raise self._error(reply, "collect")

    def query(
        self, idempotency_key: str, provider_reference: str | None = None
    ) -> CollectionResult:
        result, _transaction = self._query(idempotency_key)
        if (
            provider_reference is not None
            and result.provider_reference is not None
            and result.provider_reference != provider_reference
        ):
            raise AdapterError(
                detail=f"{idempotency_key} is transaction {result.provider_reference}, "
                f"not {provider_reference}"
            )
        return result

    def _query(
        self, idempotency_key: str, operation: str = "query", placed: Reply | None = None
    ) -> tuple[CollectionResult, Mapping[str, Any] | None]:
        """The order for a key, and the gateway's transaction (None when it has none).
        ``placed`` is the refused Native order when collect asks (kept in the raw)."""
        sent: dict[str, Any] = {"out_trade_no": idempotency_key}
        if placed is not None:
            sent["native_order_refused"] = {"code": placed.code, "message": placed.message}
        path = QUERY_BY_KEY_PATH.format(quote(idempotency_key, safe=""))
        reply = self.client.get(path, {"mchid": self.mchid})
        if reply.code in NOT_FOUND_CODES:
            return (
                CollectionResult(
                    status=AttemptStatus.DECLINED,
                    error_code="not_found",
                    error_message=error_text("not_found"),
                    raw=self._raw(operation, reply, sent),
                ),
                None,
            )
        if not reply.ok:
            raise self._error(reply, "query")
        transaction = reply.data
        if transaction.get("out_trade_no") != idempotency_key:
            raise AdapterError(detail="wechat_pay: the answer is about another order")
        return self._from_transaction(transaction, reply, operation, sent), transaction

    def _from_transaction(
        self,
        transaction: Mapping[str, Any],
        reply: Reply,
        operation: str,
        sent: Mapping[str, Any],
    ) -> CollectionResult:
        state = str(transaction.get("trade_state") or "")
        status = TRADE_STATES.get(state)
        if status is None:
            raise AdapterError(detail=f"wechat_pay: unknown trade_state {state!r}")
        reference = transaction.get("transaction_id") or None
        amount = None
        if status == AttemptStatus.SUCCEEDED:
            amount_fields = transaction.get("amount") or {}
            try:
                amount = from_fen(amount_fields.get("total"), amount_fields.get("currency"))
            except (ValueError, TypeError) as exc:
                raise AdapterError(detail=f"wechat_pay: paid order amount: {exc}") from exc
            if not reference:
                raise AdapterError(detail="wechat_pay: a paid order without transaction_id")
        code = DECLINE_CODES.get(state) if status == AttemptStatus.DECLINED else None
        return CollectionResult(
            status=status,
            provider_reference=reference,
            error_code=code,
            error_message=wechat_error_text(code) or None,
            raw=self._raw(operation, reply, sent),
            amount=amount,
        )

    # --- refunds -------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        sent: dict[str, Any] = {
            "transaction_id": request.provider_reference,
            "out_refund_no": request.idempotency_key,
        }
        if request.amount.currency.code != CURRENCY:
            return self._declined_refund("currency_mismatch", sent)
        refund_fen = to_fen(request.amount)
        path = QUERY_BY_ID_PATH.format(quote(request.provider_reference, safe=""))
        found = self.client.get(path, {"mchid": self.mchid})
        if found.code in NOT_FOUND_CODES:
            return self._declined_refund("unknown_payment", sent, found)
        if not found.ok:
            raise self._error(found, "refund")
        if found.data.get("trade_state") not in ("SUCCESS", "REFUND"):
            return self._declined_refund("payment_not_refundable", sent, found)
        total = (found.data.get("amount") or {}).get("total")
        if not isinstance(total, int) or isinstance(total, bool):
            raise AdapterError(detail="wechat_pay: the order's total is not an integer")
        if refund_fen > total:
            return self._declined_refund("refund_exceeds_available", sent, found)
        sent["amount"] = {"refund": refund_fen, "total": total, "currency": CURRENCY}
        if request.reason:
            sent["reason"] = request.reason[:REASON_LIMIT]
        reply = self.client.post(REFUND_PATH, sent)
        if reply.ok:
            return self._refund_result(reply, sent)
        if reply.code in NOT_FOUND_CODES:
            return self._declined_refund("unknown_payment", sent, reply)
        if reply.code in ("INVALID_REQUEST", "PARAM_ERROR") and any(
            marker in reply.message for marker in OVER_REFUND_MARKERS
        ):
            return self._declined_refund("refund_exceeds_available", sent, reply)
        if reply.code == "NOT_ENOUGH":
            return self._declined_refund("merchant_balance_insufficient", sent, reply)
        raise self._error(reply, "refund")

    def _refund_result(self, reply: Reply, sent: Mapping[str, Any]) -> RefundResult:
        state = str(reply.data.get("status") or "")
        if state not in REFUND_STATES:
            raise AdapterError(detail=f"wechat_pay: unknown refund status {state!r}")
        status, code = REFUND_STATES[state]
        reference = reply.data.get("refund_id")
        if not reference:
            raise AdapterError(detail="wechat_pay: refund answer without refund_id")
        amount = None
        if status == AttemptStatus.SUCCEEDED:
            fields = reply.data.get("amount") or {}
            try:
                amount = from_fen(fields.get("refund"), fields.get("currency"))
            except (ValueError, TypeError) as exc:
                raise AdapterError(detail=f"wechat_pay: refund amount: {exc}") from exc
        return RefundResult(
            status=status,
            provider_reference=str(reference),
            error_code=code,
            error_message=wechat_error_text(code) or None,
            raw=self._raw("refund", reply, sent),
            amount=amount,
        )

    def _declined_refund(
        self, code: str, sent: Mapping[str, Any], reply: Reply | None = None
    ) -> RefundResult:
        return RefundResult(
            status=AttemptStatus.DECLINED,
            error_code=code,
            error_message=wechat_error_text(code),
            raw=self._raw("refund", reply, sent),
        )

    # --- notifications -------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """See :mod:`.notification`: verified, decrypted, checked, or NotificationRejected."""
        return self.reader.read(headers, body)

    # --- helpers -------------------------------------------------------------------

    @staticmethod
    def _raw(operation: str, reply: Reply | None, sent: Mapping[str, Any]) -> Mapping[str, Any]:
        raw: dict[str, Any] = {"operation": operation, "request": dict(sent)}
        if reply is not None:
            raw.update(
                http_status=reply.status, request_id=reply.request_id, response=dict(reply.data)
            )
        return redact(raw)

    @staticmethod
    def _error(reply: Reply, operation: str) -> AdapterError:
        return AdapterError(detail=f"wechat_pay {operation}: {reply.detail()}")
