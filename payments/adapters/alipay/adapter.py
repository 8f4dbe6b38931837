"""The Alipay adapter (支付宝): a QR code (当面付 precreate) or a cashier page for the
customer, settled by Alipay's signed asynchronous notification.

Protocol decisions:

- ``out_trade_no`` is the attempt's idempotency key, so Alipay holds one trade per
  attempt whoever repeats it. A repeated ``collect`` for a trade already paid is answered
  ``ACQ.TRADE_HAS_SUCCESS`` by precreate; the adapter then queries the trade and answers
  SUCCEEDED with what Alipay recorded.
- ``provider_reference`` is Alipay's ``trade_no`` as soon as Alipay has given one (it
  does once the customer scans or opens the cashier), and the ``out_trade_no`` before
  that: a fresh precreate answers only a QR code. A paid trade therefore has the same
  reference from ``collect``, ``query`` and the notification, the number on the
  customer's receipt and in the settlement bill. Refunds name the payment by that
  ``trade_no``.
- A refund is ``alipay.trade.refund`` with ``out_request_no`` = the refund's idempotency
  key, and that key is the refund's reference (Alipay keeps no other id for a refund).
  When Alipay says no money moved this time (``fund_change`` "N", a repeat), the refund is
  confirmed with ``alipay.trade.fastpay.refund.query`` before it is reported SUCCEEDED.
- No answer (a timeout, a refused or dropped connection, an HTTP 5xx, or Alipay's own
  "system error, result unknown") raises :class:`GatewayTimeout`: the outcome is unknown
  until the trade is queried.
- Notifications are checked for what the message itself can prove: Alipay's RSA2
  signature, our ``app_id`` and ``seller_id``, a readable amount, and a ``notify_time``
  at most ``notify_max_age`` old (Alipay re-sends an unacknowledged notification for
  about a day, so the default is 25 hours) and at most five minutes ahead of our clock.
  Whether the amount is what we asked for is the payments service's check. A
  notification for another ``seller_id`` is refused as "wrong_app_id" (addressed to
  another merchant).
- TRADE_CLOSED is DECLINED ("trade_closed") only for a trade closed unpaid: Alipay also
  closes a trade it refunded in full, and that collection did succeed (:mod:`.fields`).
- Only CNY: Alipay's ``total_amount`` has no currency; amounts go on the wire as yuan
  with two decimals.

Options: ``app_id``, ``seller_id`` (the merchant's 2088... partner id),
``app_private_key`` and ``alipay_public_key`` (PEM text), all required;
``gateway_url`` (default Alipay's production gateway), ``timeout`` (seconds, default 10),
``product`` ("qr", default: alipay.trade.precreate; or "page": an alipay.trade.page.pay
URL), ``return_url`` (where the cashier page sends the customer back), ``timeout_express``
(how long the customer has to pay, e.g. "2h"; Alipay's default when unset) and
``notify_max_age`` (seconds or a timedelta, default 25 hours).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from django.core.exceptions import ImproperlyConfigured

from feemgmt.core.money import Money, money_str
from payments.adapters.alipay.client import AlipayClient, GatewayAnswer
from payments.adapters.alipay.errors import (
    REFUND_DECLINES,
    UNKNOWN_OUTCOME_CODES,
    UNKNOWN_OUTCOME_SUB_CODES,
    alipay_error,
    alipay_error_text,
)
from payments.adapters.alipay.fields import CURRENCY, parse_amount, parse_time, trade_status
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
    redact,
)

__all__ = ["DEFAULT_GATEWAY_URL", "DEFAULT_NOTIFY_MAX_AGE", "PRODUCTS", "AlipayAdapter"]

DEFAULT_GATEWAY_URL = "https://openapi.alipay.com/gateway.do"
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_NOTIFY_MAX_AGE = dt.timedelta(hours=25)
NOTIFY_MAX_AHEAD = dt.timedelta(minutes=5)
PRODUCTS = ("qr", "page")
REQUIRED_OPTIONS = ("app_id", "seller_id", "app_private_key", "alipay_public_key")

PRECREATE = "alipay.trade.precreate"
PAGE_PAY = "alipay.trade.page.pay"
QUERY = "alipay.trade.query"
REFUND = "alipay.trade.refund"
REFUND_QUERY = "alipay.trade.fastpay.refund.query"

SUBJECT_MAX = 256
_SUBJECT_FORBIDDEN = re.compile(r"[/=&\s]+")  # Alipay refuses these in a subject


def _subject(request: CollectionRequest) -> str:
    text = _SUBJECT_FORBIDDEN.sub(" ", request.description or "").strip()
    return (text or request.reference)[:SUBJECT_MAX]


def _duration(value: Any, option: str) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        result = value
    else:
        try:
            result = dt.timedelta(seconds=float(value))
        except (TypeError, ValueError):
            raise ImproperlyConfigured(f"alipay option {option} must be seconds") from None
    if result <= dt.timedelta(0):
        raise ImproperlyConfigured(f"alipay option {option} must be positive")
    return result


class AlipayAdapter(PaymentAdapter):
    """Alipay's open platform API, RSA2-signed (see the module docstring for options)."""

    name = "alipay"
    supports_notifications = True

    def __init__(self, **options: Any):
        super().__init__(**options)
        missing = [key for key in REQUIRED_OPTIONS if not str(options.get(key) or "").strip()]
        if missing:
            raise ImproperlyConfigured(f"the alipay adapter needs the options {', '.join(missing)}")
        self.app_id = str(options["app_id"]).strip()
        self.seller_id = str(options["seller_id"]).strip()
        self.product = str(options.get("product") or "qr")
        if self.product not in PRODUCTS:
            raise ImproperlyConfigured(f"alipay option product must be one of {PRODUCTS}")
        self.return_url = options.get("return_url") or None
        self.timeout_express = options.get("timeout_express") or None
        self.notify_max_age = _duration(
            options.get("notify_max_age", DEFAULT_NOTIFY_MAX_AGE), "notify_max_age"
        )
        self.client = AlipayClient(
            app_id=self.app_id,
            app_private_key=str(options["app_private_key"]),
            alipay_public_key=str(options["alipay_public_key"]),
            gateway_url=str(options.get("gateway_url") or DEFAULT_GATEWAY_URL),
            timeout=_duration(
                options.get("timeout", DEFAULT_TIMEOUT_SECONDS), "timeout"
            ).total_seconds(),
        )

    # --- the gateway ----------------------------------------------------------------

    def _call(self, method: str, biz_content: Mapping[str, Any], **extra: Any) -> GatewayAnswer:
        answer = self.client.call(method, biz_content, **extra)
        if answer.code in UNKNOWN_OUTCOME_CODES or answer.sub_code in UNKNOWN_OUTCOME_SUB_CODES:
            raise GatewayTimeout(detail=f"alipay {method}: {answer.code} {answer.sub_code}")
        return answer

    @staticmethod
    def _rejected(answer: GatewayAnswer) -> AdapterError:
        node = answer.node
        return alipay_error(
            "alipay_rejected",
            f"{answer.method}: {answer.code} {answer.sub_code} {node.get('sub_msg', '')}".strip(),
        )

    @staticmethod
    def _exchange(answer: GatewayAnswer) -> dict[str, Any]:
        """One request and its answer, for a result's raw payload (redacted later)."""
        sent = dict(answer.sent)
        sent["biz_content"] = json.loads(sent.get("biz_content") or "{}")
        return {"method": answer.method, "request": sent, "response": dict(answer.node)}

    @staticmethod
    def _check_currency(amount: Money) -> None:
        if amount.currency.code != CURRENCY:
            raise alipay_error("currency_not_supported", f"currency {amount.currency.code}")

    # --- collections ----------------------------------------------------------------

    def _trade_content(self, request: CollectionRequest) -> dict[str, str]:
        content = {
            "out_trade_no": request.idempotency_key,
            "total_amount": money_str(request.amount),
            "subject": _subject(request),
            "body": request.reference,
        }
        if self.timeout_express:
            content["timeout_express"] = str(self.timeout_express)
        return content

    def collect(self, request: CollectionRequest) -> CollectionResult:
        self._check_currency(request.amount)
        if self.product == "page":
            return self._collect_page(request)
        answer = self._call(PRECREATE, self._trade_content(request), notify_url=request.notify_url)
        key = request.idempotency_key
        if answer.ok:
            qr_code = answer.node.get("qr_code")
            if not qr_code or answer.node.get("out_trade_no", key) != key:
                raise alipay_error("alipay_bad_response", f"precreate for {key}: {answer.node}")
            return CollectionResult(
                status=AttemptStatus.PENDING,
                provider_reference=key,
                raw=redact({"operation": "collect", **self._exchange(answer)}),
                action=CustomerAction(kind=ActionKind.QR_CODE, value=str(qr_code)),
            )
        if answer.sub_code in ("ACQ.TRADE_HAS_SUCCESS", "ACQ.TRADE_HAS_CLOSE"):
            # Paid (or closed) already: the trade's own record says how.
            return self._query(key, None, operation="collect", before=answer)
        if answer.sub_code == "ACQ.CONTEXT_INCONSISTENT":
            raise AdapterError(
                code="idempotency_conflict", detail=f"{key}: {answer.node.get('sub_msg', '')}"
            )
        raise self._rejected(answer)

    def _collect_page(self, request: CollectionRequest) -> CollectionResult:
        """A cashier page URL. Opening it creates the trade, so Alipay is asked first
        whether this key already has one that is decided."""
        key = request.idempotency_key
        known = self._query(key, None, operation="collect")
        if known.status != AttemptStatus.PENDING and known.error_code != "not_found":
            return known
        content = {**self._trade_content(request), "product_code": "FAST_INSTANT_TRADE_PAY"}
        url = self.client.page_url(
            PAGE_PAY, content, notify_url=request.notify_url, return_url=self.return_url
        )
        return CollectionResult(
            status=AttemptStatus.PENDING,
            provider_reference=known.provider_reference or key,
            raw=redact(
                {
                    "operation": "collect",
                    "method": PAGE_PAY,
                    "request": {"biz_content": content, "notify_url": request.notify_url},
                    "before": dict(known.raw),
                }
            ),
            action=CustomerAction(kind=ActionKind.PAY_URL, value=url),
        )

    def query(
        self, idempotency_key: str, provider_reference: str | None = None
    ) -> CollectionResult:
        return self._query(idempotency_key, provider_reference, operation="query")

    def _query(
        self,
        key: str,
        provider_reference: str | None,
        *,
        operation: str,
        before: GatewayAnswer | None = None,
    ) -> CollectionResult:
        answer = self._call(QUERY, {"out_trade_no": key})
        raw = {"operation": operation, **self._exchange(answer)}
        if before is not None:
            raw["before"] = self._exchange(before)
        if not answer.ok:
            if answer.sub_code == "ACQ.TRADE_NOT_EXIST":
                return CollectionResult(
                    status=AttemptStatus.DECLINED,
                    error_code="not_found",
                    error_message=alipay_error_text("not_found"),
                    raw=redact(raw),
                )
            raise self._rejected(answer)
        node = answer.node
        if node.get("out_trade_no", key) != key:
            raise alipay_error("alipay_bad_response", f"query for {key}: {node}")
        trade_no = str(node.get("trade_no") or "") or None
        if provider_reference is not None and provider_reference not in (key, trade_no):
            raise AdapterError(detail=f"{key} is trade {trade_no}, not {provider_reference}")
        status = trade_status(node)
        if status is None:
            raise alipay_error(
                "alipay_bad_response", f"query for {key}: trade_status {node.get('trade_status')!r}"
            )
        amount = None
        if status == AttemptStatus.SUCCEEDED:
            try:
                amount = parse_amount(node.get("total_amount"))
            except ValueError as exc:
                raise alipay_error("alipay_bad_response", f"query for {key}: {exc}") from None
        error_code = "trade_closed" if status == AttemptStatus.DECLINED else None
        return CollectionResult(
            status=status,
            provider_reference=trade_no or key,
            error_code=error_code,
            error_message=alipay_error_text(error_code) or None,
            raw=redact(raw),
            amount=amount,
        )

    # --- refunds --------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        key = request.idempotency_key
        content = {
            "trade_no": request.provider_reference,
            "refund_amount": money_str(request.amount),
            "out_request_no": key,
        }
        if request.reason:
            content["refund_reason"] = request.reason[:256]
        if request.amount.currency.code != CURRENCY:
            return self._refund_declined("currency_mismatch", {"operation": "refund", **content})
        answer = self._call(REFUND, content)
        raw = {"operation": "refund", **self._exchange(answer)}
        if not answer.ok:
            code = REFUND_DECLINES.get(answer.sub_code)
            if code is None:
                raise self._rejected(answer)
            return self._refund_declined(code, raw)
        amount = request.amount
        if answer.node.get("fund_change") != "Y":
            # No money moved this time: a repeat, or still in progress. Ask what it was.
            confirmed = self._call(
                REFUND_QUERY, {"trade_no": request.provider_reference, "out_request_no": key}
            )
            raw["confirmation"] = self._exchange(confirmed)
            amount = self._confirmed_amount(confirmed)
            if amount is None:
                return RefundResult(
                    status=AttemptStatus.PENDING, provider_reference=key, raw=redact(raw)
                )
        return RefundResult(
            status=AttemptStatus.SUCCEEDED, provider_reference=key, raw=redact(raw), amount=amount
        )

    def _confirmed_amount(self, answer: GatewayAnswer) -> Money | None:
        """The refunded amount when the refund query says it is done, else None."""
        if not answer.ok:
            raise self._rejected(answer)
        node = answer.node
        if node.get("refund_status", "REFUND_SUCCESS") != "REFUND_SUCCESS" or not node.get(
            "refund_amount"
        ):
            return None
        try:
            return parse_amount(node["refund_amount"])
        except ValueError as exc:
            raise alipay_error("alipay_bad_response", f"refund query: {exc}") from None

    @staticmethod
    def _refund_declined(code: str, raw: Mapping[str, Any]) -> RefundResult:
        return RefundResult(
            status=AttemptStatus.DECLINED,
            error_code=code,
            error_message=alipay_error_text(code),
            raw=redact({**raw, "error_code": code}),
        )

    # --- notifications --------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify and read an asynchronous notification (a form post).

        The endpoint answers ``ack_body`` with ``ack_status``: exactly ``success`` once
        accepted (Alipay stops re-sending), ``fail`` with HTTP 400 on every rejection.
        """
        fields = _form_fields(body)
        if not fields.get("sign"):
            raise NotificationRejected("bad_signature", "no sign")
        if not self.client.verify_notification(fields):
            raise NotificationRejected("bad_signature")
        if fields.get("app_id") != self.app_id:
            raise NotificationRejected("wrong_app_id", f"app_id {fields.get('app_id')!r}")
        if fields.get("seller_id") != self.seller_id:
            raise NotificationRejected("wrong_app_id", f"seller_id {fields.get('seller_id')!r}")
        try:
            key, trade_no = fields["out_trade_no"], fields["trade_no"]
            amount = parse_amount(fields.get("total_amount"))
            sent = parse_time(fields.get("notify_time"))
        except (KeyError, ValueError) as exc:
            raise NotificationRejected("malformed", str(exc)) from None
        status = trade_status(fields)
        if status is None or not key or not trade_no:
            raise NotificationRejected("malformed", f"trade_status {fields.get('trade_status')!r}")
        now = self._now()
        if now - sent > self.notify_max_age or sent - now > NOTIFY_MAX_AHEAD:
            raise NotificationRejected("stale_timestamp", f"notify_time {fields['notify_time']}")
        return Notification(
            provider_reference=trade_no,
            idempotency_key=key,
            status=status,
            amount=amount,
            raw=redact(fields),
            ack_body=b"success",
            ack_status=200,
        )


def _form_fields(body: bytes) -> dict[str, str]:
    """The fields of a utf-8 form body; NotificationRejected("malformed") for anything
    else, a field given twice included (which copy was signed?)."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotificationRejected("malformed", str(exc)) from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise NotificationRejected("malformed", f"{name} given twice")
        fields[name] = value
    return fields
