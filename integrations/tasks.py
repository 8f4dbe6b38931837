"""Integrations tasks: thin, each calls one service."""

from __future__ import annotations

from celery import shared_task

from .idempotency import idempotency_purge


@shared_task(name="integrations.purge_idempotency_keys")
def idempotency_purge_task() -> int:
    """Delete the Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS (hourly)."""
    return idempotency_purge()
