"""Reading a WeChat Pay API v3 payment notification (支付结果通知).

Checks, in this order, each failure a :class:`NotificationRejected` whose ack tells
WeChat Pay to deliver again later:

1. The ``Wechatpay-Serial`` header names the configured public key (``public_key_id``)
   and ``Wechatpay-Signature`` verifies over ``TIMESTAMP\\nNONCE\\nBODY\\n`` with the
   raw body → otherwise ``bad_signature`` (401). Probes WeChat Pay sends with a
   deliberately wrong signature land here too, as they should.
2. ``Wechatpay-Timestamp`` is within 300 seconds of now, either way → otherwise
   ``stale_timestamp`` (400). The library does not check this; a replayed old
   notification stops here.
3. The body is a JSON envelope whose ``resource`` is an AEAD_AES_256_GCM
   ``transaction`` → otherwise ``malformed`` (400).
4. The resource decrypts under the APIv3 key → otherwise ``bad_signature`` (401): the
   GCM tag is a MAC under our key, so a ciphertext that does not open was not sealed
   for us (or was altered), which is an authenticity failure, not a formatting one.
5. The decrypted ``mchid`` and ``appid`` are ours → otherwise ``wrong_app_id`` (400).
6. ``trade_state`` maps as a query's does, ``amount.total`` (fen) is the amount →
   otherwise ``malformed``.

Header names are matched case-insensitively, and Django's ``request.META`` spelling
(``HTTP_WECHATPAY_SIGNATURE``) is accepted too. A verified notification is acknowledged
with HTTP 200 and ``{"code": "SUCCESS", "message": "成功"}``. The same delivery twice
reads to the same :class:`Notification`; the service's uniqueness makes the second a
no-op. A non-success state whose order has no ``transaction_id`` gets an empty
``provider_reference`` (no payment exists to name).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from feemgmt.core.money import Money
from payments.adapters.base import (
    AttemptStatus,
    Notification,
    NotificationRejected,
    redact,
)
from payments.adapters.wechat_pay import signing
from payments.adapters.wechat_pay.protocol import TRADE_STATES, from_fen

__all__ = ["ACK_SUCCESS", "REPLAY_WINDOW_SECONDS", "NotificationReader", "ack_failure"]

REPLAY_WINDOW_SECONDS = 300
ALGORITHM = "AEAD_AES_256_GCM"
ACK_SUCCESS = json.dumps({"code": "SUCCESS", "message": "成功"}, ensure_ascii=False).encode()
# What WeChat Pay reads in a refusal (its log shows the message; not shown to our users).
FAILURE_MESSAGES = {
    "bad_signature": "signature verification failed",
    "stale_timestamp": "timestamp outside the accepted window",
    "malformed": "notification could not be read",
    "wrong_app_id": "notification is for another merchant or app",
}
SIGNATURE_REASONS = frozenset({"bad_signature"})


def ack_failure(reason: str) -> bytes:
    """The FAIL body for a rejected notification."""
    message = FAILURE_MESSAGES.get(reason, reason)
    return json.dumps({"code": "FAIL", "message": message}, ensure_ascii=False).encode()


def reject(reason: str, detail: str = "") -> NotificationRejected:
    return NotificationRejected(
        reason,
        detail,
        ack_body=ack_failure(reason),
        ack_status=401 if reason in SIGNATURE_REASONS else 400,
    )


def header_map(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case, dash-separated header names: ``Wechatpay-Serial``,
    ``wechatpay-serial`` and ``HTTP_WECHATPAY_SERIAL`` all become ``wechatpay-serial``."""
    result = {}
    for key, value in headers.items():
        name = str(key).lower()
        if name.startswith("http_"):
            name = name[5:]
        result[name.replace("_", "-")] = str(value)
    return result


class NotificationReader:
    """Verifies and reads notifications for one merchant application."""

    def __init__(
        self, *, mchid: str, appid: str, apiv3_key: bytes, public_key: str, public_key_id: str
    ):
        self.mchid = mchid
        self.appid = appid
        self.public_key_id = public_key_id
        self._apiv3_key = apiv3_key
        self._public_key = signing.load_public_key(public_key)

    def __repr__(self) -> str:
        return f"<NotificationReader mchid={self.mchid}>"

    def read(self, headers: Mapping[str, str], body: bytes | str) -> Notification:
        if isinstance(body, str):
            body = body.encode()
        self._verify(header_map(headers), body)
        envelope, resource = self._envelope(body)
        transaction = self._decrypt(resource)
        mchid, appid = transaction.get("mchid"), transaction.get("appid")
        if mchid != self.mchid or appid != self.appid:
            raise reject("wrong_app_id", f"mchid {mchid!r}, appid {appid!r}")
        status, amount = self._outcome(transaction)
        reference = str(transaction.get("transaction_id") or "")
        key = transaction.get("out_trade_no")
        if not isinstance(key, str) or not key:
            raise reject("malformed", "no out_trade_no")
        if status == AttemptStatus.SUCCEEDED and not reference:
            raise reject("malformed", "a paid order without transaction_id")
        kept = {k: envelope.get(k) for k in ("id", "create_time", "event_type", "summary")}
        return Notification(
            provider_reference=reference,
            idempotency_key=key,
            status=status,
            amount=amount,
            raw=redact({**kept, "transaction": transaction}),
            ack_body=ACK_SUCCESS,
            ack_status=200,
        )

    def _verify(self, headers: Mapping[str, str], body: bytes) -> None:
        serial = headers.get("wechatpay-serial", "")
        signature = headers.get("wechatpay-signature", "")
        timestamp = headers.get("wechatpay-timestamp", "")
        nonce = headers.get("wechatpay-nonce", "")
        kind = headers.get("wechatpay-signature-type", signing.AUTH_SCHEME)
        if not (serial and signature and timestamp and nonce):
            raise reject("bad_signature", "missing Wechatpay-* signature headers")
        if kind != signing.AUTH_SCHEME:
            raise reject("bad_signature", f"signature type {kind!r}")
        if serial != self.public_key_id:
            raise reject("bad_signature", f"signed by unknown key {serial!r}")
        if not signing.verify(
            self._public_key, signing.verify_message(timestamp, nonce, body), signature
        ):
            raise reject("bad_signature", "signature does not verify")
        try:
            sent_at = int(timestamp)
        except ValueError:
            raise reject("malformed", f"timestamp {timestamp!r}") from None
        if abs(time.time() - sent_at) > REPLAY_WINDOW_SECONDS:
            raise reject("stale_timestamp", f"timestamp {sent_at}")

    @staticmethod
    def _envelope(body: bytes) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        try:
            envelope = json.loads(body)
            resource = envelope["resource"]
            fields = [resource[k] for k in ("algorithm", "ciphertext", "nonce")]
        except (ValueError, KeyError, TypeError) as exc:
            raise reject("malformed", f"envelope: {type(exc).__name__}") from exc
        if not all(isinstance(value, str) for value in fields):
            raise reject("malformed", "resource fields are not strings")
        if resource["algorithm"] != ALGORITHM:
            raise reject("malformed", f"algorithm {resource['algorithm']!r}")
        if resource.get("original_type", "transaction") != "transaction":
            raise reject("malformed", f"resource type {resource.get('original_type')!r}")
        return envelope, resource

    def _decrypt(self, resource: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            plaintext = signing.decrypt_resource(
                self._apiv3_key,
                nonce=resource["nonce"],
                ciphertext=resource["ciphertext"],
                associated_data=str(resource.get("associated_data") or ""),
            )
        except signing.DecryptionFailed as exc:
            raise reject("bad_signature", f"resource does not decrypt: {exc}") from exc
        try:
            transaction = json.loads(plaintext)
        except ValueError as exc:
            raise reject("malformed", "resource is not JSON") from exc
        if not isinstance(transaction, dict):
            raise reject("malformed", "resource is not a JSON object")
        return transaction

    @staticmethod
    def _outcome(transaction: Mapping[str, Any]) -> tuple[AttemptStatus, Money]:
        state = transaction.get("trade_state")
        status = TRADE_STATES.get(str(state))
        if status is None:
            raise reject("malformed", f"trade_state {state!r}")
        fields = transaction.get("amount")
        if not isinstance(fields, Mapping):
            raise reject("malformed", "no amount")
        total = fields.get("total")
        try:
            amount = from_fen(total, fields.get("currency"))
        except ValueError as exc:
            raise reject("malformed", f"amount: {exc}") from exc
        return status, amount
