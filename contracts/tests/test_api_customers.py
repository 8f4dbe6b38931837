"""/api/v1/customers/: what an integrator sends, what it gets back, and who may."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contracts.models import Customer
from contracts.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"
VALID_CREDIT_CODE = "91110000600037341L"
INVALID_CREDIT_CODE = "91110000600037341M"  # check character changed


def staff_with(django_user_model, *codenames, username="clerk"):
    user = django_user_model.objects.create_user(username=username, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def payload(**overrides):
    data = {
        "code": "C-100",
        "name": "上海示例科技有限公司",
        "email": "finance@example.com",
        "currency": "CNY",
        "credit_code": VALID_CREDIT_CODE,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_create_returns_the_customer_with_its_id(api):
    response = api.post(URL, payload(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    customer = Customer.objects.get()
    assert body["id"] == customer.id
    assert {k: body[k] for k in ("code", "name", "email", "currency", "credit_code")} == {
        "code": "C-100",
        "name": "上海示例科技有限公司",
        "email": "finance@example.com",
        "currency": "CNY",
        "credit_code": VALID_CREDIT_CODE,
    }
    assert customer.credit_code == VALID_CREDIT_CODE


def test_currency_and_credit_code_are_optional(api, settings):
    response = api.post(URL, payload(currency=None, credit_code=None), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["currency"] == settings.DEFAULT_CURRENCY
    assert response.json()["credit_code"] == ""


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"credit_code": INVALID_CREDIT_CODE}, "credit_code"),
        ({"credit_code": "1234"}, "credit_code"),
        ({"email": "not-an-email"}, "email"),
        ({"code": ""}, "code"),
        ({"name": None}, "name"),
    ],
    ids=[
        "unknown-currency",
        "bad-check-digit",
        "short-credit-code",
        "email",
        "blank-code",
        "missing-name",
    ],
)
def test_bad_input_is_refused_per_field_and_nothing_is_written(api, overrides, field):
    response = api.post(URL, payload(**overrides), format="json")

    assert response.status_code == 400
    body = response.json()
    assert field in body, body
    assert isinstance(body[field], list) and body[field][0]
    assert Customer.objects.count() == 0


def test_duplicate_code_is_refused_on_the_code_field(api):
    CustomerFactory(code="C-100")

    response = api.post(URL, payload(), format="json")

    assert response.status_code == 400
    assert "code" in response.json()
    assert Customer.objects.count() == 1


def test_duplicate_credit_code_is_refused_on_the_credit_code_field(api):
    CustomerFactory(credit_code=VALID_CREDIT_CODE)

    response = api.post(URL, payload(), format="json")

    assert response.status_code == 400
    assert "credit_code" in response.json()
    assert Customer.objects.count() == 1


def test_list_is_paginated_and_filterable_by_code(api):
    CustomerFactory(code="A-1")
    CustomerFactory(code="B-2")

    everything = api.get(URL).json()
    one = api.get(URL, {"code": "B-2"}).json()

    assert set(everything) == {"next", "previous", "results"}  # cursor pages: no count
    assert [c["code"] for c in everything["results"]] == ["A-1", "B-2"]
    assert [c["code"] for c in one["results"]] == ["B-2"]


def test_retrieve_and_partial_update(api):
    customer = CustomerFactory(name="Old name")

    assert api.get(f"{URL}{customer.id}/").json()["name"] == "Old name"
    response = api.patch(f"{URL}{customer.id}/", {"name": "New name"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "New name"
    customer.refresh_from_db()
    assert customer.name == "New name"


def test_full_update_replaces_the_details(api):
    customer = CustomerFactory()

    response = api.put(f"{URL}{customer.id}/", payload(code="C-200"), format="json")

    assert response.status_code == 200, response.json()
    customer.refresh_from_db()
    assert (customer.code, customer.credit_code) == ("C-200", VALID_CREDIT_CODE)


def test_update_with_an_invalid_credit_code_changes_nothing(api):
    customer = CustomerFactory(credit_code=VALID_CREDIT_CODE, name="Kept")

    response = api.patch(
        f"{URL}{customer.id}/",
        {"name": "Lost", "credit_code": INVALID_CREDIT_CODE},
        format="json",
    )

    assert response.status_code == 400
    assert "credit_code" in response.json()
    customer.refresh_from_db()
    assert (customer.name, customer.credit_code) == ("Kept", VALID_CREDIT_CODE)


def test_customers_cannot_be_deleted(api):
    customer = CustomerFactory()

    assert api.delete(f"{URL}{customer.id}/").status_code == 405
    assert Customer.objects.filter(pk=customer.pk).exists()


# --- Who may --------------------------------------------------------------------


def test_anonymous_is_refused():
    response = APIClient().get(URL)

    assert response.status_code in (401, 403)


def test_a_user_who_is_not_staff_is_refused(django_user_model):
    user = django_user_model.objects.create_user(username="outsider")
    user.user_permissions.set(Permission.objects.filter(codename="view_customer"))
    client = APIClient()
    client.force_login(user)

    assert client.get(URL).status_code == 403


def test_staff_need_the_model_permission_for_each_method(django_user_model):
    client = APIClient()
    client.force_login(staff_with(django_user_model, "view_customer"))

    assert client.get(URL).status_code == 200
    assert client.post(URL, payload(), format="json").status_code == 403
    assert Customer.objects.count() == 0


def test_staff_with_the_add_permission_may_create(django_user_model):
    client = APIClient()
    client.force_login(staff_with(django_user_model, "view_customer", "add_customer"))

    assert client.post(URL, payload(), format="json").status_code == 201


def test_token_authentication(django_user_model):
    user = staff_with(django_user_model, "view_customer", "add_customer")
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.get(URL).status_code == 200
    assert client.post(URL, payload(), format="json").status_code == 201


def test_an_unknown_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    assert client.get(URL).status_code in (401, 403)
