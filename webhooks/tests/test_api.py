"""Webhook endpoints and deliveries over /api/v1/, as an integrator's staff use them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from webhooks.choices import DeliveryStatus
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/webhook-endpoints/"
DELIVERIES = "/api/v1/webhook-deliveries/"


def test_the_secret_is_answered_on_creation_and_rotation_only(api):
    created = api.post(
        ENDPOINTS,
        {"url": "https://erp.example.com/hooks", "event_types": ["charge.paid", "charge.created"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    assert body["event_types"] == ["charge.created", "charge.paid"]
    assert body["created_by"] == "admin"
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.secret == secret

    detail = api.get(f"{ENDPOINTS}{endpoint.pk}/").json()
    listed = api.get(ENDPOINTS).json()["results"][0]
    changed = api.patch(f"{ENDPOINTS}{endpoint.pk}/", {"active": False}, format="json")
    assert "secret" not in detail and "secret" not in listed
    assert changed.status_code == 200 and "secret" not in changed.json()
    assert changed.json()["active"] is False

    rotated = api.post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in ("", secret)
    endpoint.refresh_from_db()
    assert endpoint.secret == rotated.json()["secret"]


def test_bad_endpoints_are_refused_with_a_message_per_field(api):
    answer = api.post(
        ENDPOINTS, {"url": "ftp://example.com/x", "event_types": ["charge.eaten"]}, format="json"
    )
    assert answer.status_code == 400
    assert set(answer.json()) == {"url", "event_types"}
    empty = api.post(ENDPOINTS, {"url": "https://a.example.com/", "event_types": []}, format="json")
    assert empty.status_code == 400 and "event_types" in empty.json()


def test_deleting_an_endpoint(api):
    created = api.post(
        ENDPOINTS, {"url": "https://a.example.com/", "event_types": ["alert.opened"]}, format="json"
    ).json()
    assert api.delete(f"{ENDPOINTS}{created['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert api.get(f"{ENDPOINTS}{created['id']}/").status_code == 404


def _deliveries(endpoint, n: int, *, status=DeliveryStatus.SUCCEEDED) -> list[WebhookDelivery]:
    now = timezone.now()
    made = []
    for i in range(n):
        event = WebhookEvent.objects.create(
            type="charge.paid",
            payload={"id": i, "amount": "10.00", "currency": "CNY"},
            occurred_at=now,
            object_type="billing.charge",
            object_id=str(i),
        )
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=event,
            status=status,
            attempts=2,
            last_response_code=200 if status == DeliveryStatus.SUCCEEDED else 500,
            give_up_at=now + dt.timedelta(days=1),
        )
        WebhookAttempt.objects.create(
            delivery=delivery, attempted_at=now, response_code=500, duration_ms=12
        )
        WebhookAttempt.objects.create(
            delivery=delivery, attempted_at=now, response_code=200, duration_ms=9
        )
        made.append(delivery)
    return made


def _endpoint(url="https://a.example.com/hooks"):
    return WebhookEndpoint.objects.create(url=url, event_types=["charge.paid"], secret="whsec_x")


def test_the_delivery_list_costs_the_same_for_5_rows_as_for_40(api, django_assert_num_queries):
    endpoint = _endpoint()
    _deliveries(endpoint, 5)
    api.get(DELIVERIES)  # the session and permissions are cached from here on
    # the session, its user, and the page with its events
    with django_assert_num_queries(3) as small:
        assert len(api.get(DELIVERIES).json()["results"]) == 5
    _deliveries(endpoint, 35)
    with django_assert_num_queries(len(small.captured_queries)):
        page = api.get(DELIVERIES, {"page_size": 40}).json()
    assert len(page["results"]) == 40
    assert page["results"][0]["event_type"] == "charge.paid"


def test_the_delivery_list_filters_and_pages_by_cursor(api):
    ok, other = _endpoint(), _endpoint("https://b.example.com/")
    _deliveries(ok, 3)
    failed = _deliveries(other, 2, status=DeliveryStatus.FAILED)
    by_status = api.get(DELIVERIES, {"status": "failed"}).json()["results"]
    assert [row["id"] for row in by_status] == [d.pk for d in reversed(failed)]
    assert len(api.get(DELIVERIES, {"endpoint": ok.pk}).json()["results"]) == 3
    assert len(api.get(DELIVERIES, {"response_code": 500}).json()["results"]) == 2
    assert len(api.get(DELIVERIES, {"event_type": "charge.paid"}).json()["results"]) == 5
    assert api.get(DELIVERIES, {"status": "eaten"}).status_code == 400

    first = api.get(DELIVERIES, {"page_size": 2}).json()
    second = APIClient.get(api, first["next"]).json()
    assert len(first["results"]) == len(second["results"]) == 2
    assert first["results"][-1]["id"] > second["results"][0]["id"]


def test_a_delivery_shows_its_attempts_and_can_be_sent_again(api):
    (delivery,) = _deliveries(_endpoint(), 1, status=DeliveryStatus.FAILED)
    detail = api.get(f"{DELIVERIES}{delivery.pk}/").json()
    assert [a["response_code"] for a in detail["attempt_log"]] == [500, 200]
    assert detail["data"]["amount"] == "10.00"

    again = api.post(f"{DELIVERIES}{delivery.pk}/redeliver/")
    assert again.status_code == 202, again.json()
    assert again.json()["status"] == "pending"
    delivery.refresh_from_db()
    assert delivery.give_up_at > timezone.now() + dt.timedelta(hours=23)

    twice = api.post(f"{DELIVERIES}{delivery.pk}/redeliver/")
    assert twice.status_code == 409


def test_reading_needs_the_view_permission_and_redelivering_the_change_one(django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client = APIClient()
    client.force_login(clerk)
    (delivery,) = _deliveries(_endpoint(), 1)
    assert client.get(DELIVERIES).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    assert client.get(DELIVERIES).status_code == 200
    assert client.post(f"{DELIVERIES}{delivery.pk}/redeliver/").status_code == 403
    assert client.post(ENDPOINTS, {}, format="json").status_code == 403


def test_the_schema_documents_the_webhook_endpoints(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert {"200", "403", "404"} <= set(
        paths[f"{ENDPOINTS}{{id}}/rotate-secret/"]["post"]["responses"]
    )
    assert {"202", "403", "404", "409"} <= set(
        paths[f"{DELIVERIES}{{id}}/redeliver/"]["post"]["responses"]
    )
    created = paths[ENDPOINTS]["post"]["responses"]["201"]["content"]["application/json"]
    component = created["schema"]["$ref"].rsplit("/", 1)[1]
    assert "secret" in schema["components"]["schemas"][component]["properties"]
    for path in (ENDPOINTS, f"{ENDPOINTS}{{id}}/", DELIVERIES, f"{DELIVERIES}{{id}}/"):
        for operation in paths[path].values():
            assert "403" in operation["responses"]


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://erp.example.com/hooks?x=1", True),
        ("http://127.0.0.1:8080/hooks", True),
        ("http://localhost/hooks", True),
        ("charge:", False),
        ("https://", False),
        ("https://erp.example.com/has space", False),
        ("mailto:finance@example.com", False),
    ],
)
def test_the_url_is_checked_by_the_pattern_the_schema_shows(api, url, accepted):
    answer = api.post(ENDPOINTS, {"url": url, "event_types": ["charge.paid"]}, format="json")
    assert (answer.status_code == 201) is accepted, answer.json()
    schema = api.get("/api/schema/", {"format": "json"}).json()
    pattern = schema["components"]["schemas"]["WebhookEndpointWriteRequest"]["properties"]["url"]
    assert pattern["pattern"].startswith("https?://")


def test_an_integrators_key_manages_endpoints_unless_scoped_to_a_customer(django_user_model):
    from contracts.tests.factories import CustomerFactory
    from integrations.services import api_key_create

    integrator = django_user_model.objects.create_user("erp", password="pw")
    integrator.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_webhookendpoint", "add_webhookendpoint", "view_webhookdelivery"]
        )
    )
    _key, text = api_key_create(name="ERP", user=integrator)
    _scoped, scoped_text = api_key_create(name="one", user=integrator, customer=CustomerFactory())
    client = APIClient()
    body = {"url": "https://erp.example.com/hooks", "event_types": ["charge.paid"]}

    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {text}")
    assert client.post(ENDPOINTS, body, format="json").status_code == 201
    assert client.get(DELIVERIES).status_code == 200

    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {scoped_text}")
    assert client.get(ENDPOINTS).status_code == 403  # endpoints are no one customer's
    assert client.post(ENDPOINTS, body, format="json").status_code == 403
