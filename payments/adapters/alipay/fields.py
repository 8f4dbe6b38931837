"""Reading Alipay's fields: amounts, Beijing times and trade statuses.

Amounts are yuan with at most two decimals as text (``"42.00"``) and become exact
``Money`` in CNY, never a float. Times are Beijing time without a zone,
``YYYY-MM-DD HH:MM:SS``.

A trade's status, in a query answer or a notification:

    WAIT_BUYER_PAY   PENDING    created, the customer has not paid
    TRADE_SUCCESS    SUCCEEDED  paid (still refundable)
    TRADE_FINISHED   SUCCEEDED  paid, past the refund period
    TRADE_CLOSED     DECLINED   closed unpaid (expired or cancelled), error "trade_closed"
                     SUCCEEDED  ... or closed by a full refund after it was paid: the
                                collection did succeed, the refund is its own record

A closed trade counts as paid when the answer carries a payment time (``gmt_payment``,
``send_pay_date``) or a refunded amount.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from feemgmt.core.money import Money, money
from payments.adapters.alipay.client import BEIJING
from payments.adapters.base import AttemptStatus

__all__ = ["TIME_FORMAT", "parse_amount", "parse_time", "trade_status"]

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CURRENCY = "CNY"
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$")
_PAID_MARKS = ("gmt_payment", "send_pay_date")

_STATUSES = {
    "WAIT_BUYER_PAY": AttemptStatus.PENDING,
    "TRADE_SUCCESS": AttemptStatus.SUCCEEDED,
    "TRADE_FINISHED": AttemptStatus.SUCCEEDED,
    "TRADE_CLOSED": AttemptStatus.DECLINED,
}


def parse_amount(text: Any) -> Money:
    """``"42.00"`` → ¥42.00 exactly; ValueError for anything else (``"4e1"``, ``"-1"``,
    ``"1.005"``, a number instead of text)."""
    if not isinstance(text, str) or not _AMOUNT.match(text):
        raise ValueError(f"not an Alipay amount: {text!r}")
    return money(Decimal(text), CURRENCY)


def parse_time(text: Any) -> dt.datetime:
    """``"2024-03-01 12:00:00"`` (Beijing) → an aware datetime; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"not an Alipay time: {text!r}")
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=BEIJING)


def _was_paid(fields: Mapping[str, Any]) -> bool:
    if any(fields.get(mark) for mark in _PAID_MARKS):
        return True
    try:
        return parse_amount(fields.get("refund_fee")).amount > 0
    except ValueError:
        return False


def trade_status(fields: Mapping[str, Any]) -> AttemptStatus | None:
    """Our status for the ``trade_status`` in ``fields`` (None when it is not one we know)."""
    status = _STATUSES.get(str(fields.get("trade_status", "")))
    if status == AttemptStatus.DECLINED and _was_paid(fields):
        return AttemptStatus.SUCCEEDED
    return status
