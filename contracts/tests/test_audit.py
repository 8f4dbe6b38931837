"""The audit events the contract services write: one per change, in its transaction,
with what changed and who changed it, and a chain that verifies afterwards."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from audit.context import actor_scope
from audit.models import AuditEvent
from audit.verification import audit_chain_verify
from contracts.choices import CONTRACT_TRANSITIONS, ContractStatus, contract_statuses_into
from contracts.models import Contract
from contracts.services import (
    ADVANCE_DIGEST_FIELDS,
    FeeInput,
    contract_sign,
    contract_terminate,
    contract_update,
    contracts_advance_status,
    customer_create,
    customer_update,
)
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from feemgmt.core.exceptions import BusinessError, InvalidTransition

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 3, 15)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(12), SHANGHAI), tick=False):
        yield TODAY


@pytest.fixture
def staff():
    """Events recorded outside a request name the process; tests name it."""
    with actor_scope("system:test"):
        yield


def events(action: str, obj=None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(action=action).order_by("sequence")
    if obj is not None:
        found = found.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return list(found)


def only(action: str, obj=None) -> AuditEvent:
    found = events(action, obj)
    assert len(found) == 1, [e.action for e in AuditEvent.objects.all()]
    return found[0]


def assert_chain_ok():
    result = audit_chain_verify()
    assert result.ok, [str(p) for p in result.problems]


class TestCustomers:
    def test_creation_records_the_new_customer(self, staff):
        customer = customer_create(code="C1", name="上海示例", email="a@example.com")
        event = only("customer.created", customer)
        assert event.actor == "system:test"
        assert event.changes == {
            "after": {
                "code": "C1",
                "name": "上海示例",
                "email": "a@example.com",
                "currency": "CNY",
                "credit_code": "",
            }
        }
        assert_chain_ok()

    def test_an_update_records_the_fields_that_changed(self, staff):
        customer = customer_create(code="C1", name="旧名", email="a@example.com")
        customer_update(customer=customer, name="新名", email="a@example.com")
        event = only("customer.updated", customer)
        assert event.changes == {"name": ["旧名", "新名"]}
        customer_update(customer=customer, name="新名")
        assert len(events("customer.updated")) == 1  # nothing changed, nothing recorded
        assert_chain_ok()

    def test_a_refused_change_records_nothing(self, staff):
        customer = customer_create(code="C1", name="x", email="a@example.com")
        with pytest.raises(BusinessError):
            customer_update(customer=customer, currency="XYZ")
        assert events("customer.updated") == []


class TestContracts:
    def test_creation_records_the_contract_with_its_fees(self, staff):
        contract = make_contract(fees=[monthly("3000.00")])
        after = only("contract.created", contract).changes["after"]
        assert after["number"] == contract.number
        assert after["customer"] == contract.customer_id
        assert after["status"] == "draft"
        assert after["service_start"] == "2026-01-01"
        assert after["fees"] == [
            {"kind": "recurring", "amount": "3000.00 CNY", "cycle": "monthly", "treatment": ""}
        ]
        assert_chain_ok()

    def test_a_draft_edit_records_terms_and_replaced_fees(self, staff):
        contract = make_contract(fees=[monthly("3000.00")])
        contract_update(
            contract=contract,
            service_end=dt.date(2026, 12, 31),
            fees=[monthly("3500.00"), FeeInput(kind="signing", amount="800", treatment="fee")],
        )
        changes = only("contract.updated", contract).changes
        assert changes["service_end"] == [None, "2026-12-31"]
        before, after = changes["fees"]
        assert [fee["amount"] for fee in before] == ["3000.00 CNY"]
        assert [fee["amount"] for fee in after] == ["3500.00 CNY", "800.00 CNY"]
        assert set(changes) == {"service_end", "fees"}
        assert_chain_ok()

    def test_signing_records_status_date_and_first_due_dates(self, staff):
        contract = make_contract(service_start=dt.date(2026, 3, 1))
        contract = contract_sign(contract=contract, signed_on=dt.date(2026, 3, 10))
        changes = only("contract.signed", contract).changes
        assert changes["status"] == ["draft", "active"]
        assert changes["signed_on"] == [None, "2026-03-10"]
        fee = contract.fees.get()
        before, after = changes["fees.next_due_date"]
        assert before == {str(fee.pk): None}
        assert after == {str(fee.pk): "2026-03-01"}
        assert_chain_ok()

    def test_signing_before_service_start_records_signed(self, staff):
        contract = make_contract(service_start=dt.date(2026, 4, 1))
        contract_sign(contract=contract, signed_on=dt.date(2026, 3, 10))
        assert only("contract.signed", contract).changes["status"] == ["draft", "signed"]

    def test_termination_records_the_end_date_before_and_after(self, staff):
        contract = make_contract(
            service_start=dt.date(2026, 1, 1),
            service_end=dt.date(2026, 12, 31),
            signed_on=dt.date(2026, 1, 1),
        )
        contract_terminate(contract=contract, end_date=dt.date(2026, 3, 31))
        changes = only("contract.terminated", contract).changes
        assert changes["service_end"] == ["2026-12-31", "2026-03-31"]
        assert changes["status"] == ["active", "terminated"]
        assert changes["terminated_at"][0] is None
        assert_chain_ok()

    def test_a_refused_transition_records_nothing(self, staff):
        contract = make_contract(signed_on=dt.date(2026, 3, 1))
        with pytest.raises(InvalidTransition):
            contract_sign(contract=contract, signed_on=dt.date(2026, 3, 1))
        with pytest.raises(BusinessError):
            contract_update(contract=contract, service_end=dt.date(2026, 12, 31))
        assert len(events("contract.signed")) == 1
        assert events("contract.updated") == []


class TestAdvanceStatus:
    def test_one_bulk_event_covers_every_contract_moved(self, staff):
        starting = make_contract(service_start=dt.date(2026, 4, 1), signed_on=dt.date(2026, 3, 1))
        ending = make_contract(
            service_start=dt.date(2026, 1, 1),
            service_end=dt.date(2026, 4, 30),
            signed_on=dt.date(2026, 1, 1),
        )
        untouched = make_contract(service_start=dt.date(2026, 6, 1), signed_on=dt.date(2026, 3, 1))
        assert contracts_advance_status(on=dt.date(2026, 5, 1)) == {"activated": 1, "ended": 1}

        event = only("contract.status_advanced")
        assert event.actor == "system:test"
        assert event.object_type == "contracts.contract"
        assert event.bulk["ids"] == sorted([starting.pk, ending.pk])
        assert event.bulk["fields"] == ADVANCE_DIGEST_FIELDS
        assert event.changes["on"] == "2026-05-01"
        assert (event.changes["activated"], event.changes["ended"]) == (1, 1)
        assert event.changes["moves"] == [
            {"from": "active", "to": "ended", "ids": [ending.pk]},
            {"from": "signed", "to": "active", "ids": [starting.pk]},
        ]
        assert Contract.objects.get(pk=untouched.pk).status == ContractStatus.SIGNED
        assert_chain_ok()

        # a later termination (status, service end) leaves the bulk digest intact
        contract_terminate(contract=starting, end_date=dt.date(2026, 6, 30))
        assert_chain_ok()

    def test_nothing_moved_records_nothing(self, staff):
        make_contract(service_start=dt.date(2026, 6, 1), signed_on=dt.date(2026, 3, 1))
        assert contracts_advance_status(on=dt.date(2026, 5, 1)) == {"activated": 0, "ended": 0}
        assert events("contract.status_advanced") == []

    def test_the_moves_follow_the_transition_table(self):
        assert contract_statuses_into(ContractStatus.ENDED) == [
            ContractStatus.SIGNED,
            ContractStatus.ACTIVE,
        ]
        assert contract_statuses_into(ContractStatus.ACTIVE) == [ContractStatus.SIGNED]
        assert CONTRACT_TRANSITIONS[ContractStatus.ENDED] == frozenset()


class TestWho:
    def test_an_api_call_records_the_user_the_request_id_and_the_ip(
        self, client, django_user_model
    ):
        user = django_user_model.objects.create_superuser("clerk", "c@example.com", "pw")
        client.force_login(user)
        contract = make_contract(service_start=dt.date(2026, 4, 1))
        response = client.post(
            f"/api/v1/contracts/{contract.pk}/sign/",
            {"signed_on": "2026-03-10"},
            content_type="application/json",
            HTTP_X_REQUEST_ID="req-42",
            REMOTE_ADDR="203.0.113.7",
        )
        assert response.status_code == 200, response.content
        event = only("contract.signed", contract)
        assert event.actor == f"user:{user.pk}:clerk"
        assert event.actor_user_id == user.pk
        assert (event.request_id, event.ip) == ("req-42", "203.0.113.7")
        assert response["X-Request-ID"] == "req-42"
        assert_chain_ok()

    def test_a_management_command_records_a_system_actor(self):
        call_command(
            "demo_data",
            "--contracts",
            "3",
            "--today",
            TODAY.isoformat(),
            "--no-bill",
            stdout=StringIO(),
            stderr=StringIO(),
        )
        recorded = AuditEvent.objects.filter(
            action__in=["customer.created", "contract.created", "contract.signed"]
        )
        assert recorded.filter(action="contract.created").count() == 3
        assert all(event.actor.startswith("system:") for event in recorded)
        assert not recorded.exclude(actor_user_id=None).exists()
        assert_chain_ok()


def test_the_contract_page_links_to_its_history_with_the_signing(admin_client):
    contract = make_contract(service_start=dt.date(2026, 4, 1))
    contract_sign(contract=contract, signed_on=dt.date(2026, 3, 10))
    page = admin_client.get(reverse("admin:contracts_contract_change", args=[contract.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    changelist = reverse("admin:audit_auditevent_changelist")
    start = text.index(f'href="{changelist}?')
    url = text[start + len('href="') : text.index('"', start + len('href="'))]
    url = url.replace("&amp;", "&")
    assert f"about=contracts.contract%3A{contract.pk}" in url
    history = admin_client.get(url)
    assert history.status_code == 200
    listed = list(history.context["cl"].result_list)
    assert {event.action for event in listed} == {"contract.created", "contract.signed"}
    assert "contract.signed" in history.content.decode()


def test_a_customer_page_links_to_its_history(admin_client):
    customer = CustomerFactory()
    customer_update(customer=customer, name="改名")
    page = admin_client.get(reverse("admin:contracts_customer_change", args=[customer.pk]))
    assert page.status_code == 200
    assert f"about=contracts.customer%3A{customer.pk}" in page.content.decode()
