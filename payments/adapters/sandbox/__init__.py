"""The sandbox payment method: a simulated gateway with scripted outcomes.

Outcome per collection, from ``metadata["sandbox_outcome"]``, else the adapter option
``sandbox_outcome``, else the amount's last two minor-unit digits:

    .51 decline (card_declined)    .61 timeout then success   .71 duplicate notification
    .52 insufficient funds         .62 timeout, then declined .81 slow
    .91 pending (QR code; :func:`sandbox_settle` pays it)      anything else: success
"""

from __future__ import annotations

from typing import Any

from payments.adapters.registry import get_adapter
from payments.adapters.sandbox.adapter import SIGNATURE_HEADER, SandboxAdapter
from payments.adapters.sandbox.gateway import CENTS_OUTCOMES, GATEWAY, OUTCOMES

__all__ = [
    "CENTS_OUTCOMES",
    "GATEWAY",
    "OUTCOMES",
    "SIGNATURE_HEADER",
    "SandboxAdapter",
    "sandbox_deliveries",
    "sandbox_notification",
    "sandbox_reset",
    "sandbox_settle",
]


def _adapter(name: str) -> SandboxAdapter:
    adapter = get_adapter(name)
    if not isinstance(adapter, SandboxAdapter):
        raise TypeError(f"payment adapter {name!r} is not a sandbox adapter")
    return adapter


def sandbox_notification(
    idempotency_key: str, *, adapter: str = "sandbox", **overrides: Any
) -> tuple[dict[str, str], bytes]:
    """A signed notification for a decided sandbox payment: (headers, body)."""
    return _adapter(adapter).notification_for(idempotency_key, **overrides)


def sandbox_deliveries(
    idempotency_key: str, *, adapter: str = "sandbox"
) -> list[tuple[dict[str, str], bytes]]:
    """The notifications the gateway sends for a payment (two for a duplicate)."""
    return _adapter(adapter).deliveries(idempotency_key)


def sandbox_settle(idempotency_key: str, *, succeed: bool = True) -> None:
    """The customer completes (or abandons) a pending sandbox payment."""
    GATEWAY.settle(idempotency_key, succeed=succeed)


def sandbox_reset() -> None:
    """Forget every sandbox payment (tests)."""
    GATEWAY.reset()
