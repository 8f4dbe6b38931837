"""/api/v1/contracts/{id}/sign/ and /terminate/: what each does to the contract and its
charges, what each refuses, and who may call them."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from billing.models import Charge
from contracts.services import FeeInput
from contracts.tests.factories import CustomerFactory, make_contract
from contracts.tests.test_api_contracts import TODAY, URL, counts, payload
from tests.clock import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory(currency="CNY")


def _signing_fees():
    return [
        FeeInput(kind="signing", amount="5000", treatment="fee"),
        FeeInput(kind="recurring", amount="1200", cycle="monthly"),
    ]


def test_signing_after_service_start_activates_and_bills_the_signing_fee(api, customer):
    contract = make_contract(
        customer=customer, service_start=dt.date(2026, 3, 1), fees=_signing_fees()
    )

    with at(TODAY):
        response = api.post(f"{URL}{contract.id}/sign/", {"signed_on": "2026-03-10"})

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["signed_on"]) == ("active", "2026-03-10")
    signing = Charge.objects.get(contract=contract, kind="signing")
    assert (signing.due_date, str(signing.amount.amount)) == (TODAY, "5000.00")
    assert Charge.objects.filter(contract=contract, kind="recurring").count() == 1


def test_signing_before_service_start_leaves_it_signed(api, customer):
    contract = make_contract(
        customer=customer, service_start=dt.date(2026, 4, 1), fees=_signing_fees()
    )

    with at(TODAY):
        response = api.post(f"{URL}{contract.id}/sign/", {"signed_on": "2026-03-09"})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "signed"
    assert Charge.objects.filter(contract=contract, kind="signing").count() == 1
    assert Charge.objects.filter(contract=contract, kind="recurring").count() == 0


def test_signing_twice_is_a_conflict(api, customer):
    contract = make_contract(customer=customer)

    with at(TODAY):
        first = api.post(f"{URL}{contract.id}/sign/", {"signed_on": "2026-03-10"})
        second = api.post(f"{URL}{contract.id}/sign/", {"signed_on": "2026-03-10"})

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["detail"]
    contract.refresh_from_db()
    assert contract.signed_on == TODAY


@pytest.mark.parametrize(
    "body", [{}, {"signed_on": "10/03/2026"}, {"signed_on": "2026-03-11"}], ids=str
)
def test_a_bad_signing_date_is_refused(api, customer, body):
    contract = make_contract(customer=customer)

    with at(TODAY):
        response = api.post(f"{URL}{contract.id}/sign/", body, format="json")

    assert response.status_code == 400
    assert "signed_on" in response.json()
    contract.refresh_from_db()
    assert contract.status == "draft"
    assert not Charge.objects.filter(contract=contract).exists()


# --- Terminate --------------------------------------------------------------------


def test_terminate_ends_the_service_on_the_given_day(api, customer):
    with at(TODAY):
        contract = make_contract(customer=customer, signed_on=dt.date(2026, 1, 5))

        response = api.post(f"{URL}{contract.id}/terminate/", {"end_date": "2026-03-15"})

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["service_end"]) == (
        "terminated",
        "2026-03-15",
    )
    assert response.json()["terminated_at"]


@pytest.mark.parametrize(
    "body", [{}, {"end_date": "2026-13-01"}, {"end_date": "2026-01-04"}], ids=str
)
def test_a_bad_end_date_is_refused(api, customer, body):
    with at(TODAY):
        contract = make_contract(customer=customer, signed_on=dt.date(2026, 1, 5))

        response = api.post(f"{URL}{contract.id}/terminate/", body, format="json")

    assert response.status_code == 400
    assert "end_date" in response.json()
    contract.refresh_from_db()
    assert (contract.status, contract.service_end) == ("active", None)


def test_a_draft_cannot_be_terminated(api, customer):
    contract = make_contract(customer=customer)

    response = api.post(f"{URL}{contract.id}/terminate/", {"end_date": "2026-03-15"})

    assert response.status_code == 409
    assert response.json()["detail"]


# --- Who may ----------------------------------------------------------------------


def _staff_client(django_user_model, *codenames):
    user = django_user_model.objects.create_user(username="clerk", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = APIClient()
    client.force_login(user)
    return client


def test_anonymous_is_refused(customer):
    response = APIClient().post(URL, payload(customer), format="json")

    assert response.status_code in (401, 403)
    assert counts() == (0, 0)


def test_signing_needs_the_change_permission(django_user_model, customer):
    contract = make_contract(customer=customer)
    clerk = _staff_client(django_user_model, "view_contract", "add_contract")

    with at(TODAY):
        response = clerk.post(f"{URL}{contract.id}/sign/", {"signed_on": "2026-03-10"})

    assert response.status_code == 403
    contract.refresh_from_db()
    assert contract.status == "draft"


def test_staff_with_the_change_permission_may_sign(django_user_model, customer):
    contract = make_contract(customer=customer)
    clerk = _staff_client(django_user_model, "view_contract", "change_contract")

    with at(TODAY):
        response = clerk.post(f"{URL}{contract.id}/sign/", {"signed_on": "2026-03-10"})

    assert response.status_code == 200, response.json()
