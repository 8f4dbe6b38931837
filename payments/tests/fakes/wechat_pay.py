"""A local fake WeChat Pay API v3 gateway, and the contract suite's harness for it.

:class:`FakeWechatPay` is a ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) that
speaks the real wire format, independently of the adapter's code:

- every request's ``Authorization`` (WECHATPAY2-SHA256-RSA2048) is checked against the
  merchant's public key, mchid, certificate serial and a 5-minute clock window; a bad
  one is ``401 SIGN_ERROR``;
- Native orders, queries by ``out_trade_no`` and by ``transaction_id``, and domestic
  refunds, with the real JSON shapes and error codes (``ORDERPAID``,
  ``OUT_TRADE_NO_USED``, ``ORDER_NOT_EXIST``, ``RESOURCE_NOT_EXISTS``,
  ``INVALID_REQUEST``...), kept in memory behind one lock;
- every answer is signed with the platform private key (``Wechatpay-Signature``,
  ``-Timestamp``, ``-Nonce``, ``-Serial``), which tests may swap for another key;
- it plays the customer (:meth:`FakeWechatPay.pay`, :meth:`FakeWechatPay.scan`), builds
  signed and encrypted payment notifications (:meth:`FakeWechatPay.notification_for`,
  with overrides for fault tests), and can stall the next N answers past the adapter's
  timeout (:meth:`FakeWechatPay.stall`) after recording what the request did.

Keys are RSA 2048, generated once per test process; each gateway gets a random 32
character APIv3 key.

Usage::

    with FakeWechatPay() as fake:
        options = fake.adapter_options()          # the adapter's settings options
        fake.pay("K000001")                       # the customer pays the order
        headers, body = fake.notification_for("K000001", timestamp=time.time() - 301)
        fake.stall(1)                             # the next answer comes too late
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from feemgmt.core.money import money
from payments.adapters.base import AttemptStatus, CollectionRequest, CollectionResult

__all__ = ["FakeOrder", "FakeRefund", "FakeWechatPay", "WechatPayHarness", "key_pair"]

ADAPTER_CLASS = "payments.adapters.wechat_pay.WechatPayAdapter"
SCHEME = "WECHATPAY2-SHA256-RSA2048"
CHINA = timezone(timedelta(hours=8))
_numbers = itertools.count(1)


# --- Keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    private: rsa.RSAPrivateKey

    @property
    def public(self) -> rsa.RSAPublicKey:
        return self.private.public_key()

    @property
    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


@functools.cache
def key_pair(name: str) -> KeyPair:
    """An RSA 2048 key pair per name ("merchant", "platform", "stranger"...), made once
    per test process."""
    return KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def _now_text() -> str:
    return datetime.now(CHINA).replace(microsecond=0).isoformat()


# --- State -------------------------------------------------------------------------------


@dataclass
class FakeRefund:
    refund_id: str
    out_refund_no: str
    transaction_id: str
    out_trade_no: str
    refund: int
    total: int
    reason: str
    create_time: str
    status: str = "SUCCESS"

    def as_json(self) -> dict[str, Any]:
        return {
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": self.transaction_id,
            "out_trade_no": self.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "success_time": self.create_time if self.status == "SUCCESS" else None,
            "create_time": self.create_time,
            "status": self.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": self.total,
                "refund": self.refund,
                "payer_total": self.total,
                "payer_refund": self.refund,
                "settlement_refund": self.refund,
                "settlement_total": self.total,
                "discount_refund": 0,
                "currency": "CNY",
                "refund_fee": 0,
            },
            "promotion_detail": [],
        }


@dataclass
class FakeOrder:
    appid: str
    mchid: str
    out_trade_no: str
    description: str
    notify_url: str
    total: int
    attach: str
    code_url: str
    trade_state: str = "NOTPAY"
    transaction_id: str = ""
    success_time: str = ""
    openid: str = ""
    refunded: int = 0
    payments: int = 0  # how many times the customer's money was taken

    def as_json(self) -> dict[str, Any]:
        descriptions = {
            "SUCCESS": "支付成功",
            "REFUND": "转入退款",
            "NOTPAY": "未支付",
            "CLOSED": "已关闭",
            "REVOKED": "已撤销",
            "USERPAYING": "用户支付中",
            "PAYERROR": "支付失败",
        }
        data: dict[str, Any] = {
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": self.out_trade_no,
            "trade_type": "NATIVE",
            "trade_state": self.trade_state,
            "trade_state_desc": descriptions.get(self.trade_state, self.trade_state),
            "attach": self.attach,
            "amount": {"total": self.total, "currency": "CNY"},
        }
        if self.transaction_id:
            data["transaction_id"] = self.transaction_id
        if self.trade_state in ("SUCCESS", "REFUND"):
            data.update(
                bank_type="OTHERS",
                success_time=self.success_time,
                payer={"openid": self.openid},
            )
            data["amount"].update(payer_total=self.total, payer_currency="CNY")
        return data


@dataclass
class Received:
    """One request as the gateway saw it (tests inspect these)."""

    method: str
    path: str
    body: bytes
    authorized: bool
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class GatewayError(Exception):
    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message


# --- The gateway -----------------------------------------------------------------------------


class FakeWechatPay:
    """A WeChat Pay API v3 gateway for one merchant, on a local port."""

    def __init__(
        self,
        *,
        mchid: str = "1900009191",
        appid: str = "wxd678efh567hg6787",
        cert_serial_no: str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        public_key_id: str = "PUB_KEY_ID_0119000091912025010100000000000001",
        adapter_timeout: float = 1.0,
    ):
        self.mchid = mchid
        self.appid = appid
        self.cert_serial_no = cert_serial_no
        self.public_key_id = public_key_id
        self.apiv3_key = secrets.token_hex(16)  # 32 characters
        self.merchant = key_pair("merchant")
        self.platform = key_pair("platform")
        self.adapter_timeout = adapter_timeout
        # Answers are signed with this key and serial (tests swap them).
        self.response_key: rsa.RSAPrivateKey = self.platform.private
        self.response_serial = public_key_id
        self.received: list[Received] = []
        self._orders: dict[str, FakeOrder] = {}
        self._refunds: dict[str, FakeRefund] = {}
        self._lock = threading.RLock()
        self._stalls: list[tuple[str, float]] = []
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeWechatPay:
        gateway = self

        class Handler(_Handler):
            fake = gateway

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-wechat-pay",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # releases stalled answers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeWechatPay:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake gateway is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def adapter_options(self, **overrides: Any) -> dict[str, Any]:
        """The adapter's ``options`` for this gateway (``overrides`` replace any)."""
        options = {
            "mchid": self.mchid,
            "appid": self.appid,
            "apiv3_key": self.apiv3_key,
            "cert_serial_no": self.cert_serial_no,
            "private_key": self.merchant.private_pem,
            "public_key": self.platform.public_pem,
            "public_key_id": self.public_key_id,
            "gateway_url": self.url,
            "timeout": self.adapter_timeout,
        }
        options.update(overrides)
        return options

    # --- test controls -------------------------------------------------------------------

    def stall(self, count: int = 1, seconds: float | None = None, *, path: str = "") -> None:
        """The next ``count`` requests (to paths starting with ``path``, if given) are
        carried out, but their answers are held for ``seconds`` (default: the adapter's
        timeout plus one second), so the adapter gives up while the gateway has recorded
        what was asked."""
        delay = self.adapter_timeout + 1.0 if seconds is None else seconds
        with self._lock:
            self._stalls.extend([(path, delay)] * count)

    def _next_stall(self, path: str) -> float:
        with self._lock:
            for index, (prefix, delay) in enumerate(self._stalls):
                if path.startswith(prefix):
                    del self._stalls[index]
                    return delay
            return 0.0

    def order(self, out_trade_no: str) -> FakeOrder | None:
        with self._lock:
            return self._orders.get(out_trade_no)

    def orders(self) -> list[FakeOrder]:
        with self._lock:
            return list(self._orders.values())

    def refunds(self) -> list[FakeRefund]:
        with self._lock:
            return list(self._refunds.values())

    def debits(self, out_trade_no: str) -> int:
        """How many times the customer paid for this order (0 or 1 on a sound gateway)."""
        order = self.order(out_trade_no)
        return order.payments if order else 0

    def pay(self, out_trade_no: str, *, openid: str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o") -> str:
        """The customer pays the order (scanning its QR code); its transaction_id."""
        with self._lock:
            order = self._orders[out_trade_no]
            if order.trade_state in ("SUCCESS", "REFUND"):
                return order.transaction_id
            if order.trade_state not in ("NOTPAY", "USERPAYING"):
                raise ValueError(f"{out_trade_no} is {order.trade_state}: it cannot be paid")
            order.trade_state = "SUCCESS"
            order.transaction_id = self._new_transaction_id()
            order.success_time = _now_text()
            order.openid = openid
            order.payments += 1
            return order.transaction_id

    def scan(self, code_url: str) -> str:
        """The customer scans a QR code and pays: the order whose code_url it is."""
        with self._lock:
            for order in self._orders.values():
                if order.code_url == code_url:
                    return self.pay(order.out_trade_no)
        raise KeyError(f"no order has the code_url {code_url!r}")

    def set_state(self, out_trade_no: str, trade_state: str) -> None:
        """Put an order in any state (USERPAYING, CLOSED, PAYERROR, REVOKED...)."""
        with self._lock:
            order = self._orders[out_trade_no]
            order.trade_state = trade_state
            if trade_state == "PAYERROR" and not order.transaction_id:
                order.transaction_id = self._new_transaction_id()

    @staticmethod
    def _new_transaction_id() -> str:
        return f"4200{datetime.now(CHINA):%Y%m%d}{next(_numbers):014d}"

    # --- notifications -----------------------------------------------------------------

    def notification_for(
        self,
        out_trade_no: str,
        *,
        timestamp: float | None = None,
        nonce: str | None = None,
        serial: str | None = None,
        signing_key: rsa.RSAPrivateKey | None = None,
        apiv3_key: str | None = None,
        tamper_body: bool = False,
        tamper_ciphertext: bool = False,
        **resource: Any,
    ) -> tuple[dict[str, str], bytes]:
        """The payment notification WeChat Pay posts for an order: (headers, body).

        Overrides for fault tests: ``timestamp`` (Unix seconds), ``nonce``, ``serial``
        (Wechatpay-Serial), ``signing_key`` (sign with another private key),
        ``apiv3_key`` (encrypt with another key), ``tamper_body`` (alter the body after
        signing), ``tamper_ciphertext`` (alter the ciphertext before signing, so only
        decryption fails); other keyword arguments replace fields of the decrypted
        transaction (``mchid=``, ``appid=``, ``trade_state=``...).
        """
        order = self.order(out_trade_no)
        if order is None:
            raise KeyError(out_trade_no)
        transaction = {**order.as_json(), **resource}
        state = transaction.get("trade_state")
        plaintext = json.dumps(transaction, ensure_ascii=False).encode()
        resource_nonce = secrets.token_hex(6)
        associated_data = "transaction"
        key = (apiv3_key or self.apiv3_key).encode()
        sealed = AESGCM(key).encrypt(resource_nonce.encode(), plaintext, associated_data.encode())
        if tamper_ciphertext:
            sealed = bytes([sealed[0] ^ 0x01]) + sealed[1:]
        envelope = {
            "id": f"EV-2018022511223320873-{order.out_trade_no}",
            "create_time": order.success_time or _now_text(),
            "resource_type": "encrypt-resource",
            "event_type": f"TRANSACTION.{state}",
            "summary": "支付成功" if state == "SUCCESS" else "支付结果",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(sealed).decode(),
                "associated_data": associated_data,
                "nonce": resource_nonce,
            },
        }
        body = json.dumps(envelope, ensure_ascii=False).encode()
        headers = self.signature_headers(
            body,
            timestamp=str(int(time.time() if timestamp is None else timestamp)),
            nonce=nonce,
            serial=serial,
            key=signing_key,
        )
        headers["Content-Type"] = "application/json"
        if tamper_body:
            body = body.replace(b'"encrypt-resource"', b'"encrypt-resourcE"')
        return headers, body

    def signature_headers(
        self,
        body: bytes,
        *,
        timestamp: str | None = None,
        nonce: str | None = None,
        serial: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
    ) -> dict[str, str]:
        """WeChat Pay's signature headers for an answer or a callback body (signed with
        the platform key unless ``key`` is given)."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or secrets.token_hex(16)
        message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": _sign(key or self.response_key, message),
            "Wechatpay-Serial": serial or self.response_serial,
            "Wechatpay-Signature-Type": SCHEME,
        }

    # --- the API -----------------------------------------------------------------------

    def authorize(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bool:
        """Whether the request carries the merchant's valid signature."""
        value = headers.get("authorization", "")
        if not value.startswith(SCHEME + " "):
            return False
        fields = dict(re.findall(r'(\w+)="([^"]*)"', value[len(SCHEME) + 1 :]))
        try:
            signature = base64.b64decode(fields["signature"], validate=True)
            timestamp = int(fields["timestamp"])
            nonce = fields["nonce_str"]
        except (KeyError, ValueError):
            return False
        if fields.get("mchid") != self.mchid or fields.get("serial_no") != self.cert_serial_no:
            return False
        if abs(time.time() - timestamp) > 300:
            return False
        message = f"{method}\n{target}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"
        try:
            self.merchant.public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    def handle(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, Any] | None]:
        """Carry out one authorized request: (HTTP status, JSON answer or None)."""
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        try:
            with self._lock:
                if method == "POST" and path == "/v3/pay/transactions/native":
                    return 200, self._native(self._body(body))
                if method == "POST" and path == "/v3/refund/domestic/refunds":
                    return 200, self._refund(self._body(body))
                match = re.fullmatch(r"/v3/pay/transactions/(out-trade-no|id)/([^/]+)", path)
                if method == "GET" and match:
                    return 200, self._query(match[1], unquote(match[2]), query)
                match = re.fullmatch(r"/v3/refund/domestic/refunds/([^/]+)", path)
                if method == "GET" and match:
                    refund = self._refunds.get(unquote(match[1]))
                    if refund is None:
                        raise GatewayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
                    return 200, refund.as_json()
        except GatewayError as error:
            return error.status, {"code": error.code, "message": error.message}
        return 404, {"code": "NOT_FOUND", "message": "接口不存在"}

    @staticmethod
    def _body(body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except ValueError:
            raise GatewayError(400, "PARAM_ERROR", "请求体不是合法的JSON") from None
        if not isinstance(data, dict):
            raise GatewayError(400, "PARAM_ERROR", "请求体不是JSON对象")
        return data

    def _native(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("mchid") != self.mchid:
            raise GatewayError(400, "MCH_NOT_EXISTS", "商户号不存在")
        if data.get("appid") != self.appid:
            raise GatewayError(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        amount = data.get("amount")
        total = amount.get("total") if isinstance(amount, dict) else None
        for name in ("description", "out_trade_no", "notify_url"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise GatewayError(400, "PARAM_ERROR", f"缺少参数 {name}")
        if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
            raise GatewayError(400, "PARAM_ERROR", "amount.total 必须为正整数")
        if amount.get("currency", "CNY") != "CNY":
            raise GatewayError(400, "PARAM_ERROR", "币种只支持CNY")
        if not re.fullmatch(r"[A-Za-z0-9_\-*|]{6,32}", data["out_trade_no"]):
            raise GatewayError(400, "PARAM_ERROR", "out_trade_no 格式错误")
        existing = self._orders.get(data["out_trade_no"])
        if existing is not None:
            if existing.trade_state in ("SUCCESS", "REFUND"):
                raise GatewayError(400, "ORDERPAID", "该订单已支付")
            if existing.trade_state in ("CLOSED", "REVOKED"):
                raise GatewayError(400, "ORDER_CLOSED", "订单已关闭")
            if (existing.total, existing.description) != (total, data["description"]):
                raise GatewayError(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            return {"code_url": existing.code_url}
        order = FakeOrder(
            appid=self.appid,
            mchid=self.mchid,
            out_trade_no=data["out_trade_no"],
            description=data["description"],
            notify_url=data["notify_url"],
            total=total,
            attach=str(data.get("attach") or ""),
            code_url=f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}",
        )
        self._orders[order.out_trade_no] = order
        return {"code_url": order.code_url}

    def _query(self, by: str, value: str, query: dict[str, str]) -> dict[str, Any]:
        if query.get("mchid") != self.mchid:
            raise GatewayError(400, "PARAM_ERROR", "mchid 参数错误")
        if by == "out-trade-no":
            order = self._orders.get(value)
        else:
            order = next((o for o in self._orders.values() if o.transaction_id == value), None)
        if order is None:
            raise GatewayError(404, "ORDER_NOT_EXIST", "订单不存在")
        return order.as_json()

    def _refund(self, data: dict[str, Any]) -> dict[str, Any]:
        out_refund_no = data.get("out_refund_no")
        amount = data.get("amount") if isinstance(data.get("amount"), dict) else {}
        refund, total = amount.get("refund"), amount.get("total")
        if not isinstance(out_refund_no, str) or not out_refund_no:
            raise GatewayError(400, "PARAM_ERROR", "缺少参数 out_refund_no")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (refund, total)):
            raise GatewayError(400, "PARAM_ERROR", "amount.refund 和 amount.total 必须为整数")
        if amount.get("currency") != "CNY":
            raise GatewayError(400, "PARAM_ERROR", "币种只支持CNY")
        if data.get("transaction_id"):
            order = next(
                (o for o in self._orders.values() if o.transaction_id == data["transaction_id"]),
                None,
            )
        elif data.get("out_trade_no"):
            order = self._orders.get(data["out_trade_no"])
        else:
            raise GatewayError(400, "PARAM_ERROR", "transaction_id 和 out_trade_no 必须二选一")
        if order is None:
            raise GatewayError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        existing = self._refunds.get(out_refund_no)
        if existing is not None:
            if (existing.out_trade_no, existing.refund) != (order.out_trade_no, refund):
                raise GatewayError(400, "INVALID_REQUEST", "同一商户退款单号的请求参数不一致")
            return existing.as_json()
        if order.trade_state not in ("SUCCESS", "REFUND"):
            raise GatewayError(400, "INVALID_REQUEST", "订单未支付，不能退款")
        if total != order.total:
            raise GatewayError(400, "PARAM_ERROR", "订单金额与原订单不一致")
        if refund <= 0:
            raise GatewayError(400, "PARAM_ERROR", "退款金额必须大于0")
        if order.refunded >= order.total:
            raise GatewayError(400, "INVALID_REQUEST", "订单已全额退款")
        if refund > order.total - order.refunded:
            raise GatewayError(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        record = FakeRefund(
            refund_id=f"50300{datetime.now(CHINA):%Y%m%d}{next(_numbers):016d}",
            out_refund_no=out_refund_no,
            transaction_id=order.transaction_id,
            out_trade_no=order.out_trade_no,
            refund=refund,
            total=order.total,
            reason=str(data.get("reason") or ""),
            create_time=_now_text(),
        )
        self._refunds[out_refund_no] = record
        order.refunded += refund
        order.trade_state = "REFUND"
        return record.as_json()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeWechatPay
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake = self.fake
        authorized = fake.authorize(method, self.path, headers, body)
        with fake._lock:
            fake.received.append(Received(method, self.path, body, authorized, headers))
        if authorized:
            status, answer = fake.handle(method, self.path, body)
        else:
            status, answer = 401, {"code": "SIGN_ERROR", "message": "签名错误"}
        delay = fake._next_stall(self.path)
        if delay:
            fake._closing.wait(delay)
        payload = json.dumps(answer, ensure_ascii=False).encode() if answer is not None else b""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-ID", f"08{secrets.token_hex(12).upper()}")
            for name, value in fake.signature_headers(payload).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up (a stalled answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- The contract suite's harness ----------------------------------------------------------


class WechatPayHarness:
    """Runs the contract suite's ``wechat_pay`` adapter against a :class:`FakeWechatPay`."""

    def __init__(self, name: str, settings):
        self.name = name
        self.fake = FakeWechatPay().start()
        settings.PAYMENT_ADAPTERS = {
            **settings.PAYMENT_ADAPTERS,
            name: {"class": ADAPTER_CLASS, "options": self.fake.adapter_options()},
        }

    def succeeding_request(self, amount: str = "100.00") -> CollectionRequest:
        return CollectionRequest(
            idempotency_key=f"WX{secrets.token_hex(8).upper()}",
            amount=money(amount, "CNY"),
            reference="CHG-0001",
            description="Client management fee, March",
            customer_ref="CUST-1",
            notify_url=f"https://example.com/notify/{self.name}",
            metadata={"bank_account": "6222021234567890123"},
        )

    def pay(self, adapter, request: CollectionRequest) -> CollectionResult:
        """Collect (PENDING, a QR code), scan the code and pay, then collect again."""
        first = adapter.collect(request)
        assert first.status == AttemptStatus.PENDING, first
        assert first.action is not None and first.action.value.startswith("weixin://")
        self.fake.scan(first.action.value)
        return adapter.collect(request)

    def debits(self, idempotency_key: str) -> int:
        return self.fake.debits(idempotency_key)

    def notification(self, idempotency_key: str) -> tuple[dict[str, str], bytes]:
        return self.fake.notification_for(idempotency_key)

    def secrets(self) -> list[str]:
        key_body = "".join(self.fake.merchant.private_pem.splitlines()[1:-1])
        return [self.fake.apiv3_key, key_body[:64], key_body[-64:]]

    def close(self) -> None:
        self.fake.close()
