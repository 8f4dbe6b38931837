"""Payment adapters: one package per payment method behind one small interface
(:mod:`payments.adapters.base`), found by name through :mod:`payments.adapters.registry`.

A new method is a new package here plus one entry in ``settings.PAYMENT_ADAPTERS``.
"""

from payments.adapters.base import (
    ActionKind,
    AdapterError,
    AttemptStatus,
    CollectionRequest,
    CollectionResult,
    CustomerAction,
    GatewayTimeout,
    Notification,
    NotificationRejected,
    PaymentAdapter,
    RefundRequest,
    RefundResult,
)
from payments.adapters.registry import UnknownAdapter, adapter_names, get_adapter

__all__ = [
    "ActionKind",
    "AdapterError",
    "AttemptStatus",
    "CollectionRequest",
    "CollectionResult",
    "CustomerAction",
    "GatewayTimeout",
    "Notification",
    "NotificationRejected",
    "PaymentAdapter",
    "RefundRequest",
    "RefundResult",
    "UnknownAdapter",
    "adapter_names",
    "get_adapter",
]
