"""Duplicate and concurrent collection on real PostgreSQL: however many times the
same collection task is delivered at once, each charge gets one attempt and the
gateway takes the money once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from billing.choices import ChargeStatus
from ledger.choices import EntryKind
from ledger.models import JournalEntry
from ledger.selectors import unbalanced_entries
from payments.adapters.sandbox import GATEWAY
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt
from payments.services.collection import Outcome, charge_collect
from payments.tasks import collect_charges_task
from payments.tests.collection_helpers import DAY, billed_charge
from tests.clock import at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DELIVERIES = 100
THREADS = 40  # each holds a PostgreSQL connection; the server allows 100


def deliver_all(charge_ids: list[int]) -> Counter:
    """Deliver the collection task for each charge DELIVERIES // len(charge_ids)
    times, THREADS at a time, released together."""
    deliveries = [cid for cid in charge_ids for _ in range(DELIVERIES // len(charge_ids))]
    start = threading.Barrier(THREADS)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def deliver(index_and_charge):
        index, charge_id = index_and_charge
        try:
            if index < THREADS:
                start.wait(timeout=30)
            with at(DAY):
                result = collect_charges_task.apply(args=([charge_id], DAY.isoformat())).get()
            with lock:
                outcomes.update(result)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(deliver, enumerate(deliveries)))
    return outcomes


def test_a_hundred_concurrent_deliveries_make_one_successful_attempt_per_charge(settings):
    settings.PAYMENT_ADAPTERS = {
        **settings.PAYMENT_ADAPTERS,
        "sandbox": {
            **settings.PAYMENT_ADAPTERS["sandbox"],
            "options": {**settings.PAYMENT_ADAPTERS["sandbox"]["options"], "slow_seconds": 0.5},
        },
    }
    # A plain success, a slow gateway, and a timeout the gateway had in fact taken.
    charges = [billed_charge(amount) for amount in ("3000.00", "3000.81", "3000.61", "1999.00")]
    ids = [charge.pk for charge in charges]

    outcomes = deliver_all(ids)

    assert outcomes["error"] == 0, outcomes
    assert sum(outcomes.values()) == DELIVERIES
    assert outcomes[Outcome.BUSY] > 0  # they really did overlap
    with at(DAY):  # the next sweep resolves whatever was left unknown
        for charge_id in ids:
            charge_collect(charge_id, on=DAY)

    for charge in charges:
        charge.refresh_from_db()
        attempts = list(PaymentAttempt.objects.filter(charge=charge))
        assert len(attempts) == 1, charge
        (attempt,) = attempts
        assert attempt.status == AttemptStatus.SUCCEEDED
        assert charge.status == ChargeStatus.PAID
        assert len(GATEWAY.debits(attempt.idempotency_key)) == 1
        assert (
            JournalEntry.objects.filter(
                kind=EntryKind.PAYMENT, reference=f"attempt:{attempt.idempotency_key}"
            ).count()
            == 1
        )
    assert len(GATEWAY.debits()) == len(charges)
    assert unbalanced_entries() == []


def test_concurrent_declines_schedule_one_retry():
    charge = billed_charge("3000.51")

    outcomes = deliver_all([charge.pk])

    assert outcomes["error"] == 0
    assert outcomes[Outcome.FAILED] == 1
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED
    assert PaymentAttempt.objects.filter(charge=charge).count() == 1


def test_concurrent_charges_of_one_customer_share_the_prepaid_balance_exactly():
    from contracts.tests.factories import CustomerFactory
    from feemgmt.core.money import money
    from ledger.postings import post_prepayment

    customer = CustomerFactory()
    charges = [billed_charge("100.00", customer=customer) for _ in range(8)]
    post_prepayment(
        customer_id=customer.pk,
        amount=money("250.00", "CNY"),
        method="bank_transfer",
        reference="TOPUP",
        on=DAY,
    )
    start = threading.Barrier(len(charges))

    def deliver(charge_id):
        try:
            start.wait(timeout=30)
            with at(DAY):
                return charge_collect(charge_id, on=DAY)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(charges)) as pool:
        outcomes = list(pool.map(deliver, [c.pk for c in charges]))

    assert outcomes == [Outcome.PAID] * len(charges)
    applied = JournalEntry.objects.filter(kind=EntryKind.PREPAID_APPLIED)
    assert sum(line.amount for e in applied for line in e.lines.all() if line.amount > 0) == 250
    gateway = sum(a.amount.amount for a in PaymentAttempt.objects.all())
    assert gateway == 800 - 250
    assert unbalanced_entries() == []


def test_recording_no_answer_and_an_answer_at_once_take_their_locks_in_one_order():
    """One worker finds the gateway silent while a notification brings the answer for
    the same attempt. Each transaction is held right after its first row lock until the
    other has taken its own: were one to lock the attempt first and the other the
    charge first, PostgreSQL would find the cycle and kill one ("deadlock detected")."""
    from payments.adapters import AdapterError, CollectionResult
    from payments.models import attempt_key
    from payments.services.collection import record_result, record_unanswered

    charge = billed_charge("3000.00")
    attempt = PaymentAttempt.objects.create(
        charge=charge,
        number=1,
        idempotency_key=attempt_key(charge.pk, 1),
        method="sandbox",
        amount=charge.amount,
        status=AttemptStatus.UNKNOWN,
    )
    first_lock = {"unanswered": threading.Event(), "answered": threading.Event()}

    def hold_after_first_lock(me: str, other: str):
        def wrapper(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if "FOR UPDATE" in sql and not first_lock[me].is_set():
                first_lock[me].set()
                # Wait for the other to hold its first lock; if it is queued behind
                # ours (the same first row), it never will, and we go on.
                first_lock[other].wait(timeout=1.5)
            return result

        return wrapper

    def unanswered():
        try:
            with connection.execute_wrapper(hold_after_first_lock("unanswered", "answered")):
                return record_unanswered(attempt, AdapterError(detail="read timeout"), on=DAY)
        finally:
            connection.close()

    def answered():
        try:
            with connection.execute_wrapper(hold_after_first_lock("answered", "unanswered")):
                return record_result(attempt.pk, CollectionResult(status="pending"), on=DAY)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(unanswered), pool.submit(answered)]
        outcomes = [future.result(timeout=30) for future in futures]

    # Whichever went first, the answer stands and the silence only noted an error.
    assert set(outcomes) <= {Outcome.PENDING, Outcome.UNKNOWN}
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.PENDING
