"""Write-offs over the API: asked by one user with a reason, approved or rejected
by another with the approval permission (the requester and anyone without it get
403), decided once (409 after), refused for a paid charge, the same queries for
3 or 30 requests, and a scoped key's own customer only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.choices import ChargeStatus
from contracts.tests.factories import CustomerFactory
from payments.choices import ApprovalStatus
from payments.models import WriteOffRequest
from payments.tests.test_api_attempts import collected, results, scoped_client, staff_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/write-offs/"
ASK = ("view_writeoffrequest", "add_writeoffrequest")
DECIDE = ("view_writeoffrequest", "approve_writeoffrequest")


@pytest.fixture
def clerk(django_user_model):
    return staff_client(django_user_model, "clerk", *ASK, *DECIDE[1:])


@pytest.fixture
def manager(django_user_model):
    return staff_client(django_user_model, "manager", *DECIDE)


def ask(client, charge, reason="客户破产"):
    return client.post(URL, {"charge": charge.id, "reason": reason}, format="json")


def test_asked_by_one_and_approved_by_another_the_charge_is_written_off(clerk, manager):
    charge, _attempt = collected("3000.51")  # declined: still owed

    asked = ask(clerk, charge)
    assert asked.status_code == 201, asked.content
    body = asked.json()
    assert body | {"status": "requested", "amount": "3000.51", "requested_by": "clerk"} == body
    assert body["decided_by"] is None

    approved = manager.post(f"{URL}{body['id']}/approve/", {"note": "核准"}, format="json")

    assert approved.status_code == 200, approved.content
    assert approved.json() | {"status": "approved", "decided_by": "manager"} == approved.json()
    assert approved.json()["decision_note"] == "核准"
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.WRITTEN_OFF
    again = manager.post(f"{URL}{body['id']}/reject/", {}, format="json")
    assert again.status_code == 409


def test_the_requester_cannot_decide_their_own_request(clerk):
    charge, _attempt = collected("3000.51")
    request_id = ask(clerk, charge).json()["id"]

    for action in ("approve", "reject"):
        answer = clerk.post(f"{URL}{request_id}/{action}/", {}, format="json")
        assert answer.status_code == 403, answer.content
        assert "requester" in answer.json()["detail"]
    assert WriteOffRequest.objects.get().status == ApprovalStatus.REQUESTED


def test_deciding_needs_the_approval_permission(clerk, django_user_model):
    charge, _attempt = collected("3000.51")
    request_id = ask(clerk, charge).json()["id"]
    viewer = staff_client(django_user_model, "viewer", "view_writeoffrequest")

    assert viewer.get(f"{URL}{request_id}/").status_code == 200
    assert viewer.post(f"{URL}{request_id}/approve/", {}, format="json").status_code == 403
    assert ask(viewer, charge).status_code == 403
    assert WriteOffRequest.objects.get().status == ApprovalStatus.REQUESTED


def test_rejected_collection_goes_on(clerk, manager):
    charge, _attempt = collected("3000.51")
    request_id = ask(clerk, charge).json()["id"]

    rejected = manager.post(f"{URL}{request_id}/reject/", {"note": "再催收"}, format="json")

    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED
    assert ask(clerk, charge).status_code == 201  # may be asked again


def test_a_paid_charge_cannot_be_written_off_409_and_a_second_request_is_400(clerk):
    paid, _attempt = collected("3000.00")
    refused = ask(clerk, paid)
    assert refused.status_code == 409 and "detail" in refused.json()

    owed, _attempt = collected("3000.51")
    assert ask(clerk, owed).status_code == 201
    second = ask(clerk, owed)
    assert second.status_code == 400 and second.json().keys() == {"charge"}
    assert ask(clerk, owed, reason="").json().keys() == {"reason"}
    assert WriteOffRequest.objects.count() == 1


def test_a_scoped_key_asks_and_reads_only_for_its_customer(clerk, django_user_model):
    mine, other = CustomerFactory(code="MINE"), CustomerFactory(code="OTHER")
    my_charge, _a = collected("3000.51", customer=mine)
    other_charge, _b = collected("3000.51", customer=other)
    other_request = ask(clerk, other_charge).json()
    scoped = scoped_client(django_user_model, mine, "add_writeoffrequest")

    refused = ask(scoped, other_charge)
    unknown = scoped.post(URL, {"charge": 999999, "reason": "x"}, format="json")
    assert refused.status_code == unknown.status_code == 400
    assert refused.json()["charge"] == [
        unknown.json()["charge"][0].replace("999999", str(other_charge.id))
    ]
    assert scoped.get(f"{URL}{other_request['id']}/").status_code == 404
    assert scoped.post(f"{URL}{other_request['id']}/approve/", {}).status_code == 403

    assert ask(scoped, my_charge).status_code == 201
    assert [r["charge"] for r in results(scoped.get(URL))] == [my_charge.id]


def test_a_scoped_approver_gets_404_for_another_customers_request(clerk, django_user_model):
    mine, other = CustomerFactory(code="MINE"), CustomerFactory(code="OTHER")
    other_charge, _b = collected("3000.51", customer=other)
    other_request = ask(clerk, other_charge).json()
    scoped = scoped_client(django_user_model, mine, "approve_writeoffrequest")

    answer = scoped.post(f"{URL}{other_request['id']}/approve/", {}, format="json")

    assert answer.status_code == 404
    assert WriteOffRequest.objects.get().status == ApprovalStatus.REQUESTED


def test_the_list_costs_the_same_queries_for_3_or_30_requests(clerk, manager):
    def count(n: int) -> int:
        for i in range(n):
            charge, _attempt = collected(f"{100 + i}.51")
            asked = ask(clerk, charge).json()
            if i % 2:
                manager.post(f"{URL}{asked['id']}/reject/", {}, format="json")
        with CaptureQueriesContext(connection) as queries:
            rows = results(manager.get(URL, {"page_size": 100}))
        assert len(rows) == WriteOffRequest.objects.count()
        return len(queries)

    assert count(3) == count(27)
