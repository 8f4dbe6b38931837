"""The sweeper is in the beat schedule, every minute, and its task sends what is due."""

import pytest
from django_celery_beat.models import PeriodicTask

from alerts.services import alert_raise
from contracts.tests.factories import CustomerFactory
from webhooks.models import WebhookDelivery
from webhooks.tasks import webhook_deliver_task, webhook_sweep_task

pytestmark = pytest.mark.django_db


def test_the_sweeper_runs_every_minute():
    task = PeriodicTask.objects.get(task="webhooks.sweep")
    assert (task.interval.every, task.interval.period, task.enabled) == (1, "minutes", True)


def test_the_tasks_send_what_is_due(receiver, subscribe):
    subscribe(receiver.url, "alert.opened")
    for n in range(2):
        alert_raise(
            kind="charge_overdue", subject=f"c:{n}", message="m", customer=CustomerFactory()
        )
    first, second = WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True)
    assert webhook_deliver_task.apply(kwargs={"delivery_ids": [first]}).get() == 1
    assert webhook_sweep_task.apply().get() == 1  # the one whose task was lost
    assert webhook_sweep_task.apply().get() == 0
    assert len(receiver.requests) == 2
    assert {second} <= set(
        WebhookDelivery.objects.filter(status="succeeded").values_list("pk", flat=True)
    )
