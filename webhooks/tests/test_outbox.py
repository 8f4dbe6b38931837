"""Events are written with the change and sent only once it commits."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction

from billing.models import Charge
from billing.services import billing_run, charges_settle
from contracts.tests.factories import make_contract, monthly
from tests.clock import at
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import webhook_deliveries_sweep

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 1)


def signed_contract(amount="3000.00"):
    with at(dt.date(2026, 2, 20)):
        return make_contract(
            service_start=DAY, fees=[monthly(amount)], signed_on=dt.date(2026, 2, 20)
        )


class _Undo(Exception):
    pass


def test_a_change_rolled_back_is_never_delivered(receiver, subscribe, eager):
    subscribe(receiver.url, "charge.created")
    signed_contract()
    with at(DAY):
        with pytest.raises(_Undo), transaction.atomic():
            assert billing_run(on=DAY).charges_created == 1
            assert WebhookEvent.objects.count() == 1  # written with the charge …
            raise _Undo
        assert WebhookEvent.objects.count() == 0  # … and gone with it
        webhook_deliveries_sweep()
    assert receiver.requests == []


def test_a_committed_change_is_delivered_once_after_commit(
    receiver, subscribe, eager, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, "charge.created")
    contract = signed_contract("3100.00")
    with at(DAY):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            billing_run(on=DAY)
        assert receiver.requests == []  # nothing is sent before the commit
        for callback in callbacks:
            callback()
        webhook_deliveries_sweep()  # the sweeper finds nothing left to send
    assert len(receiver.requests) == 1
    body = json.loads(receiver.requests[0].body)
    charge = Charge.objects.get(contract=contract)
    assert body["type"] == "charge.created"
    assert body["data"] == {
        "id": charge.pk,
        "customer_id": contract.customer_id,
        "customer_code": contract.customer.code,
        "contract_id": contract.pk,
        "contract_number": contract.number,
        "fee_id": charge.fee_id,
        "kind": "recurring",
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
        "due_date": "2026-03-01",
        "amount": "3100.00",
        "currency": "CNY",
        "prorated": False,
        "status": "pending",
    }
    assert receiver.requests[0].headers["Webhook-Id"] == body["id"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        "succeeded",
        1,
        200,
    )


def test_no_endpoint_no_outbox_row(eager):
    signed_contract()
    with at(DAY):
        billing_run(on=DAY)
    assert WebhookEvent.objects.count() == 0


def test_an_endpoint_gets_only_the_types_it_subscribed_to(receiver, subscribe, eager):
    subscribe(receiver.url, "charge.paid")
    contract = signed_contract()
    with at(DAY):
        billing_run(on=DAY)
        assert WebhookEvent.objects.count() == 0  # charge.created: nobody wants it
        charges_settle(
            charge_ids=list(Charge.objects.filter(contract=contract).values_list("pk", flat=True))
        )
    event = WebhookEvent.objects.get()
    assert (event.type, event.payload["status"]) == ("charge.paid", "paid")
