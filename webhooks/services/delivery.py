"""Sending deliveries: claim, POST, record; retries and giving up.

A delivery is **claimed** before it is sent: in a short transaction of its own,
the row is locked with ``SELECT … FOR UPDATE SKIP LOCKED`` (a worker never waits
for another's row, it skips it), checked to be pending and due, and leased —
``next_attempt_at`` moved past the request's timeout and ``attempts`` counted —
then committed. A second worker (the task after commit and the sweeper, two
sweepers) finds it locked or no longer due and leaves it, so a delivery is never
sent twice at once; a worker that dies mid-request leaves a lease that runs out,
and the sweeper tries again.

The answer is recorded in a second transaction: a ``WebhookAttempt`` row, and on
the delivery the code, error and a bounded excerpt of the body. A 2xx is
success; anything else, a timeout or a refused connection is a failure, tried
again after :func:`backoff` until ``give_up_at`` (24 hours from the event), when
the delivery is ``failed``. The last retry is made at ``give_up_at`` itself.

Deliveries are a log, not business state: automatic attempts are not audited;
staff asking for a delivery again is (``webhook_delivery.redelivered``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from feemgmt.core.exceptions import InvalidTransition

from .. import http
from ..choices import DELIVERY_TRANSITIONS, DeliveryStatus
from ..models import WebhookAttempt, WebhookDelivery, WebhookEvent
from ..signing import signature_header
from .outbox import enqueue_after_commit

# How long past the request's timeout a claim holds before another worker may
# take the delivery over.
LEASE_MARGIN = 30


def check_delivery_transition(current: str, target: str) -> None:
    if target not in DELIVERY_TRANSITIONS[current]:
        raise InvalidTransition(
            _("The delivery is %(current)s and cannot become %(target)s.")
            % {"current": DeliveryStatus(current).label, "target": DeliveryStatus(target).label}
        )


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: 1 minute, 2, 4 … doubled up to
    ``WEBHOOK_RETRY_MAX_DELAY``."""
    delay = settings.WEBHOOK_RETRY_BASE_DELAY * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(delay, settings.WEBHOOK_RETRY_MAX_DELAY))


def envelope(event: WebhookEvent) -> bytes:
    """The body: the same bytes for every attempt of the event."""
    created = event.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    document = {"id": str(event.id), "type": event.type, "created": created, "data": event.payload}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def webhook_delivery_claim(*, delivery_id: int) -> WebhookDelivery | None:
    """The delivery, leased to this worker, or None when it is not pending and
    due or another worker holds it."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        lease = dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT + LEASE_MARGIN)
        delivery.attempts += 1
        delivery.next_attempt_at = now + lease
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    return delivery


def _record(delivery: WebhookDelivery, answer: http.Answer, *, at: dt.datetime) -> WebhookDelivery:
    with transaction.atomic():
        current = (
            WebhookDelivery.objects.select_for_update()
            .filter(pk=delivery.pk)
            .values_list("status", "attempts")
            .first()
        )
        if current is None:
            return delivery  # its endpoint was deleted meanwhile, with its log
        WebhookAttempt.objects.create(
            delivery_id=delivery.pk,
            attempted_at=at,
            response_code=answer.code,
            duration_ms=answer.duration_ms,
            error=answer.error,
        )
        if current != (DeliveryStatus.PENDING, delivery.attempts):
            return delivery  # redelivered meanwhile: the attempt is logged, no more
        now = timezone.now()
        delivery.last_response_code = answer.code
        delivery.response_excerpt = answer.excerpt
        if answer.ok:
            target = DeliveryStatus.SUCCEEDED
            delivery.last_error = ""
            delivery.delivered_at, delivery.next_attempt_at = now, None
        else:
            delivery.last_error = answer.error or _("The endpoint answered %(code)s.") % {
                "code": answer.code
            }
            if now >= delivery.give_up_at:
                target, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            else:
                target = DeliveryStatus.PENDING
                delivery.next_attempt_at = min(
                    now + backoff(delivery.attempts), delivery.give_up_at
                )
        check_delivery_transition(DeliveryStatus.PENDING, target)
        delivery.status = target
        delivery.save(
            update_fields=[
                "status",
                "next_attempt_at",
                "last_response_code",
                "last_error",
                "response_excerpt",
                "delivered_at",
                "updated_at",
            ]
        )
    return delivery


def _give_up_inactive(delivery: WebhookDelivery) -> WebhookDelivery:
    with transaction.atomic():
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        delivery.last_error = _("The endpoint is not active.")
        delivery.save(update_fields=["status", "next_attempt_at", "last_error", "updated_at"])
    return delivery


def webhook_delivery_send(*, delivery_id: int) -> WebhookDelivery | None:
    """Claim the delivery, POST it signed, record the answer. None when it was
    not this worker's to send (see :func:`webhook_delivery_claim`)."""
    delivery = webhook_delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.active:
        return _give_up_inactive(delivery)
    body = envelope(delivery.event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "feemgmt-webhooks/1",
        "Webhook-Id": str(delivery.event_id),
        "Webhook-Signature": signature_header(endpoint.secret, timestamp, body),
    }
    at = timezone.now()
    answer = http.post(endpoint.url, body, headers)
    return _record(delivery, answer, at=at)


def webhook_deliveries_send(*, delivery_ids: Sequence[int]) -> int:
    """Send each of the deliveries still pending and due; returns how many this
    worker sent."""
    sent = 0
    for delivery_id in delivery_ids:
        if webhook_delivery_send(delivery_id=delivery_id) is not None:
            sent += 1
    return sent


def webhook_deliveries_sweep(*, limit: int | None = None) -> int:
    """The pending deliveries that are due (a retry's time came, a task was lost,
    a lease ran out), oldest first, sent by this worker unless another claims
    them first."""
    limit = limit or settings.WEBHOOK_SWEEP_LIMIT
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return webhook_deliveries_send(delivery_ids=due)


def webhook_delivery_redeliver(*, delivery: WebhookDelivery | int) -> WebhookDelivery:
    """Send a finished delivery (succeeded or given up) again, now, with a new
    24-hour window of retries."""
    pk = delivery.pk if isinstance(delivery, WebhookDelivery) else delivery
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=pk)
        if delivery.status == DeliveryStatus.PENDING:
            raise InvalidTransition(
                _("The delivery is still being tried: it is sent again on its own.")
            )
        check_delivery_transition(delivery.status, DeliveryStatus.PENDING)
        before = delivery.status
        now = timezone.now()
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now
        delivery.give_up_at = now + dt.timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW)
        delivery.save(update_fields=["status", "next_attempt_at", "give_up_at", "updated_at"])
        audit_record(
            action="webhook_delivery.redelivered",
            obj=delivery,
            changes={"status": [before, delivery.status]},
        )
        enqueue_after_commit([delivery.pk])
    return delivery
