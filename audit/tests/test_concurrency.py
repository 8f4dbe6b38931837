"""Many writers at once on real PostgreSQL: the chain lock keeps one chain.

Each writer reads the head and appends head + 1. Without the lock two writers
read the same head and one of them would fail on the unique sequence (or, with
no constraint, fork the chain); with it they queue at the lock, which each holds
until its transaction commits.
"""

import random
import threading
import time

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from audit.services import audit_record
from audit.verification import audit_chain_verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
EVENTS_EACH = 50


def in_threads(target, count):
    barrier = threading.Barrier(count)
    errors = []

    def run(index):
        try:
            barrier.wait(timeout=10)
            target(index)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return errors


def test_concurrent_writers_make_one_gapless_chain():
    def writer(index):
        rng = random.Random(index)
        for n in range(EVENTS_EACH):
            with transaction.atomic():
                # work before the event, as a service does, so transactions overlap
                time.sleep(rng.choice([0, 0, 0.001, 0.003]))
                audit_record(action="load.test", object_type="thread", object_id=f"{index}:{n}")
                if rng.random() < 0.2:
                    time.sleep(0.002)  # the lock is held until commit, sleeping included

    errors = in_threads(writer, THREADS)
    assert not errors, errors
    total = THREADS * EVENTS_EACH
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, total + 1))
    assert AuditEvent.objects.values("object_id").distinct().count() == total
    result = audit_chain_verify()
    assert result.ok, result.problems
    assert result.count == total


def test_a_second_writer_waits_for_the_first_to_commit():
    """The lock, not the unique constraint, orders writers: the second blocks until
    the first commits, then appends after it."""
    first_recorded = threading.Event()
    release_first = threading.Event()
    second_done = threading.Event()
    sequences = {}

    def first(_):
        with transaction.atomic():
            sequences["first"] = audit_record(action="first").sequence
            first_recorded.set()
            release_first.wait(timeout=10)

    def second(_):
        first_recorded.wait(timeout=10)
        sequences["second"] = audit_record(action="second").sequence
        second_done.set()

    def run(index):
        (first if index == 0 else second)(index)

    def release_after_checking():
        time.sleep(0.5)
        assert not second_done.is_set(), "the second writer did not wait for the lock"
        release_first.set()

    checker_errors = []

    def checker():
        try:
            release_after_checking()
        except AssertionError as exc:
            checker_errors.append(exc)
            release_first.set()

    watcher = threading.Thread(target=checker)
    watcher.start()
    errors = in_threads(run, 2)
    watcher.join()
    assert not errors and not checker_errors, errors + checker_errors
    assert sequences == {"first": 1, "second": 2}
    assert audit_chain_verify().ok
