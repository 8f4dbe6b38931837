"""The contract changelist at any size: the same queries for 50 rows as for 10, and
no count of the whole table."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import Contract
from contracts.tests.factories import CustomerFactory, make_contract
from feemgmt.core import admin_lists

pytestmark = pytest.mark.django_db

URL = reverse("admin:contracts_contract_changelist")


def changelist(client, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    return response, [q["sql"] for q in queries.captured_queries]


def contracts(count: int):
    for _ in range(count):
        make_contract(customer=CustomerFactory())


def test_the_contract_admin_does_not_count_the_whole_table():
    model_admin = admin.site._registry[Contract]

    assert model_admin.show_full_result_count is False
    assert model_admin.paginator is admin_lists.EstimatedCountPaginator


def test_a_page_costs_the_same_queries_for_50_contracts_as_for_10(admin_client):
    contracts(10)
    _page, for_ten = changelist(admin_client)
    contracts(40)

    page, for_fifty = changelist(admin_client)

    assert len(page.context["cl"].result_list) == 50
    assert len(for_fifty) == len(for_ten)
    customer_names = {c.customer.name for c in page.context["cl"].result_list}
    assert all(name in page.text for name in customer_names)


@pytest.mark.postgres
def test_the_unfiltered_list_takes_its_total_from_the_table_statistics(admin_client, monkeypatch):
    contracts(25)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contracts_contract")
    monkeypatch.setattr(admin_lists, "EXACT_UP_TO", 10)  # as if it were a large table

    page, sql = changelist(admin_client)

    assert [q for q in sql if "count(" in q.lower()] == []
    assert page.context["cl"].result_count == 25
