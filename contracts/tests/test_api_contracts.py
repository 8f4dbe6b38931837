"""/api/v1/contracts/: drafts with nested fees, edits while draft, the list (sign and
terminate: test_api_contract_lifecycle.py)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import Contract, Fee
from contracts.services import FeeInput
from contracts.tests.factories import CustomerFactory, make_contract
from tests.clock import at

pytestmark = pytest.mark.django_db

URL = "/api/v1/contracts/"
TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def customer():
    return CustomerFactory(currency="CNY")


def fees_payload():
    return [
        {"kind": "signing", "amount": "5000.00", "treatment": "deposit"},
        {"kind": "service_start", "amount": "800"},
        {"kind": "recurring", "cycle": "monthly", "amount": "1200.00"},
    ]


def payload(owner, **overrides):
    data = {
        "customer": owner.id,
        "number": "HT-2026-001",
        "currency": "CNY",
        "service_start": "2026-03-01",
        "service_end": "2027-02-28",
        "alignment": "calendar",
        "proration": "daily",
        "payment_method": "bank_transfer",
        "fees": fees_payload(),
    }
    data.update(overrides)
    return data


def with_fee(customer, index, **changes):
    fees = fees_payload()
    fees[index] = {k: v for k, v in {**fees[index], **changes}.items() if v is not None}
    return payload(customer, fees=fees)


def counts():
    return Contract.objects.count(), Fee.objects.count()


def error_at(body, *path):
    """The messages at ``path`` in an error body. Fee errors are keyed by the fee's
    index as a string ({"fees": {"2": {"amount": [...]}}}), whether a serializer or a
    service refused the fee, so integrators handle one shape."""
    node = body
    for key in path:
        node = node[key if isinstance(key, str) else str(key)]
    assert isinstance(node, list) and node and all(isinstance(m, str) and m for m in node), body
    return node


def fee_rows(contract):
    return sorted(
        (fee.kind, str(fee.amount.amount), fee.cycle, fee.treatment)
        for fee in Fee.objects.filter(contract=contract)
    )


# --- Create --------------------------------------------------------------------


def test_create_returns_a_draft_with_its_fees(api, customer):
    response = api.post(URL, payload(customer), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    contract = Contract.objects.get()
    assert body["id"] == contract.id
    assert {k: body[k] for k in ("customer", "number", "currency", "status", "signed_on")} == {
        "customer": customer.id,
        "number": "HT-2026-001",
        "currency": "CNY",
        "status": "draft",
        "signed_on": None,
    }
    assert (body["service_start"], body["service_end"]) == ("2026-03-01", "2027-02-28")
    assert (body["alignment"], body["proration"], body["payment_method"]) == (
        "calendar",
        "daily",
        "bank_transfer",
    )
    fees = [{k: v for k, v in fee.items() if k != "id"} for fee in body["fees"]]
    assert fees == [
        {"kind": "signing", "amount": "5000.00", "cycle": None, "treatment": "deposit"},
        {"kind": "service_start", "amount": "800.00", "cycle": None, "treatment": None},
        {"kind": "recurring", "amount": "1200.00", "cycle": "monthly", "treatment": None},
    ]
    assert sorted(fee["id"] for fee in body["fees"]) == sorted(
        contract.fees.values_list("id", flat=True)
    )


def test_currency_defaults_to_the_customers(api):
    customer = CustomerFactory(currency="USD")
    data = payload(customer)
    del data["currency"], data["service_end"], data["alignment"], data["proration"]

    response = api.post(URL, data, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["currency"], body["service_end"], body["alignment"], body["proration"]) == (
        "USD",
        None,
        "calendar",
        "daily",
    )


def test_jpy_amounts_have_no_minor_digits(api, customer):
    data = payload(customer, currency="JPY")
    data["fees"] = [{"kind": "recurring", "cycle": "monthly", "amount": "1200"}]

    response = api.post(URL, data, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["fees"][0]["amount"] == "1200"


def test_jpy_amount_with_decimals_is_refused(api, customer):
    data = payload(customer, currency="JPY")
    data["fees"] = [{"kind": "recurring", "cycle": "monthly", "amount": "1200.50"}]

    response = api.post(URL, data, format="json")

    assert response.status_code == 400
    error_at(response.json(), "fees", 0, "amount")
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda c: payload(c, currency="XYZ"), ["currency"]),
        (lambda c: with_fee(c, 2, amount="-1200.00"), ["fees", 2, "amount"]),
        (lambda c: with_fee(c, 2, amount="0"), ["fees", 2, "amount"]),
        (lambda c: with_fee(c, 2, amount="12.3.4"), ["fees", 2, "amount"]),
        (lambda c: with_fee(c, 2, amount="abc"), ["fees", 2, "amount"]),
        (lambda c: with_fee(c, 2, amount="1200.001"), ["fees", 2, "amount"]),
        (lambda c: with_fee(c, 2, amount=0.1 + 0.2), ["fees", 2, "amount"]),
        (lambda c: with_fee(c, 2, amount="NaN"), ["fees", 2, "amount"]),
        (lambda c: with_fee(c, 2, amount="1e20"), ["fees", 2, "amount"]),
        (lambda c: with_fee(c, 2, cycle=None), ["fees", 2, "cycle"]),
        (lambda c: with_fee(c, 2, cycle="weekly"), ["fees", 2, "cycle"]),
        (lambda c: with_fee(c, 1, cycle="monthly"), ["fees", 1, "cycle"]),
        (lambda c: with_fee(c, 0, treatment=None), ["fees", 0, "treatment"]),
        (lambda c: with_fee(c, 1, treatment="fee"), ["fees", 1, "treatment"]),
        (lambda c: with_fee(c, 0, kind="bonus"), ["fees", 0, "kind"]),
        (lambda c: payload(c, service_end="2026-02-28"), ["service_end"]),
        (lambda c: payload(c, service_start="2026-02-30"), ["service_start"]),
        (lambda c: payload(c, fees=[]), ["fees"]),
        (lambda c: {k: v for k, v in payload(c).items() if k != "fees"}, ["fees"]),
        (lambda c: payload(c, customer=999_999), ["customer"]),
        (lambda c: payload(c, payment_method="cheque"), ["payment_method"]),
        (lambda c: payload(c, alignment="weekly"), ["alignment"]),
        (lambda c: payload(c, proration="hourly"), ["proration"]),
    ],
    ids=[
        "unknown-currency",
        "negative-amount",
        "zero-amount",
        "amount-12.3.4",
        "amount-abc",
        "too-many-decimals",
        "float-with-noise",
        "amount-nan",
        "amount-too-large",
        "recurring-without-cycle",
        "unknown-cycle",
        "cycle-on-service-start-fee",
        "signing-without-treatment",
        "treatment-on-service-start-fee",
        "unknown-kind",
        "end-before-start",
        "impossible-date",
        "empty-fees",
        "missing-fees",
        "unknown-customer",
        "unknown-payment-method",
        "unknown-alignment",
        "unknown-proration",
    ],
)
def test_bad_input_is_refused_per_field_and_nothing_is_written(api, customer, change, path):
    response = api.post(URL, change(customer), format="json")

    assert response.status_code == 400
    error_at(response.json(), *path)
    assert counts() == (0, 0)


def test_a_duplicate_number_is_refused_on_the_number_field(api, customer):
    make_contract(customer=customer, number="HT-2026-001")
    before = counts()

    response = api.post(URL, payload(customer), format="json")

    assert response.status_code == 400
    assert "already exists" in response.json()["number"][0]
    assert counts() == before


# --- Read -------------------------------------------------------------------------


def test_list_is_paginated_and_filterable_by_customer_and_status(api, customer):
    other = CustomerFactory()
    draft = make_contract(customer=customer)
    with at(TODAY):
        signed = make_contract(customer=customer, signed_on=TODAY)
    make_contract(customer=other)

    everything = api.get(URL).json()
    mine = api.get(URL, {"customer": customer.id}).json()
    mine_draft = api.get(URL, {"customer": customer.id, "status": "draft"}).json()
    active = api.get(URL, {"status": "active"}).json()

    assert set(everything) == {"next", "previous", "results"}  # cursor pages: no count
    assert [c["id"] for c in everything["results"]] == sorted(
        (c["id"] for c in everything["results"]), reverse=True
    )  # newest first
    assert len(everything["results"]) == 3
    assert {c["id"] for c in mine["results"]} == {draft.id, signed.id}
    assert [c["id"] for c in mine_draft["results"]] == [draft.id]
    assert [c["id"] for c in active["results"]] == [signed.id]


def test_an_unknown_filter_value_is_refused(api):
    assert "status" in api.get(URL, {"status": "lost"}).json()
    assert api.get(URL, {"customer": "abc"}).status_code == 400


def test_retrieve_shows_the_fees(api, customer):
    contract = make_contract(
        customer=customer,
        fees=[FeeInput(kind="signing", amount="300", treatment="prepayment")],
    )

    body = api.get(f"{URL}{contract.id}/").json()

    assert body["number"] == contract.number
    assert [(f["kind"], f["amount"], f["treatment"]) for f in body["fees"]] == [
        ("signing", "300.00", "prepayment")
    ]


def _contract_list_queries(api) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(URL)
    assert response.status_code == 200
    return len(queries)


def test_listing_contracts_costs_the_same_queries_for_30_as_for_3(
    api, django_assert_max_num_queries
):
    three_fees = [
        FeeInput(kind="signing", amount="100", treatment="fee"),
        FeeInput(kind="service_start", amount="200"),
        FeeInput(kind="recurring", amount="300", cycle="quarterly"),
    ]
    for _ in range(3):
        make_contract(fees=three_fees)
    for_three = _contract_list_queries(api)
    for _ in range(27):
        make_contract(fees=three_fees)

    with django_assert_max_num_queries(for_three):
        response = api.get(URL)

    assert len(response.json()["results"]) == 30
    assert all(len(c["fees"]) == 3 for c in response.json()["results"])


# --- Update ----------------------------------------------------------------------


def test_a_draft_can_be_edited_and_its_fees_replaced(api, customer):
    contract = make_contract(customer=customer, number="HT-OLD")

    response = api.patch(
        f"{URL}{contract.id}/",
        {"number": "HT-NEW", "fees": [{"kind": "recurring", "cycle": "annual", "amount": "9"}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["number"] == "HT-NEW"
    assert [(f["cycle"], f["amount"]) for f in response.json()["fees"]] == [("annual", "9.00")]
    assert fee_rows(contract) == [("recurring", "9.00", "annual", "")]


def test_a_patch_without_fees_keeps_them(api, customer):
    contract = make_contract(customer=customer)
    before = fee_rows(contract)

    response = api.patch(f"{URL}{contract.id}/", {"payment_method": "alipay"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["payment_method"] == "alipay"
    assert fee_rows(contract) == before


def test_a_full_update_replaces_terms_and_fees(api, customer):
    contract = make_contract(customer=customer)

    response = api.put(f"{URL}{contract.id}/", payload(customer), format="json")

    assert response.status_code == 200, response.json()
    contract.refresh_from_db()
    assert (contract.number, contract.service_start) == ("HT-2026-001", dt.date(2026, 3, 1))
    assert len(fee_rows(contract)) == 3


def test_a_bad_edit_of_a_draft_writes_nothing(api, customer):
    contract = make_contract(customer=customer, number="HT-KEEP")
    before = fee_rows(contract)

    response = api.patch(
        f"{URL}{contract.id}/",
        {"number": "HT-LOST", "fees": [{"kind": "recurring", "amount": "10"}]},
        format="json",
    )

    assert response.status_code == 400
    error_at(response.json(), "fees", 0, "cycle")
    contract.refresh_from_db()
    assert contract.number == "HT-KEEP"
    assert fee_rows(contract) == before


def test_the_fees_of_a_signed_contract_cannot_be_edited(api, customer):
    with at(TODAY):
        contract = make_contract(customer=customer, signed_on=TODAY)
    before = fee_rows(contract)

    response = api.patch(
        f"{URL}{contract.id}/",
        {"fees": [{"kind": "recurring", "cycle": "monthly", "amount": "1.00"}]},
        format="json",
    )

    assert response.status_code == 400
    assert "only draft contracts can be edited" in response.json()["detail"]
    assert fee_rows(contract) == before


def test_contracts_cannot_be_deleted(api, customer):
    contract = make_contract(customer=customer)

    assert api.delete(f"{URL}{contract.id}/").status_code == 405
    assert Contract.objects.filter(pk=contract.pk).exists()


# --- Sign -----------------------------------------------------------------------------


def test_the_list_renders_each_contract_as_the_serializer_does(api, customer):
    """The list is built from .values() rows (feemgmt/api/rows.py): the same JSON as
    ContractSerializer, with the fees, their empty cycle or treatment as null."""
    import json

    from contracts.api.serializers import ContractSerializer

    make_contract(
        customer=customer,
        fees=[
            FeeInput(kind="signing", amount="300", treatment="prepayment"),
            FeeInput(kind="recurring", amount="100", cycle="monthly"),
        ],
        currency="JPY",
    )
    with at(TODAY):
        make_contract(customer=customer, signed_on=TODAY)

    listed = api.get(URL).json()["results"]

    contracts = Contract.objects.prefetch_related("fees").order_by("-id")
    assert listed == json.loads(json.dumps(ContractSerializer(contracts, many=True).data))
    assert [len(c["fees"]) for c in listed] == [1, 2]
