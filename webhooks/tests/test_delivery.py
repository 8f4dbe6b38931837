"""Deliveries as a receiver sees them: signed, retried with backoff, given up on."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import time_machine
from django.utils import timezone

from alerts.services import alert_raise
from contracts.tests.factories import CustomerFactory
from webhooks.models import WebhookDelivery
from webhooks.services import backoff, webhook_deliveries_sweep
from webhooks.signing import verify

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def raise_alert(customer=None):
    return alert_raise(
        kind="charge_overdue",
        subject=f"charge:{time.monotonic_ns()}",
        message="逾期未付",
        customer=customer or CustomerFactory(),
    )


def test_the_signature_verifies_with_the_endpoint_secret_and_not_with_another(receiver, subscribe):
    endpoint = subscribe(receiver.url, "alert.opened")
    customer = CustomerFactory()
    alert = raise_alert(customer)
    assert webhook_deliveries_sweep() == 1
    (request,) = receiver.requests
    header = request.headers["Webhook-Signature"]
    now = int(time.time())
    assert request.headers["Content-Type"] == "application/json"
    assert verify(endpoint.secret, header, request.body, now=now)
    assert not verify("whsec_someone-else", header, request.body, now=now)
    assert not verify(endpoint.secret, header, request.body + b" ", now=now)
    assert not verify(endpoint.secret, header, request.body, now=now + 3600)  # a replay

    body = json.loads(request.body)
    assert request.headers["Webhook-Id"] == body["id"]
    assert body["type"] == "alert.opened"
    assert body["created"].endswith("Z")
    assert body["data"]["id"] == alert.pk
    assert body["data"]["customer_id"] == customer.pk
    assert body["data"]["message"] == "逾期未付"
    assert body["data"]["status"] == "open"


def test_a_500_is_retried_after_a_minute_then_delivered(receiver, subscribe):
    receiver.codes = [500]
    receiver.answer = b"database is down " * 500  # the excerpt is bounded
    with time_machine.travel(START, tick=False):
        subscribe(receiver.url, "alert.opened")
        raise_alert()
        webhook_deliveries_sweep()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
            "pending",
            1,
            500,
        )
        assert delivery.next_attempt_at == START + dt.timedelta(minutes=1)
        assert len(delivery.response_excerpt) == 2000
        assert webhook_deliveries_sweep() == 0  # not due yet
    with time_machine.travel(START + dt.timedelta(seconds=61), tick=False):
        assert webhook_deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        "succeeded",
        2,
        200,
    )
    assert [a.response_code for a in delivery.attempt_log.all()] == [500, 200]
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body  # the same event, resent


def test_backoff_doubles_up_to_the_cap(settings):
    waits = [backoff(n).total_seconds() / 60 for n in range(1, 10)]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_it_gives_up_24_hours_after_the_event(receiver, subscribe):
    receiver.codes = [503] * 100
    with time_machine.travel(START, tick=False) as clock:
        subscribe(receiver.url, "alert.opened")
        raise_alert()
        delivery = WebhookDelivery.objects.get()
        while True:
            webhook_deliveries_sweep()
            delivery.refresh_from_db()
            if delivery.status != "pending":
                break
            clock.move_to(delivery.next_attempt_at)
        assert timezone.now() == START + dt.timedelta(hours=24)  # the last try, on time
    assert delivery.status == "failed"
    assert delivery.next_attempt_at is None
    # 1, 2, 4 … 32 minutes, then hourly until the 24th hour: 30 tries
    assert delivery.attempts == len(receiver.requests) == 30
    assert delivery.last_error == "The endpoint answered 503."


def test_timeouts_and_refused_connections_are_failures(receiver, subscribe, settings):
    settings.WEBHOOK_TIMEOUT = 1
    receiver.delay = 2
    subscribe(receiver.url, "alert.opened")
    subscribe("http://127.0.0.1:9/closed", "alert.opened")  # nothing listens there
    raise_alert()
    webhook_deliveries_sweep()
    slow, closed = WebhookDelivery.objects.order_by("endpoint_id")
    assert (slow.status, slow.last_response_code) == ("pending", None)
    assert slow.last_error.startswith("timeout")
    assert (closed.status, closed.last_response_code) == ("pending", None)
    assert "ConnectionError" in closed.last_error
    assert slow.attempt_log.get().duration_ms >= 1000


def test_a_deactivated_endpoint_is_not_sent_to(receiver, subscribe):
    from webhooks.services import webhook_endpoint_update

    endpoint = subscribe(receiver.url, "alert.opened")
    raise_alert()
    webhook_endpoint_update(endpoint=endpoint, active=False)
    webhook_deliveries_sweep()
    assert receiver.requests == []
    assert WebhookDelivery.objects.get().status == "failed"
