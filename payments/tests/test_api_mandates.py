"""Mandates over the API: typed in from the signed form (account numbers tidied and
checked, one active mandate per customer), shown with the IBAN masked, revoked
once (409 after), the same queries for 3 or 30, and a scoped key's own customer
only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from contracts.tests.factories import CustomerFactory
from payments.choices import MandateStatus
from payments.models import Mandate
from payments.tests.test_api_attempts import results, scoped_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/mandates/"
IBAN = "DE89370400440532013000"


def form(customer, **overrides):
    return {
        "customer": customer.id,
        "reference": f"MNDT-{customer.code}",
        "signed_on": "2026-03-01",
        "debtor_name": "上海示例有限公司",
        "debtor_iban": "de89 3704 0044 0532 0130 00",
        "debtor_bic": "cobadeff xxx",
        **overrides,
    }


def test_a_mandate_is_recorded_compact_and_shown_masked(api):
    customer = CustomerFactory(code="M1")

    answer = api.post(URL, form(customer, limit="5000.00"), format="json")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["debtor_iban"] == "DE89****3000" and body["debtor_bic"] == "COBADEFFXXX"
    assert body["limit"] == "5000.00" and body["limit_currency"] == "CNY"
    assert body["status"] == "active" and body["valid_until"] is None
    stored = Mandate.objects.get(pk=body["id"])
    assert stored.debtor_iban == IBAN
    assert AuditEvent.objects.filter(action="mandate.created", object_id=body["id"]).exists()
    assert api.get(f"{URL}{body['id']}/").json() == body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"debtor_iban": "DE00 0000 0000 0000"}, "debtor_iban"),
        ({"debtor_bic": "NOTABIC"}, "debtor_bic"),
        ({"signed_on": "yesterday"}, "signed_on"),
        ({"limit": "0"}, "limit"),
        ({"valid_until": "2026-01-01"}, "non_field_errors"),
    ],
)
def test_what_the_model_refuses_is_a_400_per_field(api, overrides, field):
    answer = api.post(URL, form(CustomerFactory(), **overrides), format="json")
    assert answer.status_code == 400
    assert field in answer.json(), answer.json()
    assert not Mandate.objects.exists()


def test_one_active_mandate_per_customer_and_a_unique_reference(api):
    customer = CustomerFactory(code="M2")
    assert api.post(URL, form(customer), format="json").status_code == 201

    second = api.post(URL, form(customer, reference="MNDT-OTHER"), format="json")
    assert second.status_code == 400 and second.json().keys() == {"customer"}
    same_reference = api.post(URL, form(CustomerFactory(), reference="MNDT-M2"), format="json")
    assert same_reference.status_code == 400 and "reference" in same_reference.json()


def test_revoked_once_then_409_and_a_new_one_may_be_recorded(api):
    customer = CustomerFactory(code="M3")
    mandate_id = api.post(URL, form(customer), format="json").json()["id"]

    revoked = api.post(f"{URL}{mandate_id}/revoke/")

    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked" and revoked.json()["revoked_at"]
    assert api.post(f"{URL}{mandate_id}/revoke/").status_code == 409
    assert Mandate.objects.get(pk=mandate_id).status == MandateStatus.REVOKED
    assert api.post(URL, form(customer, reference="MNDT-M3-2"), format="json").status_code == 201
    assert [m["status"] for m in results(api.get(URL, {"customer": customer.id}))] == [
        "active",
        "revoked",
    ]


def test_a_scoped_key_records_and_revokes_only_for_its_customer(api, django_user_model):
    mine, other = CustomerFactory(code="MINE"), CustomerFactory(code="OTHER")
    other_id = api.post(URL, form(other), format="json").json()["id"]
    scoped = scoped_client(django_user_model, mine)  # 集成方 may add and change mandates

    refused = scoped.post(URL, form(other, reference="MNDT-X"), format="json")
    unknown = scoped.post(URL, {**form(other), "customer": 999999}, format="json")
    assert refused.status_code == unknown.status_code == 400
    assert refused.json()["customer"] == [
        unknown.json()["customer"][0].replace("999999", str(other.id))
    ]
    assert scoped.get(f"{URL}{other_id}/").status_code == 404
    assert scoped.post(f"{URL}{other_id}/revoke/").status_code == 404
    assert Mandate.objects.get(pk=other_id).status == MandateStatus.ACTIVE

    created = scoped.post(URL, form(mine), format="json")
    assert created.status_code == 201
    assert [m["id"] for m in results(scoped.get(URL))] == [created.json()["id"]]
    assert scoped.post(f"{URL}{created.json()['id']}/revoke/").status_code == 200


def test_the_list_costs_the_same_queries_for_3_or_30_mandates(api):
    def count(n: int) -> int:
        for _ in range(n):
            customer = CustomerFactory()
            assert api.post(URL, form(customer), format="json").status_code == 201
        with CaptureQueriesContext(connection) as queries:
            assert len(results(api.get(URL, {"page_size": 100}))) == Mandate.objects.count()
        return len(queries)

    assert count(3) == count(27)
