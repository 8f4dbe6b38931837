"""The charge's staff actions over the API: retry/ collects a failed charge now
(once for a retried POST), cancel/ takes it out of the books with the reason in
its history; both refused (409) for a paid charge, 403 without
``billing.change_charge``, and 404 on another customer's charge for a scoped key."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from billing.choices import ChargeStatus
from contracts.tests.factories import CustomerFactory
from payments.models import PaymentAttempt
from payments.tests.test_api_attempts import collected, scoped_client, staff_client

pytestmark = pytest.mark.django_db


def url(charge, action: str) -> str:
    return f"/api/v1/charges/{charge.id}/{action}/"


def test_retry_collects_a_failed_charge_now(api, eager, django_capture_on_commit_callbacks):
    charge, first = collected("3000.51")
    assert charge.status == ChargeStatus.FAILED and charge.next_attempt_on > first.created_at.date()

    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(url(charge, "retry"))

    assert answer.status_code == 202, answer.content
    assert answer.json()["id"] == charge.id and answer.json()["status"] == "failed"
    attempts = PaymentAttempt.objects.filter(charge=charge).order_by("number")
    assert [a.number for a in attempts] == [1, 2]
    assert attempts[1].status == "failed"  # the sandbox declines .51 again


def test_a_retried_retry_post_collects_once(api, eager, django_capture_on_commit_callbacks):
    charge, _first = collected("3000.51")

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(url(charge, "retry"), HTTP_IDEMPOTENCY_KEY="retry-1")
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(url(charge, "retry"), HTTP_IDEMPOTENCY_KEY="retry-1")

    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert PaymentAttempt.objects.filter(charge=charge).count() == 2


def test_a_paid_charge_is_neither_retried_nor_cancelled(api):
    paid, _attempt = collected("3000.00")
    for action, body in (("retry", {}), ("cancel", {"reason": "重复"})):
        answer = api.post(url(paid, action), body, format="json")
        assert answer.status_code == 409, action
        assert "detail" in answer.json()
    paid.refresh_from_db()
    assert paid.status == ChargeStatus.PAID


def test_cancel_takes_the_charge_out_with_its_reason_in_the_history(api):
    charge, _attempt = collected("3000.51")

    answer = api.post(url(charge, "cancel"), {"reason": "合同录入错误"}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "cancelled"
    event = AuditEvent.objects.get(action="charge.cancelled", object_id=str(charge.id))
    assert event.changes["reason"] == ["", "合同录入错误"]
    assert event.changes["status"] == ["failed", "cancelled"]


def test_cancel_needs_a_reason(api):
    charge, _attempt = collected("3000.51")
    for body in ({}, {"reason": "  "}):
        answer = api.post(url(charge, "cancel"), body, format="json")
        assert answer.status_code == 400 and answer.json().keys() == {"reason"}
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED


def test_both_need_the_change_permission(django_user_model):
    charge, _attempt = collected("3000.51")
    viewer = staff_client(django_user_model, "viewer", "view_charge")
    assert viewer.get(f"/api/v1/charges/{charge.id}/").status_code == 200
    assert viewer.post(url(charge, "retry")).status_code == 403
    assert viewer.post(url(charge, "cancel"), {"reason": "x"}, format="json").status_code == 403


def test_a_scoped_key_acts_only_on_its_customers_charges(django_user_model):
    mine, other = CustomerFactory(code="MINE"), CustomerFactory(code="OTHER")
    my_charge, _a = collected("3000.51", customer=mine)
    other_charge, _b = collected("3000.51", customer=other)
    plain = scoped_client(django_user_model, mine, username="erp-plain")
    assert plain.post(url(my_charge, "retry")).status_code == 403  # 集成方 cannot
    scoped = scoped_client(django_user_model, mine, "change_charge")

    assert scoped.post(url(other_charge, "retry")).status_code == 404
    body = {"reason": "x"}
    assert scoped.post(url(other_charge, "cancel"), body, format="json").status_code == 404
    other_charge.refresh_from_db()
    assert other_charge.status == ChargeStatus.FAILED
    assert scoped.post(url(my_charge, "cancel"), body, format="json").status_code == 200
