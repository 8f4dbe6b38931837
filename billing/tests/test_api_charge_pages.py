"""/api/v1/charges/ is paged by cursor: newest due first, every charge once, filters
kept along the links, and a page costs the same queries at any size of table."""

import base64
import datetime as dt
import json

import pytest

from billing.choices import ChargeStatus
from billing.models import Charge
from billing.services import billing_run
from contracts.services import FeeInput
from contracts.tests.factories import CustomerFactory, make_contract
from tests.clock import at
from tests.pages import counts_rows, flat, get_ok, list_queries, walk

pytestmark = pytest.mark.django_db

URL = "/api/v1/charges/"
MONTHLY = [FeeInput(kind="recurring", amount="100", cycle="monthly")]


def signed(start, on, **kwargs):
    with at(on):
        return make_contract(service_start=start, signed_on=on, fees=MONTHLY, **kwargs)


def bill_through(day):
    with at(day):
        billing_run(on=day)


@pytest.fixture
def book():
    """Five contracts (two of one customer), each with January to June charges: five
    charges due on each 1st, so pages end in the middle of a due date; January and
    February of three of them paid."""
    customer = CustomerFactory()
    contracts = [
        signed(dt.date(2026, 1, 1), dt.date(2026, 1, 1), customer=customer if i < 2 else None)
        for i in range(5)
    ]
    bill_through(dt.date(2026, 6, 1))
    early = Charge.objects.filter(contract__in=contracts[:3], due_date__lt=dt.date(2026, 3, 1))
    assert early.update(status=ChargeStatus.PAID) == 6
    assert Charge.objects.count() == 30
    return contracts


def newest_due_first(queryset) -> list[int]:
    return list(queryset.order_by("-due_date", "-id").values_list("id", flat=True))


def test_walking_the_links_gives_every_charge_once_newest_due_first(api, book):
    pages = walk(api, URL, {"page_size": 4})

    assert [len(page) for page in pages] == [4] * 7 + [2]
    assert flat(pages) == newest_due_first(Charge.objects.all())


@pytest.mark.parametrize(
    "params",
    [
        {"status": "pending", "due_date_after": "2026-02-01", "due_date_before": "2026-05-01"},
        {"status": "paid"},
        {"kind": "recurring", "due_date_before": "2026-03-01"},
    ],
    ids=["status and due range", "status", "kind and due"],
)
def test_filters_are_kept_along_the_cursor(api, book, params):
    expected = newest_due_first(
        Charge.objects.filter(
            **{
                {"due_date_after": "due_date__gte", "due_date_before": "due_date__lte"}.get(k, k): v
                for k, v in params.items()
            }
        )
    )

    pages = walk(api, URL, {**params, "page_size": 3})

    assert len(pages) > 1
    assert flat(pages) == expected


def test_a_contracts_and_a_customers_charges_page_through(api, book):
    contract = book[0]

    by_contract = walk(api, URL, {"contract": contract.id, "page_size": 4})
    by_customer = walk(api, URL, {"customer": contract.customer_id, "page_size": 5})

    assert flat(by_contract) == newest_due_first(Charge.objects.filter(contract=contract))
    assert flat(by_customer) == newest_due_first(
        Charge.objects.filter(contract__customer=contract.customer_id)
    )
    assert len(flat(by_customer)) == 12


def test_charges_billed_while_paging_neither_repeat_nor_skip_a_row(api, book):
    before = newest_due_first(Charge.objects.all())
    first = get_ok(api, URL, {"page_size": 10})
    bill_through(dt.date(2026, 7, 1))  # five new charges, all ahead of the first page

    rest = []
    page = first
    while page["next"]:
        page = get_ok(api, page["next"])
        rest += [row["id"] for row in page["results"]]

    assert [row["id"] for row in first["results"]] + rest == before


def test_an_empty_list_is_one_page_without_links(api):
    assert get_ok(api, URL) == {"next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    "page_size",
    ["abc", "1.5", "0", "-3", "501", "", "５", ["5", "10"]],
    ids=["word", "decimal", "zero", "negative", "too many", "empty", "fullwidth", "array"],
)
def test_a_bad_page_size_is_a_400_naming_it(api, book, page_size):
    response = api.get(URL, {"page_size": page_size})

    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


def test_the_page_size_is_bounded_at_500(api, book):
    assert len(get_ok(api, URL, {"page_size": "500"})["results"]) == 30
    assert len(get_ok(api, URL, {"page_size": "1"})["results"]) == 1


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        _cursor({"r": 0, "k": [123]}),
        _cursor({"r": 0, "k": ["someday", 1]}),
        _cursor({"r": 0, "k": ["2026-02-01", None]}),
        _cursor(["2026-02-01", 1]),
    ],
    ids=["garbage", "short key", "not a date", "null", "not an object"],
)
def test_a_forged_cursor_is_a_400_naming_it(api, book, cursor):
    response = api.get(URL, {"cursor": cursor})

    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


def test_a_page_costs_the_same_queries_for_50_rows_as_for_10_and_never_counts(api):
    for _ in range(10):
        signed(dt.date(2026, 6, 1), dt.date(2026, 6, 15))
    assert Charge.objects.count() == 10
    for_ten = list_queries(api, URL)
    for _ in range(20):  # two charges each: May and June
        signed(dt.date(2026, 5, 1), dt.date(2026, 6, 15))
    assert Charge.objects.count() == 50

    for_fifty = list_queries(api, URL)
    filtered = list_queries(api, URL, {"status": "pending", "due_date_after": "2026-05-01"})

    assert len(for_fifty) == len(for_ten)
    assert len(filtered) == len(for_ten)
    assert counts_rows(for_fifty) == [] and counts_rows(filtered) == []
    assert len(get_ok(api, URL)["results"]) == 50


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC"])
def test_the_list_renders_each_charge_as_the_serializer_does(api, settings, zone):
    """The list is built from .values() rows (feemgmt/api/rows.py): the same JSON as
    ChargeSerializer, one-off, prorated and yen charges included."""
    from billing.api.serializers import ChargeSerializer

    with at(dt.date(2026, 1, 10)):
        make_contract(
            service_start=dt.date(2026, 1, 15),
            signed_on=dt.date(2026, 1, 10),
            fees=[FeeInput(kind="signing", amount="500", treatment="fee"), *MONTHLY],
        )
        make_contract(
            service_start=dt.date(2026, 1, 1), signed_on=dt.date(2026, 1, 10), currency="JPY"
        )
    bill_through(dt.date(2026, 2, 1))  # January 15-31, prorated
    settings.TIME_ZONE = zone  # times are shown in it ("Z" for UTC, as DRF does)
    listed = get_ok(api, URL)["results"]

    charges = Charge.objects.select_related("contract").order_by("-due_date", "-id")
    assert listed == json.loads(json.dumps(ChargeSerializer(charges, many=True).data))
    assert listed[0]["created_at"].endswith("Z") == (zone == "UTC")
    assert {c["kind"] for c in listed} == {"signing", "recurring"}
    assert any(c["prorated"] for c in listed) and any(c["currency"] == "JPY" for c in listed)
