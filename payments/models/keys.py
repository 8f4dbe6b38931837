"""The derived keys gateways see, and the money field settings of the app."""

from __future__ import annotations

from django.conf import settings

from contracts.models import MONEY_DIGITS

MONEY = {
    **MONEY_DIGITS,
    "currency_choices": settings.CURRENCY_CHOICES,
    "default_currency": settings.DEFAULT_CURRENCY,
}


def attempt_key(charge_id: int, number: int) -> str:
    """The idempotency key of a charge's n-th attempt: ``CH000042-01``.

    Derived, never random: whoever opens attempt n of a charge, however often,
    asks the gateway with the same key (6-32 characters, as every gateway takes).
    """
    return f"CH{charge_id:06d}-{number:02d}"


def refund_key(attempt_id: int, number: int) -> str:
    return f"RF{attempt_id:06d}-{number:02d}"
