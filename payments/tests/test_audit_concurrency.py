"""Two billing runs and collection at the same time, each in its own connection,
leave one unbroken audit chain: no gap, no fork, every created charge covered by
exactly one billing chunk event. Real PostgreSQL, real transactions."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.verification import audit_chain_verify
from billing.choices import ChargeStatus
from billing.models import Charge
from billing.services import billing_run
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from payments.services.collection import charge_collect, collectable_charge_ids
from tests.clock import at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DAY = dt.date(2026, 3, 1)


def run_threads(calls, *, timeout: float = 120) -> None:
    """Each call in its own thread and database connection, released together."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def worker(call):
        try:
            barrier.wait(timeout=10)
            call()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    assert not errors, errors


def test_concurrent_billing_runs_and_collection_leave_an_unbroken_chain():
    with at(dt.date(2025, 12, 1)):
        for i in range(24):
            make_contract(
                customer=CustomerFactory(),
                service_start=dt.date(2026, 1, 1) + dt.timedelta(days=i),
                alignment="anniversary" if i % 2 else "calendar",
                payment_method="sandbox",
                fees=[monthly("1000.00")],
                signed_on=dt.date(2025, 12, 1),
            )
    billed = threading.Event()
    runs_left = [2]
    lock = threading.Lock()

    def bill(chunk_size):
        def call():
            try:
                billing_run(on=DAY, chunk_size=chunk_size)
            finally:
                with lock:
                    runs_left[0] -= 1
                    if runs_left[0] == 0:
                        billed.set()

        return call

    def collect():
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            done = billed.is_set()  # read before looking: nothing billed after it is missed
            ids = collectable_charge_ids(on=DAY)
            for charge_id in ids:
                charge_collect(charge_id, on=DAY)
            if done and not ids:
                return
            time.sleep(0.005)
        raise AssertionError("collection did not finish")

    with at(DAY):
        run_threads([bill(5), bill(3), collect, collect, collect])

    charges = Charge.objects.count()
    assert charges >= 24 * 2  # January and February at least, for each
    assert set(Charge.objects.values_list("status", flat=True)) == {ChargeStatus.PAID}

    result = audit_chain_verify()
    assert result.ok, [str(p) for p in result.problems]
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))  # no gap

    covered = Counter(
        charge_id
        for bulk in AuditEvent.objects.filter(action="billing.chunk").values_list("bulk", flat=True)
        for charge_id in bulk["ids"]
    )
    assert set(covered) == set(Charge.objects.values_list("id", flat=True))
    assert set(covered.values()) == {1}  # one chunk event per charge, never two
    paid = Counter(
        AuditEvent.objects.filter(action="charge.paid").values_list("object_id", flat=True)
    )
    assert len(paid) == charges and set(paid.values()) == {1}
