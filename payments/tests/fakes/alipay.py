"""A local fake Alipay open platform gateway, speaking the real wire format.

A :class:`FakeAlipay` is an HTTP server on 127.0.0.1 (a free port) in a daemon thread.
Like ``openapi.alipay.com/gateway.do`` it takes form posts (or GETs) of the common
parameters plus ``biz_content``, checks each request's RSA2 signature with the
application's public key, keeps trades in memory and answers
``{"alipay_trade_xxx_response": {...}, "sign": "..."}`` signed with the fake Alipay
private key. Its signing code is written here, apart from the adapter's, so the tests
check one implementation against another.

Methods: ``alipay.trade.precreate`` (a QR code), ``alipay.trade.page.pay`` (the cashier
page a customer opens: it creates the trade and answers HTML), ``alipay.trade.query``,
``alipay.trade.refund`` and ``alipay.trade.fastpay.refund.query``. One simplification:
real Alipay answers ``ACQ.TRADE_NOT_EXIST`` to a query for a precreated trade nobody
has scanned yet; here the trade is found, WAIT_BUYER_PAY without a ``trade_no``.

The fake also plays the customer (:meth:`FakeAlipay.scan`, :meth:`~FakeAlipay.pay`,
:meth:`~FakeAlipay.pay_qr`, :meth:`~FakeAlipay.open_page`), builds signed asynchronous
notifications (:meth:`FakeAlipay.notification_for`, with overrides for tampering tests),
and misbehaves on demand: :meth:`~FakeAlipay.stall` (answer the next requests only after
the adapter's timeout, having carried them out), :meth:`~FakeAlipay.fail_next` (answer
an error code without doing anything), :meth:`~FakeAlipay.sign_responses_with` (another
key) and :attr:`~FakeAlipay.mangle_response` (rewrite a signed answer's text).

Usage::

    with FakeAlipay() as fake:           # or fake = FakeAlipay().start(); ...; fake.close()
        fake.install(settings)           # PAYMENT_ADAPTERS["alipay"] → this gateway
        headers, body = fake.notification_for("KEY0001", total_amount="1.00")

RSA keys (2048-bit) are generated once per test process (:func:`key_pair`).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import itertools
import json
import re
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from feemgmt.core.money import money
from payments.adapters.base import ActionKind, AttemptStatus, CollectionRequest

__all__ = [
    "APP_ID",
    "NOTIFICATION_HEADERS",
    "SELLER_ID",
    "AlipayHarness",
    "FakeAlipay",
    "FakeCall",
    "FakeTrade",
    "KeyPair",
    "fake_alipay",
    "key_pair",
]

APP_ID = "2021000000000001"
SELLER_ID = "2088000000000001"
BUYER_ID = "2088102177846880"
BEIJING = dt.timezone(dt.timedelta(hours=8))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
NOTIFICATION_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
TIMESTAMP_TOLERANCE = dt.timedelta(minutes=15)
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$")
_MAX_AMOUNT = Decimal("100000000")
_PAID = ("TRADE_SUCCESS", "TRADE_FINISHED")


# --- keys and signatures ------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    private_key: rsa.RSAPrivateKey
    private_pem: str
    public_pem: str

    def sign(self, text: str) -> str:
        signature = self.private_key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")


@functools.cache
def key_pair(label: str) -> KeyPair:
    """A 2048-bit RSA key pair per label, generated once per test process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return KeyPair(
        private_key=key,
        private_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii"),
        public_pem=key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii"),
    )


def _sign_with(private_pem: str, text: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def _content(fields: Mapping[str, str], exclude: tuple[str, ...]) -> str:
    """Alipay's signed text: sorted ``k=v`` of the non-empty fields not in ``exclude``."""
    return "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if v and k not in exclude)


def _verified(public_pem: str, text: str, signature: str) -> bool:
    key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(base64.b64decode(signature), text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _now() -> dt.datetime:
    return dt.datetime.now(BEIJING).replace(microsecond=0)


def _fmt(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT) if moment else None


def _yuan(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


# --- the gateway's records ----------------------------------------------------------


@dataclass
class FakeTrade:
    """One trade as Alipay holds it (a copy is handed out; change it through the fake)."""

    out_trade_no: str
    total_amount: Decimal
    subject: str
    product: str  # "qr" or "page"
    notify_url: str | None = None
    qr_code: str | None = None
    trade_no: str | None = None  # given once the customer scans or opens the page
    status: str = "WAIT_BUYER_PAY"
    gmt_create: dt.datetime = field(default_factory=_now)
    gmt_scan: dt.datetime | None = None
    gmt_payment: dt.datetime | None = None
    gmt_close: dt.datetime | None = None
    refunds: dict[str, Decimal] = field(default_factory=dict)  # out_request_no → amount
    refunded: Decimal = Decimal("0.00")
    debits: int = 0  # times money was taken from the buyer

    @property
    def paid(self) -> bool:
        return self.gmt_payment is not None


@dataclass(frozen=True)
class FakeCall:
    """A request the gateway received: its method, parameters and signature check."""

    method: str
    params: Mapping[str, str]
    signature_ok: bool

    @property
    def biz_content(self) -> dict[str, Any]:
        return json.loads(self.params.get("biz_content") or "{}")


class _Error(Exception):
    """A business error answer: ``code`` 40004 (or another) with a sub code."""

    def __init__(self, sub_code: str, sub_msg: str, code: str = "40004", msg: str = ""):
        super().__init__(sub_code)
        self.node = {
            "code": code,
            "msg": msg or {"40004": "Business Failed", "40002": "Invalid Arguments"}.get(code, ""),
            "sub_code": sub_code,
            "sub_msg": sub_msg,
        }


class FakeAlipay:
    """The fake gateway; see the module docstring."""

    def __init__(
        self,
        *,
        app_id: str = APP_ID,
        seller_id: str = SELLER_ID,
        adapter_timeout: float = 2.0,
    ):
        self.app_id = app_id
        self.seller_id = seller_id
        self.adapter_timeout = adapter_timeout
        self.app_keys = key_pair("alipay-app")
        self.alipay_keys = key_pair("alipay-gateway")
        self.mangle_response: Callable[[str], str] | None = None
        self._response_signer: str | None = None  # a PEM other than Alipay's, when set
        self._lock = threading.RLock()
        self._trades: dict[str, FakeTrade] = {}
        self._calls: list[FakeCall] = []
        self._stalls: list[float] = []
        self._failures: list[dict[str, str]] = []
        self._numbers = itertools.count(1)
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> FakeAlipay:
        fake = self

        class Handler(_Handler):
            gateway = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-alipay",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # wakes stalled answers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAlipay:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Alipay gateway is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/gateway.do"

    def adapter_options(self, **overrides: Any) -> dict[str, Any]:
        """Options for an AlipayAdapter talking to this gateway."""
        return {
            "app_id": self.app_id,
            "seller_id": self.seller_id,
            "app_private_key": self.app_keys.private_pem,
            "alipay_public_key": self.alipay_keys.public_pem,
            "gateway_url": self.url,
            "timeout": self.adapter_timeout,
            **overrides,
        }

    def install(self, settings: Any, name: str = "alipay", **overrides: Any) -> None:
        """Point ``settings.PAYMENT_ADAPTERS[name]`` (pytest-django's ``settings``) here."""
        settings.PAYMENT_ADAPTERS = {
            **settings.PAYMENT_ADAPTERS,
            name: {
                "class": "payments.adapters.alipay.AlipayAdapter",
                "options": self.adapter_options(**overrides),
            },
        }

    def secrets(self) -> list[str]:
        """What must never show up in a result's raw payload or the adapter's repr."""
        pem = self.app_keys.private_pem
        body = "".join(pem.strip().splitlines()[1:-1])
        return [pem, body[:64], body[-64:]]

    # --- misbehaviour -----------------------------------------------------------------

    def stall(self, count: int = 1, seconds: float | None = None) -> None:
        """Carry out the next ``count`` requests but answer each only after ``seconds``
        (default: the adapter's timeout plus one second), so the adapter times out."""
        delay = self.adapter_timeout + 1.0 if seconds is None else seconds
        with self._lock:
            self._stalls.extend([delay] * count)

    def fail_next(
        self,
        count: int = 1,
        *,
        code: str = "20000",
        sub_code: str = "ACQ.SYSTEM_ERROR",
        sub_msg: str = "系统错误",
    ) -> None:
        """Answer the next ``count`` requests with this (signed) error, doing nothing."""
        node = _Error(sub_code, sub_msg, code=code, msg="Service Currently Unavailable").node
        with self._lock:
            self._failures.extend([node] * count)

    def sign_responses_with(self, private_pem: str | None) -> None:
        """Sign answers with another key (None: Alipay's own again)."""
        self._response_signer = private_pem

    # --- what happened ----------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[FakeCall]:
        with self._lock:
            return [c for c in self._calls if method in (None, c.method)]

    def trade(self, out_trade_no: str) -> FakeTrade | None:
        with self._lock:
            trade = self._trades.get(out_trade_no)
            return copy.deepcopy(trade) if trade else None

    def debits(self, out_trade_no: str) -> int:
        trade = self.trade(out_trade_no)
        return trade.debits if trade else 0

    # --- the customer -----------------------------------------------------------------

    def _trade(self, out_trade_no: str) -> FakeTrade:
        trade = self._trades.get(out_trade_no)
        if trade is None:
            raise KeyError(f"no Alipay trade {out_trade_no}")
        return trade

    def _scan(self, trade: FakeTrade) -> None:
        if trade.trade_no is None:
            day = _now().strftime("%Y%m%d")
            trade.trade_no = f"{day}22001{next(self._numbers):015d}"
            trade.gmt_scan = _now()

    def scan(self, out_trade_no: str) -> FakeTrade:
        """The customer scans the QR code (or logs in on the page): the trade gets its
        ``trade_no`` and waits for the customer to confirm."""
        with self._lock:
            trade = self._trade(out_trade_no)
            self._scan(trade)
            return copy.deepcopy(trade)

    def pay(self, out_trade_no: str) -> FakeTrade:
        """The customer pays: TRADE_SUCCESS, money taken once (a paid trade stays paid)."""
        with self._lock:
            trade = self._trade(out_trade_no)
            if trade.status == "TRADE_CLOSED":
                raise ValueError(f"trade {out_trade_no} is closed")
            if trade.status == "WAIT_BUYER_PAY":
                self._scan(trade)
                trade.status = "TRADE_SUCCESS"
                trade.gmt_payment = _now()
                trade.debits += 1
            return copy.deepcopy(trade)

    def pay_qr(self, qr_code: str) -> FakeTrade:
        """The customer scans ``qr_code`` with the Alipay app and pays."""
        with self._lock:
            matches = [t.out_trade_no for t in self._trades.values() if t.qr_code == qr_code]
        if not matches:
            raise KeyError(f"no trade has the QR code {qr_code}")
        return self.pay(matches[0])

    def open_page(self, url: str) -> tuple[int, str]:
        """The customer's browser opens a cashier page URL: (HTTP status, HTML)."""
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    def close_trade(self, out_trade_no: str) -> FakeTrade:
        """The trade expires unpaid: TRADE_CLOSED."""
        with self._lock:
            trade = self._trade(out_trade_no)
            if trade.status != "WAIT_BUYER_PAY":
                raise ValueError(f"trade {out_trade_no} is {trade.status}")
            trade.status, trade.gmt_close = "TRADE_CLOSED", _now()
            return copy.deepcopy(trade)

    def finish(self, out_trade_no: str) -> FakeTrade:
        """The refund period of a paid trade ends: TRADE_FINISHED."""
        with self._lock:
            trade = self._trade(out_trade_no)
            if trade.status != "TRADE_SUCCESS":
                raise ValueError(f"trade {out_trade_no} is {trade.status}")
            trade.status = "TRADE_FINISHED"
            return copy.deepcopy(trade)

    # --- notifications ----------------------------------------------------------------

    def notification_fields(self, out_trade_no: str, /, **overrides: Any) -> dict[str, str]:
        """The fields of the notification Alipay sends for the trade as it is now (unsigned).

        ``notify_time`` is the time of the trade's last change, so building the
        notification again gives the same bytes, as Alipay's re-sends are. ``overrides``
        replace fields (None removes one).
        """
        with self._lock:
            trade = self._trade(out_trade_no)
            self._scan(trade)
            trade = copy.deepcopy(trade)
        changed = max(
            t for t in (trade.gmt_create, trade.gmt_scan, trade.gmt_payment, trade.gmt_close) if t
        )
        total = _yuan(trade.total_amount)
        fields: dict[str, str | None] = {
            "notify_time": _fmt(changed),
            "notify_type": "trade_status_sync",
            "notify_id": uuid.uuid5(
                uuid.NAMESPACE_URL, f"{trade.trade_no}/{trade.status}/{trade.refunded}"
            ).hex,
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "app_id": self.app_id,
            "auth_app_id": self.app_id,
            "seller_id": self.seller_id,
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_id": BUYER_ID,
            "buyer_logon_id": "158****1234",
            "trade_status": trade.status,
            "total_amount": total,
            "receipt_amount": total if trade.paid else None,
            "invoice_amount": total if trade.paid else None,
            "buyer_pay_amount": total if trade.paid else None,
            "point_amount": "0.00" if trade.paid else None,
            "refund_fee": _yuan(trade.refunded) if trade.refunded else None,
            "subject": trade.subject,
            "gmt_create": _fmt(trade.gmt_create),
            "gmt_payment": _fmt(trade.gmt_payment),
            "gmt_close": _fmt(trade.gmt_close),
            "fund_bill_list": json.dumps(
                [{"amount": total, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")
            )
            if trade.paid
            else None,
        }
        fields.update(overrides)
        return {k: str(v) for k, v in fields.items() if v is not None}

    def sign_notification(
        self, fields: Mapping[str, str], *, private_pem: str | None = None
    ) -> dict[str, str]:
        """``fields`` with Alipay's RSA2 ``sign`` (over all but sign and sign_type)."""
        text = _content(fields, exclude=("sign", "sign_type"))
        sign = _sign_with(private_pem, text) if private_pem else self.alipay_keys.sign(text)
        return {**fields, "sign": sign}

    def notification_for(
        self,
        out_trade_no: str,
        /,
        *,
        signed_with: str | None = None,
        after_signing: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> tuple[dict[str, str], bytes]:
        """A signed notification for the trade, as Alipay posts it: (headers, form body).

        ``overrides`` change fields before signing (a notification Alipay could send);
        ``after_signing`` changes them after (tampering; None removes a field, e.g.
        ``{"sign": None}``); ``signed_with`` signs with another private key (PEM).
        """
        fields = self.sign_notification(
            self.notification_fields(out_trade_no, **overrides), private_pem=signed_with
        )
        for name, value in (after_signing or {}).items():
            if value is None:
                fields.pop(name, None)
            else:
                fields[name] = str(value)
        return dict(NOTIFICATION_HEADERS), urlencode(fields).encode("utf-8")

    # --- the gateway ------------------------------------------------------------------

    def _answer(self, method: str, node: Mapping[str, Any]) -> tuple[int, str, bytes]:
        key = f"{method.replace('.', '_')}_response" if method else "error_response"
        node_text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        signer = self._response_signer
        sign = _sign_with(signer, node_text) if signer else self.alipay_keys.sign(node_text)
        text = f'{{"{key}":{node_text},"sign":"{sign}"}}'
        if self.mangle_response is not None:
            text = self.mangle_response(text)
        return 200, "application/json;charset=utf-8", text.encode("utf-8")

    def handle(self, http_method: str, query: str, body: str) -> tuple[int, str, bytes, float]:
        """One gateway request → (status, content type, body, seconds to hold the answer)."""
        params: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True) + parse_qsl(
            body, keep_blank_values=True
        ):
            params.setdefault(name, value)
        method = params.get("method", "")
        with self._lock:
            delay = self._stalls.pop(0) if self._stalls else 0.0
            failure = self._failures.pop(0) if self._failures else None
        problem = self._check_request(params)
        with self._lock:
            self._calls.append(FakeCall(method, dict(params), problem is None))
        if method == "alipay.trade.page.pay" and http_method == "GET":
            return (*self._page(params, problem), delay)
        if problem is not None:
            return (*self._answer(method if method in _HANDLERS else "", problem.node), delay)
        if failure is not None:
            return (*self._answer(method, failure), delay)
        try:
            biz = json.loads(params.get("biz_content") or "{}")
            with self._lock:
                node = {"code": "10000", "msg": "Success", **_HANDLERS[method](self, params, biz)}
        except _Error as error:
            node = error.node
        except (ValueError, TypeError, AttributeError):
            node = _Error("isv.invalid-biz-content", "biz_content 格式错误", code="40002").node
        return (*self._answer(method, node), delay)

    def _check_request(self, params: Mapping[str, str]) -> _Error | None:
        if params.get("method") not in (*_HANDLERS, "alipay.trade.page.pay"):
            return _Error("isv.invalid-method", "不存在的方法名", code="40002")
        if params.get("app_id") != self.app_id:
            return _Error("isv.invalid-app-id", "无效的AppID参数", code="40002")
        if params.get("sign_type") != "RSA2" or params.get("charset", "utf-8") != "utf-8":
            return _Error("isv.invalid-signature-type", "无效的签名类型", code="40002")
        text = _content(params, exclude=("sign",))
        if not params.get("sign") or not _verified(self.app_keys.public_pem, text, params["sign"]):
            return _Error(
                "isv.invalid-signature",
                f"验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{text}",
                code="40002",
            )
        try:
            sent = dt.datetime.strptime(params.get("timestamp", ""), TIME_FORMAT)
        except ValueError:
            return _Error("isv.invalid-timestamp", "非法的时间戳参数", code="40002")
        if abs(sent.replace(tzinfo=BEIJING) - _now()) > TIMESTAMP_TOLERANCE:
            return _Error("isv.invalid-timestamp", "时间戳参数超出允许范围", code="40002")
        return None

    # --- the methods (called under the lock) ------------------------------------------

    def _page(self, params: Mapping[str, str], problem: _Error | None) -> tuple[int, str, bytes]:
        if problem is None:
            try:
                biz = json.loads(params.get("biz_content") or "{}")
                self._create(biz, params, product="page")
            except _Error as error:
                problem = error
            except (ValueError, TypeError, AttributeError):
                problem = _Error("isv.invalid-biz-content", "biz_content 格式错误")
        if problem is not None:
            html = f"<html><body><p>错误代码 {problem.node['sub_code']}</p></body></html>"
        else:
            html = "<html><body><h1>支付宝 - 网上支付 安全快速！</h1></body></html>"
        return 200, "text/html;charset=utf-8", html.encode("utf-8")

    def _create(self, biz: Mapping[str, Any], params: Mapping[str, str], *, product: str):
        out_trade_no = biz.get("out_trade_no")
        total = biz.get("total_amount")
        if not out_trade_no or not biz.get("subject") or not isinstance(total, str):
            raise _Error("ACQ.INVALID_PARAMETER", "参数无效")
        if not _AMOUNT.match(total) or not Decimal(0) < Decimal(total) <= _MAX_AMOUNT:
            raise _Error("ACQ.INVALID_PARAMETER", "total_amount 参数无效")
        with self._lock:
            trade = self._trades.get(out_trade_no)
            if trade is not None:
                if trade.status in _PAID or (trade.status == "TRADE_CLOSED" and trade.paid):
                    raise _Error("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
                if trade.status == "TRADE_CLOSED":
                    raise _Error("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
                if trade.total_amount != Decimal(total):
                    raise _Error("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
                return trade
            trade = FakeTrade(
                out_trade_no=out_trade_no,
                total_amount=Decimal(total),
                subject=str(biz["subject"]),
                product=product,
                notify_url=params.get("notify_url"),
            )
            self._trades[out_trade_no] = trade
            return trade

    def _precreate(self, params: Mapping[str, str], biz: Mapping[str, Any]) -> dict[str, str]:
        trade = self._create(biz, params, product="qr")
        if trade.qr_code is None:
            trade.qr_code = f"https://qr.alipay.com/bax0{uuid.uuid4().hex[:20]}"
        return {"out_trade_no": trade.out_trade_no, "qr_code": trade.qr_code}

    def _find(self, biz: Mapping[str, Any]) -> FakeTrade:
        trade = None
        if biz.get("trade_no"):
            trade = next((t for t in self._trades.values() if t.trade_no == biz["trade_no"]), None)
        elif biz.get("out_trade_no"):
            trade = self._trades.get(biz["out_trade_no"])
        if trade is None:
            raise _Error("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return trade

    def _query(self, params: Mapping[str, str], biz: Mapping[str, Any]) -> dict[str, str]:
        trade = self._find(biz)
        node = {
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status,
            "total_amount": _yuan(trade.total_amount),
        }
        if trade.trade_no:
            node.update(trade_no=trade.trade_no, buyer_logon_id="158****1234")
            node["buyer_user_id"] = BUYER_ID
        if trade.paid:
            node.update(
                send_pay_date=_fmt(trade.gmt_payment),
                buyer_pay_amount=_yuan(trade.total_amount),
                receipt_amount=_yuan(trade.total_amount),
                point_amount="0.00",
                invoice_amount=_yuan(trade.total_amount),
            )
        return node

    def _refund(self, params: Mapping[str, str], biz: Mapping[str, Any]) -> dict[str, str]:
        trade = self._find(biz)
        amount = biz.get("refund_amount")
        if not isinstance(amount, str) or not _AMOUNT.match(amount) or Decimal(amount) <= 0:
            raise _Error("ACQ.INVALID_PARAMETER", "refund_amount 参数无效")
        request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        fund_change = "N"
        if request_no not in trade.refunds:
            if not trade.paid:
                raise _Error("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if trade.status == "TRADE_FINISHED":
                raise _Error("ACQ.TRADE_HAS_FINISHED", "交易已完结")
            if Decimal(amount) > trade.total_amount - trade.refunded:
                raise _Error("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            trade.refunds[request_no] = Decimal(amount)
            trade.refunded += Decimal(amount)
            if trade.refunded == trade.total_amount:
                trade.status, trade.gmt_close = "TRADE_CLOSED", _now()
            fund_change = "Y"
        return {
            "trade_no": str(trade.trade_no),
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "158****1234",
            "buyer_user_id": BUYER_ID,
            "fund_change": fund_change,
            "refund_fee": _yuan(trade.refunded),
            "gmt_refund_pay": _fmt(_now()) or "",
        }

    def _refund_query(self, params: Mapping[str, str], biz: Mapping[str, Any]) -> dict[str, str]:
        trade = self._find(biz)
        request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        node = {"trade_no": str(trade.trade_no), "out_trade_no": trade.out_trade_no}
        if request_no in trade.refunds:  # an unknown refund answers 10000 without amounts
            node.update(
                out_request_no=request_no,
                total_amount=_yuan(trade.total_amount),
                refund_amount=_yuan(trade.refunds[request_no]),
                refund_status="REFUND_SUCCESS",
            )
        return node


_HANDLERS: dict[str, Callable[[FakeAlipay, Mapping[str, str], Mapping[str, Any]], dict]] = {
    "alipay.trade.precreate": FakeAlipay._precreate,
    "alipay.trade.query": FakeAlipay._query,
    "alipay.trade.refund": FakeAlipay._refund,
    "alipay.trade.fastpay.refund.query": FakeAlipay._refund_query,
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that gave up on a stalled answer is the point of a stall."""


class _Handler(BaseHTTPRequestHandler):
    gateway: FakeAlipay

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._reply("POST", self.rfile.read(length).decode("utf-8", "replace"))

    def do_GET(self) -> None:
        self._reply("GET", "")

    def _reply(self, http_method: str, body: str) -> None:
        status, content_type, payload, delay = self.gateway.handle(
            http_method, urlsplit(self.path).query, body
        )
        if delay and self.gateway._closing.wait(delay):
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the adapter stopped waiting

    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- for tests ----------------------------------------------------------------------


@pytest.fixture
def fake_alipay(settings) -> Iterator[FakeAlipay]:
    """A started fake gateway installed as the ``alipay`` adapter (import it into a test
    module or conftest to use it)."""
    with FakeAlipay() as fake:
        fake.install(settings)
        yield fake


class AlipayHarness:
    """Drives the fake gateway for the adapter contract suite."""

    def __init__(self, name: str, settings: Any = None):
        self.name = name
        self.fake = FakeAlipay().start()
        if settings is not None:
            self.fake.install(settings, name)

    def succeeding_request(self, amount: str = "100.00") -> CollectionRequest:
        return CollectionRequest(
            idempotency_key=f"AP{uuid.uuid4().hex[:24].upper()}",
            amount=money(amount, "CNY"),
            reference="CHG-0001",
            description="Client management fee, March",
            customer_ref="CUST-1",
            notify_url="https://example.com/notify/alipay",
            metadata={"bank_account": "6222021234567890123"},
        )

    def pay(self, adapter: Any, request: CollectionRequest) -> Any:
        """Collect (a QR code), scan and pay it as the customer, collect again."""
        first = adapter.collect(request)
        if first.status != AttemptStatus.PENDING or first.action is None:
            raise AssertionError(f"expected a pending QR code collection, got {first}")
        if first.action.kind != ActionKind.QR_CODE:
            raise AssertionError(f"expected a QR code, got {first.action}")
        self.fake.pay_qr(first.action.value)
        return adapter.collect(request)

    def debits(self, idempotency_key: str) -> int:
        return self.fake.debits(idempotency_key)

    def notification(self, idempotency_key: str) -> tuple[dict[str, str], bytes]:
        return self.fake.notification_for(idempotency_key)

    def secrets(self) -> list[str]:
        return self.fake.secrets()

    def close(self) -> None:
        self.fake.close()
