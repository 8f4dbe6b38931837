"""Webhook tasks: thin, each calls one service."""

from __future__ import annotations

from celery import shared_task

from .services import webhook_deliveries_send, webhook_deliveries_sweep


@shared_task(name="webhooks.deliver")
def webhook_deliver_task(delivery_ids: list[int]) -> int:
    """Send the deliveries a committed change created (enqueued on commit)."""
    return webhook_deliveries_send(delivery_ids=delivery_ids)


@shared_task(name="webhooks.sweep")
def webhook_sweep_task() -> int:
    """Every minute: the retries that are due, and deliveries whose task was lost."""
    return webhook_deliveries_sweep()
