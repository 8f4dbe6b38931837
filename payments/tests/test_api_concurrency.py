"""The collection endpoints under real concurrency (PostgreSQL, one connection per
thread): simultaneous refunds never give back more than the payment collected, two
approvers decide a write-off once, and one customer ends with one active mandate
however many are recorded at the same moment."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEvent
from billing.choices import ChargeStatus
from contracts.tests.factories import CustomerFactory
from payments.choices import MandateStatus
from payments.models import Mandate, Refund
from payments.tests.test_api_attempts import collected, grant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def token_client(user) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def all_at_once(calls) -> list:
    """Run each call in its own thread (and connection), released together."""
    from django.db import connection

    results = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index, call):
        try:
            start.wait(timeout=30)
            results[index] = call()
        except BaseException as exc:  # surfaced by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = [r for r in results if r is None or isinstance(r, BaseException)]
    assert not errors, errors[:3]
    return results


def test_ten_refunds_at_once_never_give_back_more_than_was_collected(django_user_model):
    _charge, attempt = collected("3000.00")
    admin = django_user_model.objects.create_superuser("admin", "a@example.com", "pw")
    clients = [token_client(admin) for _ in range(10)]

    def refund(client):
        body = {"attempt": attempt.id, "amount": "500.00", "reason": "退款"}
        return lambda: client.post("/api/v1/refunds/", body, format="json")

    answers = all_at_once([refund(client) for client in clients])

    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] * 6 + [400] * 4
    assert all("amount" in a.json() for a in answers if a.status_code == 400)
    total = sum(refund.amount.amount for refund in Refund.objects.filter(attempt=attempt))
    assert total == Decimal("3000.00")


def test_two_approvers_at_once_decide_a_write_off_once(django_user_model):
    charge, _attempt = collected("3000.51")
    clerk = grant(
        django_user_model.objects.create_user("clerk", is_staff=True),
        "view_writeoffrequest",
        "add_writeoffrequest",
    )
    asked = token_client(clerk).post(
        "/api/v1/write-offs/", {"charge": charge.id, "reason": "坏账"}, format="json"
    )
    assert asked.status_code == 201
    url = f"/api/v1/write-offs/{asked.json()['id']}/approve/"
    managers = [
        grant(
            django_user_model.objects.create_user(f"manager{n}", is_staff=True),
            "view_writeoffrequest",
            "approve_writeoffrequest",
        )
        for n in range(2)
    ]
    clients = [token_client(manager) for manager in managers]

    answers = all_at_once([lambda c=c: c.post(url, {}, format="json") for c in clients])

    assert sorted(a.status_code for a in answers) == [200, 409]
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.WRITTEN_OFF
    assert AuditEvent.objects.filter(action="write_off.approved").count() == 1


def test_mandates_recorded_at_once_leave_one_active_per_customer(django_user_model):
    customer = CustomerFactory(code="M-RACE")
    admin = django_user_model.objects.create_superuser("admin", "a@example.com", "pw")

    def record(n):
        client = token_client(admin)
        body = {
            "customer": customer.id,
            "reference": f"MNDT-RACE-{n}",
            "signed_on": "2026-03-01",
            "debtor_name": "示例",
            "debtor_iban": "DE89370400440532013000",
        }
        return lambda: client.post("/api/v1/mandates/", body, format="json")

    answers = all_at_once([record(n) for n in range(5)])

    assert sorted(a.status_code for a in answers) == [201] + [400] * 4
    assert all(set(a.json()) == {"customer"} for a in answers if a.status_code == 400)
    assert Mandate.objects.filter(customer=customer, status=MandateStatus.ACTIVE).count() == 1
