"""The portal's pages as a customer reads them, and their query counts: a page costs
the same number of queries for 2 rows as for 30."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Charge
from contracts.services import FeeInput
from contracts.tests.factories import make_contract, monthly
from feemgmt.core.money import Money
from ledger.postings import post_prepayment
from payments.services.collection import charge_collect
from payments.tests.collection_helpers import DAY, billed_charge
from portal import selectors
from tests.clock import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _on_the_due_day():
    with at(DAY):
        yield


def test_overview_shows_what_is_owed_held_next_and_overdue(portal, customer, charge):
    post_prepayment(
        customer_id=customer.pk, amount=Money("300.00", "CNY"), method="sandbox",
        reference="top-up-1", on=DAY,
    )  # fmt: skip
    deposit = make_contract(
        customer=customer, service_start=DAY, signed_on=DAY, payment_method="sandbox",
        fees=[FeeInput(kind="signing", amount="500.00", treatment="deposit")],
    ).charges.get()  # fmt: skip
    assert charge_collect(deposit.pk, on=DAY) == "paid"
    late = billed_charge("99.00", customer=customer, day=dt.date(2026, 1, 5))
    Charge.objects.filter(pk=late.pk).update(status="overdue", next_attempt_on=None)

    page = portal.get(reverse("portal:overview")).content.decode()

    assert 'data-testid="owed-CNY">1299.00 CNY<' in page
    assert "300.00 CNY" in page  # prepaid
    assert "500.00 CNY" in page  # deposit held
    assert "1200.00 CNY" in page and f"On {DAY:%Y-%m-%d}" in page  # next deduction
    assert reverse("portal:charge", args=[late.pk]) in page  # overdue, with pay now
    assert "Nothing is overdue" not in page


def test_next_deduction_is_the_next_billed_fee_when_nothing_is_open(customer):
    contract = make_contract(
        customer=customer, service_start=dt.date(2026, 4, 1), signed_on=DAY,
        fees=[monthly("2500.00")],
    )  # fmt: skip
    nxt = selectors.next_deduction(customer, on=DAY)
    assert nxt is not None
    assert (nxt.on, nxt.amount, nxt.contract, nxt.charge) == (
        dt.date(2026, 4, 1), Money("2500.00", "CNY"), contract, None,
    )  # fmt: skip


def test_overview_with_nothing_yet(portal):
    page = portal.get(reverse("portal:overview")).content.decode()
    assert "Nothing is scheduled" in page
    assert "Nothing is overdue" in page
    assert "0.00 CNY" in page


def test_charges_are_filtered_by_status_and_due_date(portal, customer):
    march = billed_charge("100.00", customer=customer, day=dt.date(2026, 3, 2))
    may = billed_charge("200.00", customer=customer, day=dt.date(2026, 5, 4))
    Charge.objects.filter(pk=may.pk).update(status="paid")

    def listed(**query):
        page = portal.get(reverse("portal:charges"), query).context["page"]
        return [charge.pk for charge in page.object_list]

    assert listed() == [may.pk, march.pk]
    assert listed(status="paid") == [may.pk]
    assert listed(date_from="2026-04-01") == [may.pk]
    assert listed(date_to="2026-03-31") == [march.pk]
    response = portal.get(
        reverse("portal:charges"), {"date_from": "2026-06-01", "date_to": "2026-01-01"}
    )
    assert "before its start" in response.content.decode()


def test_charges_are_paged_and_the_filters_kept_across_pages(portal, customer):
    contract = make_contract(customer=customer, service_start=DAY, signed_on=DAY)
    fee = contract.fees.get()
    Charge.objects.bulk_create(
        Charge(
            contract=contract, fee=fee, kind="recurring", due_date=DAY - dt.timedelta(days=n),
            period_start=DAY - dt.timedelta(days=n), period_end=DAY - dt.timedelta(days=n),
            amount=Money(Decimal("10.00"), "CNY"), status="failed",
        )
        for n in range(1, 26)
    )  # fmt: skip
    first = portal.get(reverse("portal:charges"), {"status": "failed"})
    assert len(first.context["page"].object_list) == 20
    assert "?status=failed&amp;page=2" in first.content.decode()
    second = portal.get(reverse("portal:charges"), {"status": "failed", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_payments_list_and_filter(portal, customer):
    paid = billed_charge("150.00", customer=customer)
    portal.post(reverse("portal:charge_pay", args=[paid.pk]))
    pending = billed_charge("150.91", customer=customer)
    portal.post(reverse("portal:charge_pay", args=[pending.pk]))

    def listed(**query):
        page = portal.get(reverse("portal:payments"), query).context["page"]
        return [attempt.charge_id for attempt in page.object_list]

    assert sorted(listed()) == sorted([paid.pk, pending.pk])
    assert listed(status="succeeded") == [paid.pk]
    assert listed(status="pending") == [pending.pk]
    assert listed(date_from="2026-03-03") == []


def test_contracts_show_their_fee_schedules(portal, customer, charge):
    page = portal.get(reverse("portal:contracts")).content.decode()
    assert charge.contract.number in page
    assert "1200.00 CNY" in page
    detail = portal.get(reverse("portal:contract", args=[charge.contract_id])).content.decode()
    assert "Fee schedule" in detail
    assert reverse("portal:charge", args=[charge.pk]) in detail


# --- Query counts -----------------------------------------------------------------------


def _rows(customer, count):
    for n in range(count):
        charge = billed_charge(f"{100 + n}.00", customer=customer)
        Charge.objects.filter(pk=charge.pk).update(status="overdue")


def _queries(portal, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert portal.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", ["overview", "contracts", "charges", "payments", "mandates"])
def test_a_page_costs_the_same_queries_for_2_rows_as_for_30(portal, customer, name):
    url = reverse(f"portal:{name}")
    _rows(customer, 2)
    few = _queries(portal, url)
    _rows(customer, 28)
    assert _queries(portal, url) == few


def test_selector_query_counts(customer, charge, django_assert_num_queries):
    with django_assert_num_queries(2):  # currencies, then one currency's balances
        selectors.customer_balances(customer)
    with django_assert_num_queries(1):
        selectors.overdue_charges(customer)
    with django_assert_num_queries(2):  # the contracts, their fees
        [list(contract.fees.all()) for contract in selectors.contract_list(customer)]
    with django_assert_num_queries(1):
        [c.contract.number for c in selectors.charge_list(customer)]
    with django_assert_num_queries(1):
        [a.charge.contract.number for a in selectors.payment_list(customer)]
    with django_assert_num_queries(2):
        selectors.mandate_page(customer)
    with django_assert_num_queries(1):
        selectors.charge_detail(charge)
