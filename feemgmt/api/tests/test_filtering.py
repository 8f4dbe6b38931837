"""Filters by object answer what the schema promises: an id is an integer, and
one that names nothing lists nothing; only a malformed value is a 400."""

import datetime as dt

import pytest

from contracts.tests.factories import CustomerFactory, make_contract

pytestmark = pytest.mark.django_db

URL = "/api/v1/contracts/"


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.content
    return [row["id"] for row in answer.json()["results"]]


@pytest.fixture
def contract():
    return make_contract(customer=CustomerFactory(), service_start=dt.date(2026, 1, 1))


def test_an_id_that_names_no_customer_lists_nothing(api, contract):
    assert ids(api.get(URL, {"customer": contract.customer_id})) == [contract.id]
    assert ids(api.get(URL, {"customer": 999999})) == []
    assert ids(api.get(URL, {"customer": 0})) == []


def test_a_malformed_id_is_a_400_naming_the_parameter(api, contract):
    answer = api.get(URL, {"customer": "abc"})

    assert answer.status_code == 400
    assert answer.json().keys() == {"customer"}


def test_an_unknown_id_beside_a_bad_value_names_only_the_bad_one(api, contract):
    answer = api.get(URL, {"customer": 999999, "status": "lost"})

    assert answer.status_code == 400
    assert answer.json().keys() == {"status"}


def test_the_company_lists_use_the_same_filters(api):
    assert api.get("/api/v1/statements/", {"account": 999999}).json()["results"] == []
    assert api.get("/api/v1/statements/", {"account": "x"}).json().keys() == {"account"}


def test_page_size_given_twice_is_a_400(api, contract):
    answer = api.get(f"{URL}?page_size=1&page_size=2")

    assert answer.status_code == 400
    assert answer.json().keys() == {"page_size"}


def test_a_path_no_endpoint_serves_answers_json(api):
    answer = api.get("/api/v1/contracts/0.5/")

    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "Not found."}


def test_outside_the_api_the_404_page_stays_html(api):
    answer = api.get("/no-such-page/")

    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/html")
