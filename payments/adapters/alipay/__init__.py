"""The Alipay payment method (支付宝): RSA2-signed open platform API and asynchronous
notifications, against a configurable gateway URL (:mod:`.adapter` says how the
protocol is used; :mod:`.client` is the wire).

Tests drive it against a local fake gateway, :mod:`payments.tests.fakes.alipay`.
"""

from payments.adapters.alipay.adapter import (
    DEFAULT_GATEWAY_URL,
    DEFAULT_NOTIFY_MAX_AGE,
    PRODUCTS,
    AlipayAdapter,
)
from payments.adapters.alipay.errors import ERROR_MESSAGES, alipay_error_text

__all__ = [
    "DEFAULT_GATEWAY_URL",
    "DEFAULT_NOTIFY_MAX_AGE",
    "ERROR_MESSAGES",
    "PRODUCTS",
    "AlipayAdapter",
    "alipay_error_text",
]
