"""The Alipay open platform gateway on the wire: the only module here that speaks HTTP
or imports the vendor SDK.

Requests are form posts to ``gateway_url`` with the common parameters (``app_id``,
``method``, ``charset=utf-8``, ``sign_type=RSA2``, ``timestamp`` in Beijing time,
``version=1.0``, ``notify_url``, ``biz_content`` as JSON) signed with the application's
private key: SHA256withRSA over the parameters sorted by name as ``k=v`` joined by
``&``, without ``sign`` and without empty values. python-alipay-sdk signs and verifies
(``AliPay.sign_data`` / ``AliPay.verify``); it is not used for transport, because its
gateway URL is fixed to Alipay's hosts and its HTTP call cannot be told what a timeout
means. ``requests`` does the HTTP with the adapter's timeout instead.

An answer is ``{"alipay_trade_xxx_response": {...}, "sign": "..."}``; the signature
covers the exact text of the response node as sent. That text is cut out of the body
with the JSON decoder itself (the SDK counts braces and is fooled by a brace inside a
string), and checked with the Alipay public key before anything in it is read. An
answer that cannot be verified raises :class:`AdapterError` "alipay_bad_response":
nothing in it is trusted.

Asynchronous notifications are form posts signed by Alipay over every field except
``sign`` and ``sign_type``; fields with empty values are left out of the signed text, as
Alipay's own SDKs do.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import requests
from alipay import AliPay
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.exceptions import ImproperlyConfigured

from payments.adapters.alipay.errors import alipay_error
from payments.adapters.base import GatewayTimeout

__all__ = [
    "BEIJING",
    "SUCCESS_CODE",
    "AlipayClient",
    "GatewayAnswer",
    "response_nodes",
]

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991
SUCCESS_CODE = "10000"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=utf-8"
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_decoder = json.JSONDecoder()


def response_nodes(text: str) -> dict[str, str]:
    """The top-level members of a JSON object, each as its exact source text.

    Raises ValueError for anything but one object with distinct keys: a second copy of a
    signed node must not be able to stand in for the first.
    """
    pos = _WHITESPACE.match(text, 0).end()
    if text[pos : pos + 1] != "{":
        raise ValueError("the answer is not a JSON object")
    pos = _WHITESPACE.match(text, pos + 1).end()
    nodes: dict[str, str] = {}
    if text[pos : pos + 1] == "}":
        pos += 1
    else:
        while True:
            key, pos = _decoder.raw_decode(text, pos)
            if not isinstance(key, str) or key in nodes:
                raise ValueError(f"bad or repeated member name {key!r}")
            pos = _WHITESPACE.match(text, pos).end()
            if text[pos : pos + 1] != ":":
                raise ValueError("expected ':'")
            start = _WHITESPACE.match(text, pos + 1).end()
            _value, pos = _decoder.raw_decode(text, start)
            nodes[key] = text[start:pos]
            pos = _WHITESPACE.match(text, pos).end()
            separator, pos = text[pos : pos + 1], pos + 1
            if separator == "}":
                break
            if separator != ",":
                raise ValueError("expected ',' or '}'")
            pos = _WHITESPACE.match(text, pos).end()
    if text[pos:].strip(" \t\n\r"):
        raise ValueError("text after the JSON object")
    return nodes


@dataclass(frozen=True)
class GatewayAnswer:
    """A verified answer: the response node, read only after its signature checked out."""

    method: str
    sent: Mapping[str, str]  # the parameters we posted (with their signature)
    node: Mapping[str, Any]

    @property
    def code(self) -> str:
        return str(self.node.get("code", ""))

    @property
    def sub_code(self) -> str:
        return str(self.node.get("sub_code", ""))

    @property
    def ok(self) -> bool:
        return self.code == SUCCESS_CODE


def _load_public_key(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise ImproperlyConfigured(f"alipay_public_key is not a PEM public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ImproperlyConfigured("alipay_public_key must be an RSA key")
    return key


class AlipayClient:
    """Signs, sends and verifies. Holds keys, so its repr names only the app id."""

    def __init__(
        self,
        *,
        app_id: str,
        app_private_key: str,
        alipay_public_key: str,
        gateway_url: str,
        timeout: float,
    ):
        self.app_id = app_id
        self.gateway_url = gateway_url
        self.timeout = timeout
        try:
            self._sdk = AliPay(
                appid=app_id,
                app_private_key_string=app_private_key,
                alipay_public_key_string=alipay_public_key,
                sign_type="RSA2",
            )
        except (ValueError, IndexError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"the alipay adapter's keys cannot be read as RSA PEM keys: {exc}"
            ) from None
        self._public_key = _load_public_key(alipay_public_key)

    def __repr__(self) -> str:
        return f"<AlipayClient app_id={self.app_id!r} gateway={self.gateway_url!r}>"

    # --- requests -------------------------------------------------------------------

    def params(
        self, method: str, biz_content: Mapping[str, Any], **extra: str | None
    ) -> dict[str, str]:
        """The common parameters, ``biz_content`` and ``extra`` (empty ones dropped)."""
        return {
            "app_id": self.app_id,
            "method": method,
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": dt.datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
            **{key: str(value) for key, value in extra.items() if value},
        }

    def signed_params(
        self, method: str, biz_content: Mapping[str, Any], **extra: str | None
    ) -> dict[str, str]:
        """:meth:`params` with their ``sign``."""
        params = self.params(method, biz_content, **extra)
        # sign_data() answers the url-encoded form with the signature appended.
        signed = parse_qsl(self._sdk.sign_data(dict(params)), keep_blank_values=True)
        params["sign"] = next(value for key, value in reversed(signed) if key == "sign")
        return params

    def page_url(self, method: str, biz_content: Mapping[str, Any], **extra: str | None) -> str:
        """A signed GET URL for a page the customer opens (alipay.trade.page.pay)."""
        return f"{self.gateway_url}?{urlencode(self.signed_params(method, biz_content, **extra))}"

    def call(
        self, method: str, biz_content: Mapping[str, Any], **extra: str | None
    ) -> GatewayAnswer:
        """Post one request and return its verified answer.

        Raises GatewayTimeout when no usable answer came back (the request may have been
        carried out) and AdapterError "alipay_bad_response" when the answer is not
        Alipay's signed word.
        """
        params = self.signed_params(method, biz_content, **extra)
        try:
            response = requests.post(
                self.gateway_url,
                data=params,
                headers={"Content-Type": FORM_CONTENT_TYPE, "Accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # Timeouts, refused or dropped connections: the outcome is unknown.
            raise GatewayTimeout(detail=f"alipay {method}: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise GatewayTimeout(detail=f"alipay {method}: HTTP {response.status_code}")
        if response.status_code != 200:
            raise alipay_error("alipay_bad_response", f"{method}: HTTP {response.status_code}")
        node = self._verified_node(method, response.content)
        return GatewayAnswer(method=method, sent=params, node=node)

    def _verified_node(self, method: str, content: bytes) -> Mapping[str, Any]:
        response_key = method.replace(".", "_") + "_response"
        try:
            text = content.decode("utf-8")
            nodes = response_nodes(text)
            node_text = nodes.get(response_key) or nodes["error_response"]
            signature = json.loads(nodes["sign"])
            if not isinstance(signature, str):
                raise ValueError("the signature is not a string")
            node = json.loads(node_text)
            if not isinstance(node, dict):
                raise ValueError("the response node is not an object")
        except (UnicodeDecodeError, ValueError, KeyError) as exc:
            raise alipay_error("alipay_bad_response", f"{method}: {exc}") from None
        if not self._verify(node_text, signature):
            raise alipay_error("alipay_bad_response", f"{method}: the signature does not match")
        return node

    def _verify(self, text: str, signature: str) -> bool:
        try:
            self._public_key.verify(
                base64.b64decode(signature, validate=True),
                text.encode("utf-8"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    # --- notifications --------------------------------------------------------------

    def verify_notification(self, fields: Mapping[str, str]) -> bool:
        """Whether ``fields`` (a parsed notification) carry Alipay's RSA2 signature."""
        signature = fields.get("sign", "")
        if not signature or fields.get("sign_type", "RSA2") != "RSA2":
            return False
        unsigned = {
            key: value
            for key, value in fields.items()
            if key not in ("sign", "sign_type") and value
        }
        try:
            return bool(self._sdk.verify(unsigned, signature))
        except (ValueError, TypeError, binascii.Error):
            return False
