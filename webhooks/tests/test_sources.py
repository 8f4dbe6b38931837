"""Each audited change an integrator subscribes to becomes its webhook event,
through the paths the project really takes (single and bulk)."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.services import NewAlert, alerts_raise_many
from billing.models import Charge
from contracts.services import contract_terminate
from contracts.tests.factories import CustomerFactory
from feemgmt.core.money import money
from payments.models import Mandate
from payments.services.collection import Outcome, charge_collect
from payments.services.mandates import mandate_save, mandates_revoke
from payments.services.refunds import payment_refund
from payments.tests.collection_helpers import DAY, billed_charge
from tests.clock import at
from webhooks.choices import EventType
from webhooks.models import WebhookEvent
from webhooks.sources import SOURCES

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def everything(subscribe):
    return subscribe("https://erp.example.com/hooks", *EventType.values)


def events(type_: str) -> list[dict]:
    return [e.payload for e in WebhookEvent.objects.filter(type=type_)]


def test_a_charge_from_signing_to_refund(django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    charge = billed_charge("3000.00")
    contract = charge.contract
    (signed,) = events("contract.signed")
    assert (signed["number"], signed["status"]) == (contract.number, "active")
    (created,) = events("charge.created")
    assert (created["id"], created["amount"], created["status"]) == (
        charge.pk,
        "3000.00",
        "pending",
    )

    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.PAID
        attempt = charge.attempts.get()
        payment_refund(
            attempt=attempt, amount=money("1000.00", "CNY"), reason="discount", requested_by=clerk
        )
    (paid,) = events("charge.paid")
    assert (paid["id"], paid["status"]) == (charge.pk, "paid")
    (received,) = events("payment.received")
    assert received["charge_id"] == charge.pk
    assert (received["amount"], received["currency"], received["status"]) == (
        "3000.00",
        "CNY",
        "succeeded",
    )
    (refunded,) = events("refund.succeeded")
    assert (refunded["payment_id"], refunded["amount"], refunded["status"]) == (
        attempt.pk,
        "1000.00",
        "succeeded",
    )
    assert refunded["customer_id"] == contract.customer_id


def test_a_declined_deduction_and_a_termination():
    charge = billed_charge("3000.51")  # the sandbox declines amounts ending in .51
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.FAILED
    (failed,) = events("charge.failed")
    assert (failed["id"], failed["status"]) == (charge.pk, "failed")
    with at(DAY + dt.timedelta(days=3)):
        contract_terminate(contract=charge.contract, end_date=DAY + dt.timedelta(days=10))
    (ended,) = events("contract.terminated")
    assert (ended["status"], ended["service_end"]) == ("terminated", "2026-03-12")


def test_mandates_recorded_and_revoked():
    mandate = Mandate(
        customer=CustomerFactory(),
        reference="MNDT-7",
        signed_on=dt.date(2026, 1, 15),
        debtor_name="Li Si",
        debtor_iban="DE89370400440532013000",
    )
    mandate_save(mandate=mandate)
    mandates_revoke(Mandate.objects.all())
    (created,) = events("mandate.created")
    (revoked,) = events("mandate.revoked")
    assert created["reference"] == "MNDT-7" and "debtor_iban" not in created
    assert revoked["status"] == "revoked" and revoked["revoked_at"]


def test_alerts_raised_in_bulk_are_one_event_each():
    customer = CustomerFactory()
    alerts_raise_many(
        [
            NewAlert(
                kind="overdue_long", subject=f"charge:{n}", message="逾期", customer_id=customer.pk
            )
            for n in range(3)
        ],
        action="risk.alerts_raised",
    )
    opened = events("alert.opened")
    assert sorted(a["subject"] for a in opened) == ["charge:0", "charge:1", "charge:2"]
    assert {a["status"] for a in opened} == {"open"}


def test_a_fee_change_consented_in_the_portal(django_user_model):
    from billing.tests.amendment_helpers import consented, staff

    charge = billed_charge("3000.00")
    customer_user = django_user_model.objects.create_user("ap")
    amendment = consented(
        charge.fee,
        amount="3300.00",
        effective_from=dt.date(2026, 4, 2),
        proposer=staff(django_user_model, "clerk"),
        approver=staff(django_user_model, "manager"),
        customer_user=customer_user,
        on=dt.date(2026, 3, 10),
    )
    (event,) = events("amendment.consented")
    assert event["id"] == amendment.pk
    assert (event["old_amount"], event["new_amount"], event["currency"]) == (
        "3000.00",
        "3300.00",
        "CNY",
    )
    assert (event["effective_from"], event["status"], event["channel"]) == (
        "2026-04-02",
        "consented",
        "portal",
    )


def test_every_event_type_has_a_source_and_a_payload():
    from webhooks.payloads import BUILDERS

    assert {source.type for source in SOURCES.values()} == set(EventType.values)
    assert {source.model for source in SOURCES.values()} <= set(BUILDERS)


def test_only_objects_of_the_sources_model_count():
    """An audit event named like a source but about another model sends nothing."""
    from audit.services import audit_record

    audit_record(action="charge.paid", object_type="payments.refund", object_id=1)
    assert not WebhookEvent.objects.exists()
    assert not Charge.objects.exists()
