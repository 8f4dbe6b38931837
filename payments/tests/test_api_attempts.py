"""Payment attempts over the API: newest first by cursor, filtered by charge,
status, method and day, a detail that says what can still be refunded, the same
queries for 3 or 30 rows, and a key scoped to one customer sees only its own.

The helpers here (charges paid or failed through the sandbox, staff clients with
given permissions, scoped keys) serve the other collection API tests too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from contracts.tests.factories import CustomerFactory
from integrations.services import api_key_create
from integrations.tests.conftest import integrator, key_client
from payments.models import PaymentAttempt
from payments.services.collection import charge_collect
from payments.tests.collection_helpers import DAY, billed_charge
from tests.clock import at

pytestmark = pytest.mark.django_db

URL = "/api/v1/payment-attempts/"


def collected(amount: str = "3000.00", *, customer=None, method: str = "sandbox", day=DAY):
    """A billed charge collected once through the sandbox on ``day`` (``.51``
    declines, anything else succeeds): (charge, its attempt)."""
    charge = billed_charge(amount, customer=customer, method=method, day=day)
    with at(day):
        charge_collect(charge.pk, on=day)
    charge.refresh_from_db()
    return charge, PaymentAttempt.objects.get(charge=charge)


def grant(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def staff_client(django_user_model, username: str, *codenames: str) -> APIClient:
    user = django_user_model.objects.create_user(username, f"{username}@example.com", "pw")
    user.is_staff = True
    user.save()
    grant(user, *codenames)
    client = APIClient()
    client.force_login(user)
    client.user = user
    return client


def scoped_client(django_user_model, customer, *codenames: str, username="erp") -> APIClient:
    """A key of an integrator (集成方) scoped to ``customer``, its user given
    ``codenames`` on top of the group's permissions."""
    user = grant(integrator(django_user_model, username), *codenames)
    _key, secret = api_key_create(name=f"{username} key", user=user, customer=customer)
    client = key_client(secret)
    client.user = user
    return client


def results(answer) -> list[dict]:
    assert answer.status_code == 200, answer.content
    return answer.json()["results"]


def lists_nothing(answer, parameter: str) -> bool:
    """A filter by an object the caller cannot see (unknown, or another
    customer's) shows no row: refused under the parameter, or an empty page."""
    if answer.status_code == 400:
        return set(answer.json()) == {parameter}
    return answer.status_code == 200 and answer.json()["results"] == []


def test_attempts_newest_first_filtered_by_charge_status_method_and_day(api):
    _paid, ok = collected("3000.00")
    failed_charge, failed = collected("3000.51")
    _march, later = collected("100.00", day=dt.date(2026, 3, 20))

    assert [a["id"] for a in results(api.get(URL))] == [later.id, failed.id, ok.id]
    row = results(api.get(URL, {"charge": failed_charge.id}))
    assert [a["id"] for a in row] == [failed.id]
    assert row[0] | {"status": "failed", "error_code": "card_declined"} == row[0]
    assert row[0]["amount"] == "3000.51" and row[0]["currency"] == "CNY"
    assert [a["id"] for a in results(api.get(URL, {"status": "succeeded"}))] == [later.id, ok.id]
    assert results(api.get(URL, {"method": "alipay"})) == []
    assert len(results(api.get(URL, {"method": "sandbox"}))) == 3
    march_20 = {"created_after": "2026-03-20", "created_before": "2026-03-20"}
    assert [a["id"] for a in results(api.get(URL, march_20))] == [later.id]
    assert [a["id"] for a in results(api.get(URL, {"created_before": "2026-03-19"}))] == [
        failed.id,
        ok.id,
    ]


def test_bad_filters_are_a_400_naming_them(api):
    assert api.get(URL, {"status": "lost"}).json().keys() == {"status"}
    assert api.get(URL, {"created_after": "March"}).json().keys() == {"created_after"}
    assert lists_nothing(api.get(URL, {"charge": 999999}), "charge")


def test_pages_follow_the_cursor_without_repeating_a_row(api):
    ids = [collected(f"{100 + n}.00", day=DAY + dt.timedelta(days=n))[1].id for n in range(5)]
    page = api.get(URL, {"page_size": 2}).json()
    seen = [a["id"] for a in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [a["id"] for a in page["results"]]
    assert seen == list(reversed(ids))


def test_the_detail_says_what_can_still_be_refunded(api):
    _charge, ok = collected("3000.00")
    _failed_charge, failed = collected("3000.51")

    detail = api.get(f"{URL}{ok.id}/").json()
    assert detail["refundable"] == "3000.00" and detail["idempotency_key"] == ok.idempotency_key
    assert api.get(f"{URL}{failed.id}/").json()["refundable"] is None
    assert api.get(f"{URL}999999/").status_code == 404


def test_the_list_costs_the_same_queries_for_3_or_30_attempts(api):
    def count(n: int) -> int:
        for i in range(n):
            collected(f"{200 + i}.00")
        with CaptureQueriesContext(connection) as queries:
            assert len(results(api.get(URL, {"page_size": 100}))) == PaymentAttempt.objects.count()
        return len(queries)

    assert count(3) == count(27)


def test_staff_without_the_view_permission_are_refused(django_user_model):
    clerk = staff_client(django_user_model, "clerk")
    assert clerk.get(URL).status_code == 403


def test_a_scoped_key_sees_only_its_customers_attempts(django_user_model):
    mine, other = CustomerFactory(code="MINE"), CustomerFactory(code="OTHER")
    my_charge, my_attempt = collected("3000.00", customer=mine)
    other_charge, other_attempt = collected("3000.00", customer=other)
    scoped = scoped_client(django_user_model, mine)

    assert [a["id"] for a in results(scoped.get(URL))] == [my_attempt.id]
    assert scoped.get(f"{URL}{my_attempt.id}/").status_code == 200
    assert scoped.get(f"{URL}{other_attempt.id}/").status_code == 404
    refused = scoped.get(URL, {"charge": other_charge.id})
    unknown = scoped.get(URL, {"charge": 999999})
    assert lists_nothing(refused, "charge") and lists_nothing(unknown, "charge")
    assert refused.status_code == unknown.status_code
    assert lists_nothing(scoped.get(URL, {"customer": other.id}), "customer")
    assert [a["id"] for a in results(scoped.get(URL, {"charge": my_charge.id}))] == [my_attempt.id]
