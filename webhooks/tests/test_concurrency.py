"""Two workers never send the same delivery (PostgreSQL's row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from alerts.services import alert_raise
from contracts.tests.factories import CustomerFactory
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_deliveries_send, webhook_deliveries_sweep
from webhooks.tasks import webhook_deliver_task


@pytest.fixture
def lost_tasks(monkeypatch):
    """The tasks enqueued after commit never arrive: the sweepers are on their own."""
    lost = []
    monkeypatch.setattr(webhook_deliver_task, "delay", lambda **kwargs: lost.append(kwargs))
    return lost


def _in_threads(*targets) -> list:
    results: list = [None] * len(targets)
    barrier = threading.Barrier(len(targets))

    def run(i, target):
        try:
            barrier.wait()
            results[i] = target()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_deliver_each_event_once(receiver, subscribe, lost_tasks):
    receiver.delay = 0.2  # both sweepers are at work while the first requests wait
    subscribe(receiver.url, "alert.opened")
    customer = CustomerFactory()
    for n in range(6):
        alert_raise(kind="charge_overdue", subject=f"charge:{n}", message="x", customer=customer)

    assert len(lost_tasks) == 6  # one task per committed alert, lost
    sent = _in_threads(webhook_deliveries_sweep, webhook_deliveries_sweep)

    assert sum(sent) == 6
    assert len(receiver.requests) == 6
    assert len({r.headers["Webhook-Id"] for r in receiver.requests}) == 6
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("succeeded", 1)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_task_after_commit_and_the_sweeper_send_a_delivery_once(
    receiver, subscribe, lost_tasks
):
    receiver.delay = 0.3
    subscribe(receiver.url, "alert.opened")
    alert_raise(kind="charge_overdue", subject="charge:1", message="x", customer=CustomerFactory())
    ((ids,),) = [list(task.values()) for task in lost_tasks]
    assert ids == list(WebhookDelivery.objects.values_list("pk", flat=True))

    sent = _in_threads(lambda: webhook_deliveries_send(delivery_ids=ids), webhook_deliveries_sweep)

    assert sorted(sent) == [0, 1]
    assert len(receiver.requests) == 1
