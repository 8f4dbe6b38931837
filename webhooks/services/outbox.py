"""The outbox: webhook events written in the transaction of the change.

``audit.services`` sends ``audit.events.recorded`` right after it saves an
audit event, inside the change's transaction; :func:`webhook_events_record`
turns it into one ``WebhookEvent`` per object and one ``WebhookDelivery`` per
subscribed endpoint. They commit or roll back with the change: a rolled-back
change sends nothing, a committed one cannot lose its event. The HTTP requests
are made only after the commit (a task enqueued by ``on_commit``, and the
sweeper for a task that was lost).

Cost: nothing at all (no query) when no active endpoint wants the event's type;
otherwise a fixed number of statements per audit event whatever its size: four
(the endpoints, the objects' data, the events, the deliveries), and from 1,000
rows on PostgreSQL the inserts go through COPY (the deliveries through a scratch
table, to return their ids), nine round trips for a chunk of any size.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import transaction

from feemgmt.core.sql import insert_rows

from .. import subscriptions
from ..choices import DeliveryStatus
from ..models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from ..payloads import BUILDERS
from ..sources import object_ids, source_of

DELIVERY_COLUMNS = (
    "endpoint_id",
    "event_id",
    "status",
    "attempts",
    "next_attempt_at",
    "give_up_at",
    "last_error",
    "response_excerpt",
    "created_at",
    "updated_at",
)
# Delivery ids per task message enqueued after a commit.
TASK_BATCH = 100


def subscribers(event_type: str) -> list[int]:
    """The active endpoints that want ``event_type`` (few rows: filtered here, as
    SQLite has no JSON containment)."""
    rows = WebhookEndpoint.objects.filter(active=True).values_list("pk", "event_types")
    return [pk for pk, types in rows if event_type in (types or ())]


def enqueue_after_commit(delivery_ids: list[int]) -> None:
    from ..tasks import webhook_deliver_task

    def send() -> None:
        for start in range(0, len(delivery_ids), TASK_BATCH):
            webhook_deliver_task.delay(delivery_ids=delivery_ids[start : start + TASK_BATCH])

    if delivery_ids:
        transaction.on_commit(send, robust=True)


def webhook_events_record(*, event) -> list[int]:
    """The webhook events of an audit event, for the endpoints subscribed to them.
    Returns the ids of the deliveries created (sent once the transaction commits)."""
    source = source_of(event.action)
    if source is None or not subscriptions.wanted(source.type):
        return []
    ids = object_ids(event, source)
    if not ids:
        return []
    endpoints = subscribers(source.type)
    if not endpoints:  # the process's knowledge is older than the last change
        return []
    data = BUILDERS[source.model](ids)
    events = [(uuid.uuid4(), pk) for pk in ids if pk in data]
    if not events:
        return []
    # Already inside the change's transaction (no savepoint of our own).
    insert_rows(
        WebhookEvent,
        ("id", "type", "payload", "occurred_at", "object_type", "object_id", "audit_event_id"),
        [
            (uid, source.type, data[pk], event.occurred_at, source.model, pk, event.pk)
            for uid, pk in events
        ],
    )
    now = event.occurred_at
    give_up_at = now + dt.timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW)
    returned = insert_rows(
        WebhookDelivery,
        DELIVERY_COLUMNS,
        [
            (endpoint, uid, DeliveryStatus.PENDING.value, 0, now, give_up_at, "", "", now, now)
            for uid, _pk in events
            for endpoint in endpoints
        ],
        returning=("id",),
    )
    delivery_ids = sorted(pk for (pk,) in returned)
    enqueue_after_commit(delivery_ids)
    return delivery_ids
