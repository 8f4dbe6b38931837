"""HTTP to WeChat Pay API v3: every request signed, every answer verified.

The only module of this adapter that speaks HTTP. It does not use the wechatpayv3 SDK:
the SDK's gateway URL is a fixed private attribute (the adapter must be pointed at a
configurable URL, a local fake in tests), it folds transport errors and HTTP errors
into one ``(code, text)`` pair, and it verifies nothing about a callback's age. The
protocol itself is small (:mod:`.signing`).

Transport rules:

- No answer (connect or read timeout, connection refused or reset, a body cut short)
  raises :class:`GatewayTimeout`: the request may have reached the gateway, so the
  outcome is unknown until the order is queried.
- Any answer, success or error, must carry a valid WeChat Pay signature from the
  configured public key (``Wechatpay-Serial`` equal to ``public_key_id``); otherwise
  :class:`AdapterError` and nothing in it is trusted. The signed timestamp of an
  answer is not aged: the answer belongs to a request this process just sent.
- An error answer is returned as a :class:`Reply` with its ``code`` and ``message``;
  the adapter decides what each code means for the operation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from payments.adapters.base import AdapterError, GatewayTimeout
from payments.adapters.wechat_pay import signing

__all__ = ["Reply", "WechatPayClient"]

USER_AGENT = "feemgmt-wechatpay-v3"


@dataclass(frozen=True)
class Reply:
    """A verified answer: HTTP status, the JSON body ({} when empty), its request id."""

    status: int
    data: Mapping[str, Any] = field(default_factory=dict)
    request_id: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> str:
        """The error code of an error answer ("" for a success)."""
        return "" if self.ok else str(self.data.get("code") or "")

    @property
    def message(self) -> str:
        return "" if self.ok else str(self.data.get("message") or "")

    def detail(self) -> str:
        """For logs and AdapterError details: status, code and the gateway's message."""
        return f"HTTP {self.status} {self.code} {self.message}".strip()


class WechatPayClient:
    """Signed JSON requests to one gateway for one merchant. Holds no per-request
    state, so one client serves every thread of the process."""

    def __init__(
        self,
        *,
        gateway_url: str,
        mchid: str,
        cert_serial_no: str,
        private_key: str,
        public_key: str,
        public_key_id: str,
        timeout: float,
    ):
        self.gateway_url = gateway_url.rstrip("/")
        self.mchid = mchid
        self.cert_serial_no = cert_serial_no
        self.public_key_id = public_key_id
        self.timeout = timeout
        self._private_key = signing.load_private_key(private_key)
        self._public_key = signing.load_public_key(public_key)

    def __repr__(self) -> str:
        return f"<WechatPayClient {self.gateway_url} mchid={self.mchid}>"

    # --- requests ------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Reply:
        url_path = f"{path}?{urlencode(params)}" if params else path
        return self._send("GET", url_path, b"")

    def post(self, path: str, payload: Mapping[str, Any]) -> Reply:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return self._send("POST", path, body)

    def _send(self, method: str, url_path: str, body: bytes) -> Reply:
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Wechatpay-Serial": self.public_key_id,
            "Authorization": signing.authorization(
                mchid=self.mchid,
                serial_no=self.cert_serial_no,
                private_key=self._private_key,
                method=method,
                url_path=url_path,
                body=body,
            ),
        }
        if body:
            headers["Content-Type"] = "application/json"
        try:
            response = requests.request(
                method,
                self.gateway_url + url_path,
                data=body or None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except (
            requests.Timeout,
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            raise GatewayTimeout(
                detail=f"wechat_pay {method} {url_path.split('?')[0]}: {type(exc).__name__}"
            ) from exc
        except requests.RequestException as exc:
            raise AdapterError(detail=f"wechat_pay {method}: {type(exc).__name__}") from exc
        self._verify(response, f"{method} {url_path.split('?')[0]}")
        return Reply(
            status=response.status_code,
            data=self._json(response),
            request_id=response.headers.get("Request-ID", ""),
        )

    # --- answers -------------------------------------------------------------------

    def _verify(self, response: requests.Response, what: str) -> None:
        headers = response.headers  # case-insensitive
        serial = headers.get("Wechatpay-Serial", "")
        signature = headers.get("Wechatpay-Signature", "")
        timestamp = headers.get("Wechatpay-Timestamp", "")
        nonce = headers.get("Wechatpay-Nonce", "")
        if not (serial and signature and timestamp and nonce):
            raise AdapterError(
                detail=f"wechat_pay {what}: unsigned answer (HTTP {response.status_code})"
            )
        if serial != self.public_key_id:
            raise AdapterError(detail=f"wechat_pay {what}: answer signed by unknown key {serial}")
        message = signing.verify_message(timestamp, nonce, response.content)
        if not signing.verify(self._public_key, message, signature):
            raise AdapterError(detail=f"wechat_pay {what}: answer signature is not valid")

    @staticmethod
    def _json(response: requests.Response) -> Mapping[str, Any]:
        if not response.content:
            return {}
        try:
            data = json.loads(response.content)
        except ValueError as exc:
            raise AdapterError(
                detail=f"wechat_pay: answer is not JSON (HTTP {response.status_code})"
            ) from exc
        if not isinstance(data, dict):
            raise AdapterError(detail="wechat_pay: answer is not a JSON object")
        return data
