"""What a process knows of the subscribed types, and when it learns more."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from webhooks import subscriptions
from webhooks.models import WebhookEndpoint
from webhooks.services import webhook_endpoint_create, webhook_endpoint_update


def _added_by_another_process(*types: str) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url="https://erp.example.com/", event_types=list(types), secret="whsec_x"
    )


@pytest.mark.django_db(transaction=True)
def test_a_change_in_this_process_is_known_once_it_commits():
    endpoint = webhook_endpoint_create(url="https://erp.example.com/", event_types=["charge.paid"])
    assert subscriptions.subscribed() == {"charge.paid"}
    with transaction.atomic():
        webhook_endpoint_update(endpoint=endpoint, event_types=["refund.succeeded"])
        assert subscriptions.subscribed() == {"charge.paid"}  # not before the commit
    assert subscriptions.subscribed() == {"refund.succeeded"}
    webhook_endpoint_update(endpoint=endpoint, active=False)
    assert subscriptions.subscribed() == frozenset()


@pytest.mark.django_db(transaction=True)
def test_another_process_change_is_learnt_after_the_ttl_between_transactions(settings, monkeypatch):
    settings.WEBHOOK_SUBSCRIPTIONS_TTL = 30
    subscriptions.forget()
    _added_by_another_process("alert.opened")
    subscriptions.refresh_if_stale()
    assert not subscriptions.wanted("alert.opened")  # still fresh: not read again
    monkeypatch.setattr(subscriptions, "_loaded_at", time.monotonic() - 31)
    with transaction.atomic():
        subscriptions.refresh_if_stale()
        assert not subscriptions.wanted("alert.opened")  # never inside a change
    subscriptions.refresh_if_stale()
    assert subscriptions.wanted("alert.opened")


@pytest.mark.django_db(transaction=True)
def test_a_request_start_refreshes_a_stale_view(client, settings):
    settings.WEBHOOK_SUBSCRIPTIONS_TTL = 0
    subscriptions.forget()
    _added_by_another_process("charge.created")
    client.get("/api/v1/")
    assert subscriptions.wanted("charge.created")
