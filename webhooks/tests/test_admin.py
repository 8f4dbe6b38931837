"""The webhook admin pages as staff use them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


def _delivery(status="failed") -> WebhookDelivery:
    endpoint = WebhookEndpoint.objects.create(
        url="https://erp.example.com/hooks", event_types=["charge.paid"], secret="whsec_old"
    )
    now = timezone.now()
    event = WebhookEvent.objects.create(
        type="charge.paid",
        payload={"id": 7, "amount": "88.00", "currency": "CNY"},
        occurred_at=now,
        object_type="billing.charge",
        object_id="7",
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        status=status,
        attempts=1,
        last_response_code=502,
        last_error="The endpoint answered 502.",
        give_up_at=now + dt.timedelta(days=1),
    )
    WebhookAttempt.objects.create(
        delivery=delivery, attempted_at=now, response_code=502, duration_ms=31
    )
    return delivery


def test_creating_an_endpoint_shows_its_secret_once(staff):
    answer = staff.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "url": "https://erp.example.com/hooks",
            "description": "ERP",
            "event_types": ["charge.paid", "refund.succeeded"],
            "active": "on",
        },
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["charge.paid", "refund.succeeded"]
    assert endpoint.created_by.username == "boss"
    assert endpoint.secret in answer.content.decode()
    page = staff.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert page.status_code == 200
    assert endpoint.secret not in page.content.decode()


def test_a_non_http_url_is_refused_on_the_form(staff):
    answer = staff.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": "ftp://erp.example.com/", "event_types": ["charge.paid"]},
    )
    assert answer.status_code == 200
    assert "http:// or https://" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotating_the_secret_shows_the_new_one(staff):
    endpoint = _delivery().endpoint
    answer = staff.post(
        reverse("admin:webhooks_webhookendpoint_changelist"),
        {"action": "rotate_secrets", "_selected_action": [endpoint.pk]},
        follow=True,
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != "whsec_old"
    assert endpoint.secret in answer.content.decode()


def test_the_delivery_log_filters_and_shows_attempts(staff):
    delivery = _delivery()
    changelist = reverse("admin:webhooks_webhookdelivery_changelist")
    for query in ("", "?status__exact=failed", "?code=5xx", "?event__type__exact=charge.paid"):
        page = staff.get(changelist + query)
        assert page.status_code == 200
        assert "erp.example.com" in page.content.decode()
    assert "erp.example.com" not in staff.get(changelist + "?code=2xx").content.decode()
    detail = staff.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))
    text = detail.content.decode()
    assert detail.status_code == 200
    assert "The endpoint answered 502." in text and "88.00" in text and "31" in text
    event_page = staff.get(reverse("admin:webhooks_webhookevent_change", args=[delivery.event_id]))
    assert event_page.status_code == 200


def test_redeliver_from_the_admin(staff):
    delivery = _delivery()
    answer = staff.post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "redeliver", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "1 delivery is sent again." in answer.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    again = staff.post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "redeliver", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "still being tried" in again.content.decode()


def test_the_delivery_log_costs_the_same_for_1_row_as_for_25(staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = _delivery()
    changelist = reverse("admin:webhooks_webhookdelivery_changelist")
    staff.get(changelist)
    with CaptureQueriesContext(connection) as one:
        staff.get(changelist)
    for n in range(24):
        event = WebhookEvent.objects.create(
            type="charge.paid",
            payload={},
            occurred_at=timezone.now(),
            object_type="billing.charge",
            object_id=str(100 + n),
        )
        WebhookDelivery.objects.create(
            endpoint=first.endpoint, event=event, give_up_at=timezone.now()
        )
    with CaptureQueriesContext(connection) as many:
        page = staff.get(changelist)
    assert page.content.decode().count("billing.charge #") == 25
    assert len(many) == len(one)
