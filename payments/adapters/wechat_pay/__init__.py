"""The WeChat Pay payment method (微信支付), API v3 Native payments (scan a QR code).

``collect`` places an order and answers PENDING with its ``code_url`` for a QR code;
the customer pays in WeChat and the signed, encrypted payment notification settles the
attempt (``parse_notification``); ``query`` asks the order's state by the idempotency
key (``out_trade_no``). The protocol (request signatures, answer verification,
AEAD_AES_256_GCM callbacks) is in :mod:`.signing` and :mod:`.client`; the adapter's
decisions are described in :mod:`.adapter` and :mod:`.notification`.
"""

from payments.adapters.wechat_pay.adapter import (
    DEFAULT_GATEWAY_URL,
    ERROR_MESSAGES,
    WechatPayAdapter,
    wechat_error_text,
)
from payments.adapters.wechat_pay.notification import ACK_SUCCESS, REPLAY_WINDOW_SECONDS
from payments.adapters.wechat_pay.protocol import TRADE_STATES, from_fen, to_fen

__all__ = [
    "ACK_SUCCESS",
    "DEFAULT_GATEWAY_URL",
    "ERROR_MESSAGES",
    "REPLAY_WINDOW_SECONDS",
    "TRADE_STATES",
    "WechatPayAdapter",
    "from_fen",
    "to_fen",
    "wechat_error_text",
]
