"""The charge changelist at any size: the same queries for 50 rows as for 10, no count
of the whole table, and a date hierarchy found by index probes with the same links
as Django's own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Charge
from billing.services import billing_run
from contracts.tests.factories import make_contract
from feemgmt.core import admin_lists
from tests.clock import at

pytestmark = pytest.mark.django_db

URL = reverse("admin:billing_charge_changelist")


def contracts_from(start: dt.date, count: int, on: dt.date):
    with at(on):
        return [make_contract(service_start=start, signed_on=on) for _ in range(count)]


def changelist(client, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    return response, [q["sql"] for q in queries.captured_queries]


def counts(sql: list[str]) -> list[str]:
    return [q for q in sql if "count(" in q.lower()]


def test_the_registered_charge_admin_keeps_the_large_table_settings():
    model_admin = admin.site._registry[Charge]  # collection's subclass of ChargeAdmin

    assert isinstance(model_admin, admin_lists.LargeTableAdminMixin)
    assert model_admin.show_full_result_count is False
    assert model_admin.get_paginator(None, Charge.objects.all(), 100).__class__ is (
        admin_lists.EstimatedCountPaginator
    )


def test_a_page_costs_the_same_queries_for_50_charges_as_for_10(admin_client):
    contracts_from(dt.date(2026, 1, 1), 10, dt.date(2026, 1, 10))
    assert Charge.objects.count() == 10
    _page, for_ten = changelist(admin_client)
    contracts_from(dt.date(2026, 1, 1), 40, dt.date(2026, 1, 10))

    page, for_fifty = changelist(admin_client)

    assert len(page.context["cl"].result_list) == 50
    assert len(for_fifty) == len(for_ten)


@pytest.mark.postgres
def test_the_unfiltered_list_takes_its_total_from_the_table_statistics(admin_client, monkeypatch):
    contracts_from(dt.date(2026, 1, 1), 30, dt.date(2026, 1, 10))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_charge")
    monkeypatch.setattr(admin_lists, "EXACT_UP_TO", 10)  # as if it were a large table

    page, sql = changelist(admin_client)

    assert counts(sql) == []
    assert page.context["cl"].result_count == 30
    assert len(page.context["cl"].result_list) == 30


@pytest.mark.postgres
def test_a_filtered_list_counts_at_most_a_bounded_number_of_rows(admin_client, monkeypatch):
    contracts_from(dt.date(2026, 1, 1), 30, dt.date(2026, 1, 10))
    monkeypatch.setattr(admin_lists, "EXACT_UP_TO", 10)

    page, sql = changelist(admin_client, {"status__exact": "pending"})
    few, _sql = changelist(admin_client, {"q": Charge.objects.first().contract.number})

    (count,) = counts(sql)
    assert "LIMIT 11" in count  # never more rows than that
    assert page.context["cl"].result_count >= 11  # the planner's estimate beyond it
    assert len(page.context["cl"].result_list) == 30
    assert few.context["cl"].result_count == 1  # under the bound: exact


def test_the_date_hierarchy_probes_find_what_django_finds():
    contracts_from(dt.date(2025, 11, 1), 2, dt.date(2025, 11, 3))
    contracts_from(dt.date(2026, 2, 14), 1, dt.date(2026, 2, 14))
    with at(dt.date(2026, 3, 20)):
        billing_run(on=dt.date(2026, 3, 20))
    plain = Charge.objects.all()
    probed = admin_lists.with_date_probes(Charge.objects.all())

    for kind in ("year", "month", "day"):
        assert probed.dates("due_date", kind) == list(plain.dates("due_date", kind)), kind
    assert probed.filter(due_date__year=2026).dates("due_date", "month", "DESC") == [
        dt.date(2026, 3, 1),
        dt.date(2026, 2, 1),
        dt.date(2026, 1, 1),
    ]
    assert probed.filter(status="paid").dates("due_date", "year") == []


def test_the_charge_list_links_the_years_it_has(admin_client):
    contracts_from(dt.date(2025, 12, 1), 1, dt.date(2025, 12, 1))
    with at(dt.date(2026, 1, 5)):
        billing_run(on=dt.date(2026, 1, 5))

    page, sql = changelist(admin_client)

    assert "due_date__year=2025" in page.text and "due_date__year=2026" in page.text
    assert not [q for q in sql if "DISTINCT" in q and "due_date" in q]


def test_each_cell_is_labelled_with_its_column_and_headers_are_built_once(
    admin_client, monkeypatch
):
    from unfold.templatetags import unfold_list

    contracts_from(dt.date(2026, 1, 1), 3, dt.date(2026, 1, 10))
    unfold_headers = unfold_list.result_headers.original
    calls = []

    def counted(cl):
        calls.append(cl)
        return unfold_headers(cl)

    monkeypatch.setattr(unfold_list, "result_headers", admin_lists.cached_headers(counted))

    page, _sql = changelist(admin_client)

    assert len(calls) == 1  # not once per row
    assert page.text.count('data-label="due date"') == 3
