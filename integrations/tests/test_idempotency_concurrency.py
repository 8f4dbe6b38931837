"""Idempotency-Key under real concurrency (PostgreSQL, one connection per thread):
the unique (owner, key) row lets exactly one of many identical POSTs run."""

import threading
import time

import pytest

from contracts import services as contract_services
from contracts.models import Contract
from contracts.tests.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/contracts/"
REQUESTS = 100
# PostgreSQL's max_connections is 100 on these machines, the test's own included:
# at most this many requests hold a connection at the same time.
CONNECTIONS = 40


def body(customer):
    return {
        "customer": customer.id,
        "number": "HT-CONCURRENT",
        "service_start": "2026-03-01",
        "payment_method": "bank_transfer",
        "fees": [{"kind": "recurring", "cycle": "monthly", "amount": "1200.00"}],
    }


def in_thread(call, results, index, start, connections):
    from django.db import connection

    try:
        start.wait(timeout=30)
        with connections:
            results[index] = call()
    except BaseException as exc:  # surfaced by the test
        results[index] = exc
    finally:
        connection.close()


@pytest.fixture
def slow_create(monkeypatch):
    """The contract takes a moment to create, so the others arrive meanwhile."""
    create = contract_services.contract_create

    def slow(**kwargs):
        time.sleep(0.3)
        return create(**kwargs)

    monkeypatch.setattr(contract_services, "contract_create", slow)


def test_100_concurrent_identical_posts_with_one_key_create_one_contract(make_key, slow_create):
    customer = CustomerFactory()
    _key, client = make_key()
    secret = client._credentials["HTTP_AUTHORIZATION"]
    from rest_framework.test import APIClient

    def send():
        own = APIClient()
        own.credentials(HTTP_AUTHORIZATION=secret)
        return own.post(URL, body(customer), format="json", HTTP_IDEMPOTENCY_KEY="one-key")

    results = [None] * REQUESTS
    start, connections = threading.Barrier(REQUESTS), threading.BoundedSemaphore(CONNECTIONS)
    threads = [
        threading.Thread(target=in_thread, args=(send, results, i, start, connections))
        for i in range(REQUESTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    errors = [r for r in results if isinstance(r, BaseException) or r is None]
    assert not errors, errors[:3]
    assert Contract.objects.filter(number="HT-CONCURRENT").count() == 1
    codes = [r.status_code for r in results]
    assert set(codes) <= {201, 409}, codes
    ran = [r for r in results if r.status_code == 201 and not r.has_header("Idempotent-Replayed")]
    assert len(ran) == 1
    replayed = [r for r in results if r.has_header("Idempotent-Replayed")]
    assert all(r.json() == ran[0].json() for r in replayed)
    assert codes.count(409) >= 1  # some arrived while the first was running


def test_a_second_request_while_the_first_runs_is_a_409_then_a_replay(make_key):
    customer = CustomerFactory()
    _key, client = make_key()
    inside, release = threading.Event(), threading.Event()
    create = contract_services.contract_create

    def held(**kwargs):
        inside.set()
        release.wait(timeout=30)
        return create(**kwargs)

    results = [None]
    original = contract_services.contract_create
    contract_services.contract_create = held
    try:

        def first():
            return client.post(URL, body(customer), format="json", HTTP_IDEMPOTENCY_KEY="held")

        thread = threading.Thread(
            target=in_thread,
            args=(first, results, 0, threading.Barrier(1), threading.BoundedSemaphore(1)),
        )
        thread.start()
        assert inside.wait(timeout=30)
        during = client.post(URL, body(customer), format="json", HTTP_IDEMPOTENCY_KEY="held")
        release.set()
        thread.join(timeout=30)
    finally:
        contract_services.contract_create = original

    assert during.status_code == 409
    assert results[0].status_code == 201
    after = client.post(URL, body(customer), format="json", HTTP_IDEMPOTENCY_KEY="held")
    assert after.status_code == 201 and after["Idempotent-Replayed"] == "true"
    assert Contract.objects.count() == 1
