"""Inbound gateway notifications: verify, match to an attempt, record, acknowledge.

The adapter verifies what the message can prove on its own (signature, app id,
timestamp window); here the attempt is found by our idempotency key (the gateway's
``out_trade_no``) and the amount compared with what we asked. Every notification is
logged, accepted or not. A repeat is normal and harmless: the attempt is already
decided, :func:`~.collection.record_result` changes nothing, and the gateway gets
its acknowledgement again so it stops re-sending.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from payments.adapters import (
    CollectionResult,
    Notification,
    NotificationRejected,
    UnknownAdapter,
    get_adapter,
)
from payments.adapters.base import thaw
from payments.models import InboundNotification, PaymentAttempt

from .collection import record_result

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What the endpoint answers the gateway."""

    status: int
    body: bytes
    content_type: str = "text/plain"


def notification_receive(method: str, headers: Mapping[str, str], body: bytes) -> Reply:
    try:
        adapter = get_adapter(method)
    except UnknownAdapter:
        return Reply(404, b"fail")
    if not adapter.supports_notifications:
        return Reply(404, b"fail")
    try:
        notification = adapter.parse_notification(headers, body)
        attempt = _attempt_for(method, notification)
        notification.verify_amount(attempt.amount)
    except NotificationRejected as exc:
        logger.warning("%s notification refused: %s (%s)", method, exc.reason, exc.detail)
        InboundNotification.objects.create(method=method, accepted=False, reason=exc.reason)
        return Reply(exc.ack_status, exc.ack_body, _content_type(exc.ack_body))

    record_result(
        attempt.pk,
        CollectionResult(
            status=notification.status,
            provider_reference=notification.provider_reference,
            amount=notification.amount,
            raw=notification.raw,
        ),
    )
    with transaction.atomic():
        InboundNotification.objects.create(
            method=method,
            accepted=True,
            idempotency_key=notification.idempotency_key,
            provider_reference=notification.provider_reference or "",
            attempt=attempt,
            raw=thaw(notification.raw),
        )
    return Reply(
        notification.ack_status, notification.ack_body, _content_type(notification.ack_body)
    )


def _attempt_for(method: str, notification: Notification) -> PaymentAttempt:
    attempt = PaymentAttempt.objects.filter(
        method=method, idempotency_key=notification.idempotency_key
    ).first()
    if attempt is None:
        raise NotificationRejected("unknown_payment", notification.idempotency_key)
    return attempt


def _content_type(body: bytes) -> str:
    return "application/json" if body.lstrip().startswith(b"{") else "text/plain"
