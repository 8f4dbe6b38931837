"""What WeChat Pay API v3 words mean here: amounts in fen and order states.

Minor units appear only on the wire: :func:`to_fen` turns a CNY :class:`Money` into the
integer the gateway expects, exactly (Decimal arithmetic, never a float), and
:func:`from_fen` reads one back.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from feemgmt.core.money import Money, money
from payments.adapters.base import AdapterError, AttemptStatus

__all__ = ["CURRENCY", "DECLINE_CODES", "REFUND_STATES", "TRADE_STATES", "from_fen", "to_fen"]

CURRENCY = "CNY"

# trade_state → our status, and the error code of a declined one.
TRADE_STATES: Mapping[str, AttemptStatus] = {
    "SUCCESS": AttemptStatus.SUCCEEDED,
    "REFUND": AttemptStatus.SUCCEEDED,  # paid, then (partly) refunded
    "NOTPAY": AttemptStatus.PENDING,
    "USERPAYING": AttemptStatus.PENDING,
    "CLOSED": AttemptStatus.DECLINED,
    "PAYERROR": AttemptStatus.DECLINED,
    "REVOKED": AttemptStatus.DECLINED,
}
DECLINE_CODES: Mapping[str, str] = {
    "CLOSED": "order_closed",
    "PAYERROR": "card_declined",
    "REVOKED": "order_revoked",
}
# A refund's status → our status, and the error code of a declined one.
REFUND_STATES: Mapping[str, tuple[AttemptStatus, str | None]] = {
    "SUCCESS": (AttemptStatus.SUCCEEDED, None),
    "PROCESSING": (AttemptStatus.PENDING, None),
    "CLOSED": (AttemptStatus.DECLINED, "refund_closed"),
    "ABNORMAL": (AttemptStatus.DECLINED, "refund_abnormal"),
}


def to_fen(amount: Money) -> int:
    """``Money("12.34", "CNY")`` → ``1234``, exactly (AdapterError for another currency
    or a fraction of a fen)."""
    if amount.currency.code != CURRENCY:
        raise AdapterError(detail=f"wechat_pay collects only CNY, not {amount.currency}")
    fen = amount.amount * 100
    if fen != fen.to_integral_value():
        raise AdapterError(detail=f"{amount} is not a whole number of fen")
    return int(fen)


def from_fen(total: Any, currency: Any = CURRENCY) -> Money:
    """``1234`` → ``Money("12.34", "CNY")`` (ValueError unless a non-negative integer of
    fen in CNY)."""
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ValueError(f"amount {total!r} is not a whole number of fen")
    if (currency or CURRENCY) != CURRENCY:
        raise ValueError(f"currency {currency!r} is not {CURRENCY}")
    return money(Decimal(total).scaleb(-2), CURRENCY)
