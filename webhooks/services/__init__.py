"""Webhook writes: endpoints, the outbox, deliveries (docs/webhooks.md)."""

from .delivery import (
    backoff,
    webhook_deliveries_send,
    webhook_deliveries_sweep,
    webhook_delivery_claim,
    webhook_delivery_redeliver,
    webhook_delivery_send,
)
from .endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from .outbox import webhook_events_record

__all__ = [
    "backoff",
    "webhook_deliveries_send",
    "webhook_deliveries_sweep",
    "webhook_delivery_claim",
    "webhook_delivery_redeliver",
    "webhook_delivery_send",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
    "webhook_events_record",
]
