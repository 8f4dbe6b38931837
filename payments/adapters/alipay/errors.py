"""Alipay's answers in our error vocabulary.

Alipay says what went wrong with ``code`` (10000 is success; 20000 "service
unavailable"; 40004 "business failed"...) and a ``sub_code`` such as
``ACQ.TRADE_NOT_EXIST``. The few sub codes that decide an outcome map to the shared codes
of :mod:`payments.adapters.base`; the rest become an :class:`AdapterError` with one of
this adapter's stable codes below, the sub code kept in ``detail`` for the logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from payments.adapters.base import AdapterError, error_text

__all__ = [
    "ERROR_MESSAGES",
    "REFUND_DECLINES",
    "UNKNOWN_OUTCOME_SUB_CODES",
    "alipay_error",
    "alipay_error_text",
]

ERROR_MESSAGES: Mapping[str, Any] = {
    "currency_not_supported": _("Alipay collects and refunds in Chinese yuan (CNY) only."),
    "trade_closed": _(
        "The Alipay trade was closed before it was paid (it expired or was cancelled)."
    ),
    "alipay_rejected": _("Alipay refused the request."),
    "alipay_bad_response": _("Alipay's answer could not be verified, so nothing in it was used."),
}

# Refund sub codes that are a decline (no money moved; a different refund may succeed).
REFUND_DECLINES: Mapping[str, str] = {
    "ACQ.TRADE_NOT_EXIST": "unknown_payment",
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": "refund_exceeds_available",  # 退款金额超限
    "ACQ.TRADE_STATUS_ERROR": "payment_not_refundable",  # not paid, or closed unpaid
    "ACQ.TRADE_HAS_FINISHED": "payment_not_refundable",  # past the refund period
    "ACQ.TRADE_NOT_ALLOW_REFUND": "payment_not_refundable",
}

# Answers after which Alipay itself says the outcome is unknown: ask again (query).
UNKNOWN_OUTCOME_SUB_CODES = frozenset({"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR"})
UNKNOWN_OUTCOME_CODES = frozenset({"20000"})


def alipay_error_text(code: str | None) -> str:
    """:func:`~payments.adapters.base.error_text`, knowing this adapter's codes too."""
    message = ERROR_MESSAGES.get(code or "")
    return str(message) if message is not None else error_text(code)


def alipay_error(code: str, detail: str = "") -> AdapterError:
    """An AdapterError with this adapter's (or a shared) code and its message."""
    return AdapterError(ERROR_MESSAGES.get(code), code=code, detail=detail)
