"""A collection task's charges collected together: the ordinary ones in queries that
do not grow with the batch, every other one with the outcome it has alone, and
nothing booked or debited twice when answers cross or the batch breaks."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from audit.models import AuditEvent
from billing.choices import ChargeStatus
from contracts.tests.factories import CustomerFactory
from feemgmt.core.locks import advisory_lock
from feemgmt.core.money import money
from ledger.choices import EntryKind
from ledger.models import JournalEntry
from ledger.postings import charge_subject, post_prepayment
from ledger.selectors import receivable_by_subject, unbalanced_entries
from payments.adapters import CollectionResult
from payments.adapters.base import AttemptStatus as Gateway
from payments.adapters.sandbox import GATEWAY, SandboxAdapter
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt, SentNotice
from payments.services.collection import (
    LOCK_NAMESPACE,
    Outcome,
    charge_collect,
    charges_collect,
    record_result,
)
from payments.tests.collection_helpers import DAY, billed_charge
from tests.clock import at


def batch(charges, day=DAY):
    with at(day):
        return charges_collect([c.pk for c in charges], on=day)


def alone(charge, day=DAY):
    with at(day):
        return charge_collect(charge.pk, on=day)


def events(action):
    return AuditEvent.objects.filter(action=action).count()


def state(charge):
    """What a person would look at: the charge, its attempts, its entries and alerts."""
    charge.refresh_from_db()
    subject = charge_subject(charge.pk)
    return {
        "status": charge.status,
        "next_attempt_on": charge.next_attempt_on,
        "attempts": [
            (a.number, a.status, a.amount, a.error_code, a.action_kind, bool(a.decided_at))
            for a in charge.attempts.order_by("number")
        ],
        "entries": sorted(
            JournalEntry.objects.filter(subject=subject).values_list("kind", "effective_on")
        ),
        "receivable": receivable_by_subject([subject]).get(subject),
        "alerts": sorted(Alert.objects.filter(subject=subject).values_list("kind", "status")),
        "audited": audited(charge),
    }


def audited(charge):
    """The audit actions about the charge and its attempts, one event on its own or
    one bulk event for many rows alike."""
    rows = {("billing.charge", charge.pk)} | {
        ("payments.paymentattempt", pk) for pk in charge.attempts.values_list("pk", flat=True)
    }
    actions = []
    for event in AuditEvent.objects.all():
        if event.bulk:
            touched = any((event.bulk["model"], pk) in rows for pk in event.bulk["ids"])
        else:
            touched = (event.object_type, int(event.object_id or 0)) in rows
        if touched:
            actions.append(event.action)
    return sorted(actions)


@pytest.mark.django_db
def test_ordinary_charges_are_paid_together_with_one_event_per_step(
    eager, django_capture_on_commit_callbacks
):
    charges = [billed_charge(f"{1000 + n}.00") for n in range(4)]

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = batch(charges)

    assert outcomes == Counter({Outcome.PAID: 4})
    for charge in charges:
        charge.refresh_from_db()
        (attempt,) = charge.attempts.all()
        assert charge.status == ChargeStatus.PAID and charge.next_attempt_on is None
        assert attempt.status == AttemptStatus.SUCCEEDED and attempt.decided_at
        assert attempt.amount == charge.amount and attempt.provider_reference
        assert GATEWAY.debits(attempt.idempotency_key) == [(attempt.idempotency_key, charge.amount)]
        assert receivable_by_subject([charge_subject(charge.pk)])[charge_subject(charge.pk)] == 0
        entry = JournalEntry.objects.get(kind=EntryKind.PAYMENT, subject=charge_subject(charge.pk))
        assert entry.reference == f"attempt:{attempt.idempotency_key}" and entry.effective_on == DAY
    assert unbalanced_entries() == []
    # one audit event per step for the whole batch, naming each gateway reference
    assert [events(a) for a in ("attempt.created", "attempt.succeeded", "charge.paid")] == [1, 1, 1]
    succeeded = AuditEvent.objects.get(action="attempt.succeeded")
    assert len(succeeded.changes["provider_reference"]) == 4
    # each customer gets a receipt, once
    assert SentNotice.objects.filter(kind="receipt").count() == 4 and len(mail.outbox) == 4
    # done: a repeat of the task changes nothing
    assert batch(charges) == Counter({Outcome.NOT_DUE: 4})
    assert len(GATEWAY.debits()) == 4


@pytest.mark.postgres  # SQLite, one process, writes a JSON answer per row
@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_for_five_charges_as_for_twenty_five():
    batch([billed_charge("10.00")])  # the clearing account exists from now on
    counts = []
    for size in (5, 25):
        charges = [billed_charge(f"{100 + n}.00") for n in range(size)]
        with CaptureQueriesContext(connection) as queries:
            assert batch(charges) == Counter({Outcome.PAID: size})
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 60, counts


@pytest.mark.django_db
def test_pending_answers_are_recorded_together_and_each_customer_is_told_how_to_pay(
    eager, django_capture_on_commit_callbacks
):
    charges = [billed_charge(f"{2000 + n}.00", method="bank_transfer") for n in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        assert batch(charges) == Counter({Outcome.PENDING: 3})

    for charge in charges:
        charge.refresh_from_db()
        (attempt,) = charge.attempts.all()
        assert attempt.status == AttemptStatus.PENDING and attempt.action_value
        assert attempt.provider_reference  # the remittance reference statements quote
        assert charge.status == ChargeStatus.PENDING
        assert charge.next_attempt_on == DAY + dt.timedelta(days=1)
    assert events("attempt.pending") == 1
    assert SentNotice.objects.filter(kind="payment_request").count() == 3
    assert len(mail.outbox) == 3


def _declined_yesterday(day):
    charge = billed_charge("3000.51", day=day - dt.timedelta(days=1))
    assert alone(charge, day - dt.timedelta(days=1)) == Outcome.FAILED
    return charge


def _waiting_since_yesterday(day):
    charge = billed_charge("3000.91", day=day - dt.timedelta(days=1))
    assert alone(charge, day - dt.timedelta(days=1)) == Outcome.PENDING
    return charge


def _holding_prepaid(day):
    charge = billed_charge("3000.00", day=day)
    post_prepayment(
        customer_id=charge.contract.customer_id,
        amount=money("1200.50", "CNY"),
        method="bank_transfer",
        reference=f"TOPUP-{charge.pk}",
        on=day,
    )
    return charge


SCENARIOS = {
    "declined": lambda day: billed_charge("3000.51", day=day),
    "no answer": lambda day: billed_charge("3000.61", day=day),  # timeout, then success
    "insufficient funds": lambda day: billed_charge("3000.52", day=day),
    "pending": lambda day: billed_charge("3000.91", day=day),
    "no mandate": lambda day: billed_charge("3000.00", method="auto_debit", day=day),
    "no adapter": lambda day: billed_charge("3000.00", method="wechat_pay", day=day),
    "retry of a decline": _declined_yesterday,
    "attempt still open": _waiting_since_yesterday,
    "prepaid credit": _holding_prepaid,
    "not due yet": lambda day: billed_charge("3000.00", day=day + dt.timedelta(days=3)),
}


@pytest.mark.django_db
def test_every_unusual_charge_ends_as_it_would_alone(settings):
    settings.PAYMENT_ADAPTERS = {
        **settings.PAYMENT_ADAPTERS,
        "wechat_pay": {"class": "payments.adapters.nowhere.Adapter", "options": {}},
    }
    day = DAY + dt.timedelta(days=1)
    twins = {name: (make(day), make(day)) for name, make in SCENARIOS.items()}
    ordinary = [billed_charge(f"{500 + n}.00", day=day) for n in range(3)]

    in_batch = batch([*ordinary, *(a for a, _b in twins.values())], day)
    outcomes = {name: alone(b, day) for name, (_a, b) in twins.items()}

    assert in_batch == Counter([Outcome.PAID] * 3 + list(outcomes.values()))
    for name, (a, b) in twins.items():
        assert state(a) == state(b), name
    assert {name: outcome for name, outcome in outcomes.items()} == {
        "declined": Outcome.FAILED,
        "no answer": Outcome.UNKNOWN,
        "insufficient funds": Outcome.FAILED,
        "pending": Outcome.PENDING,
        "no mandate": Outcome.BLOCKED,
        "no adapter": Outcome.BLOCKED,
        "retry of a decline": Outcome.FAILED,
        "attempt still open": Outcome.PENDING,
        "prepaid credit": Outcome.PAID,
        "not due yet": Outcome.NOT_DUE,
    }
    assert unbalanced_entries() == []


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [("700.00", Outcome.PAID), ("700.91", Outcome.NOT_DUE)],  # paid / pending at once
)
@pytest.mark.django_db
def test_a_notification_that_settles_an_attempt_during_its_call_is_booked_once(
    monkeypatch, eager, django_capture_on_commit_callbacks, answer, outcome
):
    charges = [billed_charge("701.00"), billed_charge(answer), billed_charge("702.00")]
    real = SandboxAdapter.collect

    def notified_at_once(self, request):
        result = real(self, request)
        if request.metadata["charge"] == str(charges[1].pk):
            # the gateway's notification that it was paid, handled by the web
            # process while the worker still waits for the call's own answer
            attempt = PaymentAttempt.objects.get(idempotency_key=request.idempotency_key)
            paid = CollectionResult(
                status=Gateway.SUCCEEDED, provider_reference="T-1", amount=request.amount
            )
            assert record_result(attempt.pk, paid, on=DAY) == Outcome.PAID
        return result

    monkeypatch.setattr(SandboxAdapter, "collect", notified_at_once)
    with django_capture_on_commit_callbacks(execute=True):
        assert batch(charges) == Counter([Outcome.PAID, Outcome.PAID, outcome])

    payments = JournalEntry.objects.filter(kind=EntryKind.PAYMENT)
    assert sorted(payments.values_list("subject", flat=True)) == sorted(
        charge_subject(c.pk) for c in charges
    )
    for charge in charges:
        charge.refresh_from_db()
        (attempt,) = charge.attempts.all()
        assert charge.status == ChargeStatus.PAID and attempt.status == AttemptStatus.SUCCEEDED
    assert SentNotice.objects.filter(kind="receipt").count() == 3
    assert unbalanced_entries() == []


@pytest.mark.django_db
def test_if_the_batch_breaks_the_task_collects_each_charge_alone_without_a_second_debit(
    monkeypatch,
):
    from payments.services.collection import batch as batch_module
    from payments.tasks import collect_charges_task

    charges = [billed_charge(f"{800 + n}.00") for n in range(3)]

    def broken(paid, *, on):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(batch_module, "_pay", broken)
    with at(DAY):
        outcomes = collect_charges_task.apply(args=([c.pk for c in charges], DAY.isoformat()))
    assert outcomes.get() == {Outcome.PAID: 3}

    for charge in charges:
        (attempt,) = charge.attempts.all()  # the batch's attempt, resolved by a query
        assert attempt.status == AttemptStatus.SUCCEEDED
        assert len(GATEWAY.debits(attempt.idempotency_key)) == 1
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 3
    assert unbalanced_entries() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gateways_are_called_outside_transactions_and_a_held_charge_is_busy(monkeypatch):
    charges = [billed_charge(f"{900 + n}.00", customer=CustomerFactory()) for n in range(3)]
    real = SandboxAdapter.collect
    inside = []

    def watched(self, request):
        inside.append(connection.in_atomic_block)
        return real(self, request)

    monkeypatch.setattr(SandboxAdapter, "collect", watched)
    taken, release = threading.Event(), threading.Event()

    def another_worker():
        try:
            with advisory_lock(LOCK_NAMESPACE, charges[0].pk) as held:
                assert held
                taken.set()
                release.wait(30)
        finally:
            connection.close()

    worker = threading.Thread(target=another_worker)
    worker.start()
    try:
        assert taken.wait(30)
        outcomes = batch(charges)
    finally:
        release.set()
        worker.join()

    assert outcomes == Counter({Outcome.PAID: 2, Outcome.BUSY: 1})
    assert inside == [False, False]
    assert not charges[0].attempts.exists()
    assert batch(charges[:1]) == Counter({Outcome.PAID: 1})  # the lock is free again

    # and the batch let go of its own: another worker can take every one of them
    taken_after = []

    def later_worker():
        try:
            for charge in charges:
                with advisory_lock(LOCK_NAMESPACE, charge.pk) as held:
                    taken_after.append(held)
        finally:
            connection.close()

    checker = threading.Thread(target=later_worker)
    checker.start()
    checker.join()
    assert taken_after == [True, True, True]
    assert unbalanced_entries() == []
