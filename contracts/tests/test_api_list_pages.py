"""Contracts (newest first) and customers (by code) page by cursor: every row once,
filters kept along the links, and the same queries for 50 rows as for 10."""

from __future__ import annotations

import pytest

from contracts.models import Contract, Customer
from contracts.tests.factories import CustomerFactory, make_contract
from tests.pages import counts_rows, flat, list_queries, walk

pytestmark = pytest.mark.django_db


def test_contracts_walk_newest_first_and_keep_their_filter(api):
    mine = CustomerFactory()
    for i in range(9):
        make_contract(customer=mine if i % 3 else None)

    everything = walk(api, "/api/v1/contracts/", {"page_size": 2})
    filtered = walk(api, "/api/v1/contracts/", {"page_size": 2, "customer": mine.id})

    assert flat(everything) == list(Contract.objects.order_by("-id").values_list("id", flat=True))
    assert flat(filtered) == list(
        Contract.objects.filter(customer=mine).order_by("-id").values_list("id", flat=True)
    )
    assert len(filtered) == 3


def test_customers_walk_in_code_order(api):
    for code in ["K-2", "A-9", "K-10", "B-1", "Z-0", "A-10", "M-5"]:
        CustomerFactory(code=code)

    pages = walk(api, "/api/v1/customers/", {"page_size": 3})

    assert flat(pages) == list(Customer.objects.order_by("code").values_list("id", flat=True))
    assert [len(page) for page in pages] == [3, 3, 1]


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/api/v1/contracts/", lambda: make_contract()),
        ("/api/v1/customers/", lambda: CustomerFactory()),
    ],
    ids=["contracts", "customers"],
)
def test_a_page_costs_the_same_queries_for_50_rows_as_for_10(api, url, make):
    for _ in range(10):
        make()
    for_ten = list_queries(api, url)
    for _ in range(40):
        make()

    for_fifty = list_queries(api, url)

    assert len(for_fifty) == len(for_ten)
    assert counts_rows(for_fifty) == []
