"""Refunds over the API: asked for as the admin's refund page does, sent to the
gateway at once; never more than the payment can still give back, only from a
successful payment, once for a retried POST, and only for a scoped key's own
customer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from contracts.tests.factories import CustomerFactory
from payments.models import Refund
from payments.tests.test_api_attempts import (
    collected,
    lists_nothing,
    results,
    scoped_client,
    staff_client,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/refunds/"


def ask(client, attempt, amount="100.00", reason="双重扣款", **headers):
    body = {"attempt": attempt.id, "amount": amount, "reason": reason}
    return client.post(URL, body, format="json", **headers)


def test_a_refund_is_sent_and_answered_with_its_outcome(api):
    charge, attempt = collected("3000.00")

    answer = ask(api, attempt, "120.50")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["status"] == "succeeded" and body["amount"] == "120.50"
    assert body["attempt"] == attempt.id and body["charge"] == charge.id
    assert body["reason"] == "双重扣款" and body["requested_by"] == "admin"
    assert body["idempotency_key"] == f"RF{attempt.id:06d}-01"
    assert api.get(f"{URL}{body['id']}/").json() == body
    left = api.get(f"/api/v1/payment-attempts/{attempt.id}/").json()["refundable"]
    assert left == "2879.50"
    assert AuditEvent.objects.filter(action="refund.succeeded", object_id=body["id"]).exists()


def test_more_than_the_payment_can_give_back_is_a_400_on_amount(api):
    _charge, attempt = collected("3000.00")
    assert ask(api, attempt, "2000.00").status_code == 201

    answer = ask(api, attempt, "1000.01")

    assert answer.status_code == 400
    assert answer.json().keys() == {"amount"}
    assert "1000.00" in answer.json()["amount"][0]
    assert Refund.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "0.00", "reason": "x"}, "amount"),
        ({"amount": "1.001", "reason": "x"}, "amount"),
        ({"amount": "10.00", "reason": "   "}, "reason"),
        ({"amount": "10.00"}, "reason"),
    ],
)
def test_malformed_requests_are_a_400_per_field(api, body, field):
    _charge, attempt = collected("3000.00")
    answer = api.post(URL, {"attempt": attempt.id, **body}, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert not Refund.objects.exists()


def test_a_failed_payment_cannot_be_refunded_409(api):
    _charge, failed = collected("3000.51")
    answer = ask(api, failed)
    assert answer.status_code == 409
    assert "detail" in answer.json()
    assert not Refund.objects.exists()


def test_a_retried_post_with_its_idempotency_key_refunds_once(api):
    _charge, attempt = collected("3000.00")

    first = ask(api, attempt, "100.00", HTTP_IDEMPOTENCY_KEY="refund-1")
    again = ask(api, attempt, "100.00", HTTP_IDEMPOTENCY_KEY="refund-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Refund.objects.count() == 1
    assert api.get(f"/api/v1/payment-attempts/{attempt.id}/").json()["refundable"] == "2900.00"


def test_refunding_needs_the_add_permission(django_user_model):
    _charge, attempt = collected("3000.00")
    viewer = staff_client(django_user_model, "viewer", "view_refund", "view_paymentattempt")
    assert viewer.get(URL).status_code == 200
    assert ask(viewer, attempt).status_code == 403
    assert not Refund.objects.exists()


def test_a_scoped_key_refunds_and_reads_only_its_customers_payments(api, django_user_model):
    mine, other = CustomerFactory(code="MINE"), CustomerFactory(code="OTHER")
    _c1, my_attempt = collected("3000.00", customer=mine)
    _c2, other_attempt = collected("3000.00", customer=other)
    other_refund = ask(api, other_attempt).json()
    scoped = scoped_client(django_user_model, mine, "add_refund")

    refused = ask(scoped, other_attempt)
    unknown = scoped.post(URL, {"attempt": 999999, "amount": "1.00", "reason": "x"}, format="json")
    assert refused.status_code == unknown.status_code == 400
    assert refused.json()["attempt"] == [
        unknown.json()["attempt"][0].replace("999999", str(other_attempt.id))
    ]
    assert scoped.get(f"{URL}{other_refund['id']}/").status_code == 404
    assert lists_nothing(scoped.get(URL, {"attempt": other_attempt.id}), "attempt")

    mine_refund = ask(scoped, my_attempt)
    assert mine_refund.status_code == 201
    assert [r["id"] for r in results(scoped.get(URL))] == [mine_refund.json()["id"]]
    assert Refund.objects.filter(attempt=other_attempt).count() == 1


def test_the_list_costs_the_same_queries_for_3_or_30_refunds(api):
    _charge, attempt = collected("3000.00")

    def count(n: int) -> int:
        for _ in range(n):
            assert ask(api, attempt, "1.00").status_code == 201
        with CaptureQueriesContext(connection) as queries:
            assert len(results(api.get(URL, {"page_size": 100}))) == Refund.objects.count()
        return len(queries)

    assert count(3) == count(27)
