"""/api/v1/charges/: the charges the billing run created, read-only and filterable."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billing.choices import ChargeStatus
from billing.models import Charge
from billing.services import billing_run
from contracts.services import FeeInput
from contracts.tests.factories import CustomerFactory, make_contract
from tests.clock import at

pytestmark = pytest.mark.django_db

URL = "/api/v1/charges/"
CHARGE_KEYS = {
    "id",
    "contract",
    "fee",
    "kind",
    "period_start",
    "period_end",
    "due_date",
    "amount",
    "currency",
    "status",
}


def signed(*, start, on, fees, **kwargs):
    """A contract signed on ``on`` (also "today"), billed up to that day by signing."""
    with at(on):
        return make_contract(service_start=start, signed_on=on, fees=fees, **kwargs)


@pytest.fixture
def contract():
    """Signed 2026-01-10, service from 2026-01-15, billed through 2026-03-01:
    a signing fee, then January (prorated), February and March."""
    return signed(
        start=dt.date(2026, 1, 15),
        on=dt.date(2026, 1, 10),
        fees=[
            FeeInput(kind="signing", amount="500", treatment="fee"),
            FeeInput(kind="recurring", amount="3100", cycle="monthly"),
        ],
    )


def bill_through(day):
    with at(day):
        billing_run(on=day)


def ids(response):
    assert response.status_code == 200, response.json()
    return [charge["id"] for charge in response.json()["results"]]


def test_a_charge_has_the_documented_shape(api, contract):
    bill_through(dt.date(2026, 3, 1))
    january = Charge.objects.get(contract=contract, period_start=dt.date(2026, 1, 15))
    signing = Charge.objects.get(contract=contract, kind="signing")

    results = {c["id"]: c for c in api.get(URL, {"contract": contract.id}).json()["results"]}

    assert all(set(charge) >= CHARGE_KEYS for charge in results.values())
    assert {k: results[january.id][k] for k in CHARGE_KEYS} == {
        "id": january.id,
        "contract": contract.id,
        "fee": january.fee_id,
        "kind": "recurring",
        "period_start": "2026-01-15",
        "period_end": "2026-01-31",
        "due_date": "2026-01-15",
        "amount": "1700.00",  # 3100 x 17/31 days
        "currency": "CNY",
        "status": "pending",
    }
    assert results[january.id]["prorated"] is True
    assert results[january.id]["contract_number"] == contract.number
    assert results[january.id]["customer"] == contract.customer_id
    assert {k: results[signing.id][k] for k in ("period_start", "period_end", "amount")} == {
        "period_start": None,
        "period_end": None,
        "amount": "500.00",
    }
    detail = api.get(f"{URL}{january.id}/").json()
    # the detail adds how to pay by bank transfer (reconciliation's tests cover it)
    assert detail.pop("payment_reference") is None and detail.pop("pay_to") is None
    assert detail == results[january.id]


def test_jpy_amounts_are_shown_without_minor_digits(api):
    contract = signed(
        start=dt.date(2026, 1, 1),
        on=dt.date(2026, 1, 1),
        currency="JPY",
        fees=[FeeInput(kind="recurring", amount="120000", cycle="monthly")],
    )

    (charge,) = api.get(URL, {"contract": contract.id}).json()["results"]

    assert (charge["amount"], charge["currency"]) == ("120000", "JPY")


def test_list_is_paginated_newest_due_first(api, contract):
    bill_through(dt.date(2026, 3, 1))

    first = api.get(URL, {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert set(first) == {"next", "previous", "results"}  # cursor pages: no count
    assert first["previous"] is None
    due = [c["due_date"] for c in first["results"] + second["results"]]
    assert due == ["2026-03-01", "2026-02-01", "2026-01-15", "2026-01-10"]
    assert second["next"] is None
    assert api.get(second["previous"]).json()["results"] == first["results"]


def test_filter_by_contract_and_customer(api, contract):
    other = signed(
        start=dt.date(2026, 1, 1),
        on=dt.date(2026, 1, 1),
        customer=CustomerFactory(),
        fees=[FeeInput(kind="service_start", amount="10")],
    )
    mine = list(Charge.objects.filter(contract=contract).values_list("id", flat=True))

    assert sorted(ids(api.get(URL, {"contract": contract.id}))) == sorted(mine)
    assert sorted(ids(api.get(URL, {"customer": contract.customer_id}))) == sorted(mine)
    assert ids(api.get(URL, {"customer": other.customer_id})) == [
        Charge.objects.get(contract=other).id
    ]


def test_filter_by_status_and_kind(api, contract):
    signing = Charge.objects.get(contract=contract, kind="signing")
    Charge.objects.filter(pk=signing.pk).update(status=ChargeStatus.PAID)

    assert ids(api.get(URL, {"status": "paid"})) == [signing.id]
    assert ids(api.get(URL, {"kind": "signing"})) == [signing.id]
    assert signing.id not in ids(api.get(URL, {"status": "pending"}))
    assert ids(api.get(URL, {"kind": "signing", "status": "pending"})) == []


def test_filter_by_due_date_exactly_and_by_inclusive_range(api, contract):
    bill_through(dt.date(2026, 3, 1))
    by_due = dict(Charge.objects.values_list("due_date", "id"))

    def due(**params):
        return sorted(
            dt.date.fromisoformat(c["due_date"]) for c in api.get(URL, params).json()["results"]
        )

    assert ids(api.get(URL, {"due_date": "2026-02-01"})) == [by_due[dt.date(2026, 2, 1)]]
    assert due(due_date_after="2026-01-15", due_date_before="2026-02-01") == [
        dt.date(2026, 1, 15),
        dt.date(2026, 2, 1),
    ]
    assert due(due_date_after="2026-02-01") == [dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    assert due(due_date_before="2026-01-14") == [dt.date(2026, 1, 10)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"kind": "bonus"}, "kind"),
        ({"due_date": "31/01/2026"}, "due_date"),
        ({"due_date_after": "soon"}, "due_date_after"),
        ({"due_date_before": "2026-02-30"}, "due_date_before"),
        ({"contract": "abc"}, "contract"),
        ({"customer": "x"}, "customer"),
    ],
    ids=str,
)
def test_a_bad_filter_is_refused_per_parameter(api, contract, params, field):
    response = api.get(URL, params)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("params", [{"contract": "999999"}, {"customer": "999999"}], ids=str)
def test_an_id_that_names_nothing_lists_no_charge(api, contract, params):
    response = api.get(URL, params)

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_charges_are_read_only(api, contract):
    charge = Charge.objects.filter(contract=contract).first()
    before = (charge.status, charge.amount)

    assert api.post(URL, {"contract": contract.id}, format="json").status_code == 405
    assert api.patch(f"{URL}{charge.id}/", {"status": "paid"}, format="json").status_code == 405
    assert api.delete(f"{URL}{charge.id}/").status_code == 405
    charge.refresh_from_db()
    assert (charge.status, charge.amount) == before


def _charge_list_queries(api) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(URL)
    assert response.status_code == 200
    return len(queries)


def test_listing_charges_costs_the_same_queries_for_60_as_for_3(api, django_assert_max_num_queries):
    monthly = [FeeInput(kind="recurring", amount="100", cycle="monthly")]
    for _ in range(3):  # one charge each: June
        signed(start=dt.date(2026, 6, 1), on=dt.date(2026, 6, 15), fees=monthly)
    assert Charge.objects.count() == 3
    for_three = _charge_list_queries(api)
    for _ in range(19):  # three charges each: April to June
        signed(start=dt.date(2026, 4, 1), on=dt.date(2026, 6, 15), fees=monthly)
    assert Charge.objects.count() == 60

    with django_assert_max_num_queries(for_three):
        response = api.get(URL)

    assert len(response.json()["results"]) == 50
    assert len({c["contract_number"] for c in response.json()["results"]}) > 3


# --- Who may --------------------------------------------------------------------------


def test_anonymous_is_refused(contract):
    assert APIClient().get(URL).status_code in (401, 403)


def test_a_user_who_is_not_staff_is_refused(django_user_model, contract):
    user = django_user_model.objects.create_user(username="customer")
    user.user_permissions.set(Permission.objects.filter(codename="view_charge"))
    client = APIClient()
    client.force_login(user)

    assert client.get(URL).status_code == 403


def test_staff_need_the_view_permission(django_user_model, contract):
    user = django_user_model.objects.create_user(username="clerk", is_staff=True)
    client = APIClient()
    client.force_login(user)

    assert client.get(URL).status_code == 403
    user.user_permissions.set(Permission.objects.filter(codename="view_charge"))
    client.force_login(django_user_model.objects.get(pk=user.pk))  # fresh permission cache
    assert client.get(URL).status_code == 200


def test_token_authentication(django_user_model, contract):
    user = django_user_model.objects.create_user(username="integrator", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_charge"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    response = client.get(URL, {"contract": contract.id})

    assert response.status_code == 200
    assert len(response.json()["results"]) == Charge.objects.filter(contract=contract).count()
