"""How charges reach collection: the billing run's hand-over, the beat sweep (also on
a real worker), the ``collect`` command, and the beat schedule itself."""

from __future__ import annotations

import datetime as dt
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from billing.choices import ChargeStatus
from billing.models import Charge
from billing.tests.test_billing_worker import worker  # noqa: F401  (fixture)
from payments.tasks import collection_sweep_task
from payments.tests.collection_helpers import DAY, billed_charge
from tests.clock import at


@pytest.mark.django_db
def test_the_billing_run_hands_new_charges_to_collection_after_commit(
    settings, eager, django_capture_on_commit_callbacks
):
    settings.PAYMENT_COLLECT_AFTER_BILLING = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        charge = billed_charge("3000.00")
    assert callbacks  # nothing was sent before the charges were committed

    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID


@pytest.mark.django_db
def test_without_the_hand_over_billing_leaves_charges_to_the_sweep(
    settings, eager, django_capture_on_commit_callbacks
):
    settings.PAYMENT_COLLECT_AFTER_BILLING = False
    with django_capture_on_commit_callbacks(execute=True):
        charge = billed_charge("3000.00")
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PENDING

    with at(DAY):
        assert collection_sweep_task.apply(args=(DAY.isoformat(),)).get() == 1
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID


@pytest.mark.django_db
def test_the_collect_command_reports_what_it_did():
    paid, declined = billed_charge("3000.00"), billed_charge("3000.51")
    out = StringIO()
    with at(DAY):
        call_command("collect", "--date", DAY.isoformat(), stdout=out)

    assert "2 charges (failed 1, paid 1)" in out.getvalue()
    paid.refresh_from_db()
    declined.refresh_from_db()
    assert (paid.status, declined.status) == (ChargeStatus.PAID, ChargeStatus.FAILED)
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("collect", "--date", "28/11/2026", stdout=StringIO())


@pytest.mark.django_db
def test_collection_is_scheduled_in_the_beat_database():
    tasks = dict(PeriodicTask.objects.values_list("name", "task"))
    assert tasks["Collection sweep"] == "payments.sweep"
    assert tasks["Daily customer notices"] == "payments.daily_notices"
    assert tasks["Direct debit batches"] == "payments.direct_debit_batches"
    sweep = PeriodicTask.objects.get(name="Collection sweep")
    assert (sweep.interval.every, sweep.interval.period) == (10, "minutes")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sweep_fans_out_to_a_real_worker(worker):  # noqa: F811
    charges = [billed_charge(amount) for amount in ("3000.00", "2000.00", "1000.51")]
    today = dt.date.today()
    for charge in charges:  # due today, whatever the date the worker sees
        Charge.objects.filter(pk=charge.pk).update(next_attempt_on=today)

    handed = collection_sweep_task.apply(args=(today.isoformat(),)).get()  # beat's entry
    assert handed == 3

    deadline = time.monotonic() + 60
    while (
        Charge.objects.filter(pk__in=[c.pk for c in charges], status=ChargeStatus.PENDING).exists()
        and time.monotonic() < deadline
    ):
        assert worker.poll() is None, worker.stdout.read().decode()
        time.sleep(0.3)
    statuses = sorted(
        Charge.objects.filter(pk__in=[c.pk for c in charges]).values_list("status", flat=True)
    )
    assert statuses == [ChargeStatus.FAILED, ChargeStatus.PAID, ChargeStatus.PAID]


def test_a_billing_chunk_hands_its_charges_over_in_one_message_split_by_the_worker(
    monkeypatch,
):
    from payments import tasks

    sent = []
    monkeypatch.setattr(tasks.collect_charges_task, "delay", lambda ids, on: sent.append(ids))
    handed = []
    monkeypatch.setattr(
        tasks.collection_hand_over_task, "delay", lambda ids, on: handed.append((ids, on))
    )
    ids = list(range(1, 251))
    tasks.enqueue_collection(ids, dt.date(2026, 3, 1))
    assert handed == [(ids, "2026-03-01")] and sent == []  # one publish for the chunk

    assert tasks.collection_hand_over_task.apply(args=(ids, "2026-03-01")).get() == 3
    assert [len(chunk) for chunk in sent] == [100, 100, 50]
    assert [i for chunk in sent for i in chunk] == ids  # each charge once, in order

    sent.clear()
    tasks.enqueue_collection(ids[:40], dt.date(2026, 3, 1))
    assert sent == [ids[:40]] and len(handed) == 1  # a small chunk goes straight to collection
