"""A key scoped to one customer sees and creates only that customer's objects, on
every endpoint: others' ids are 404 (never 403, never data), naming another
customer's object in a create is a 400 on the field as for an unknown id, and the
company's own data (bank side, risk rules) is refused."""

import datetime as dt

import pytest

from alerts.models import Alert
from billing.models import Charge
from contracts.models import Contract
from contracts.tests.factories import CustomerFactory, make_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    """Two customers with a signed contract each (and their charges), and an
    alert for each plus a company-wide one."""
    mine, other = CustomerFactory(code="MINE"), CustomerFactory(code="OTHER")
    contracts = {
        customer.code: make_contract(
            customer=customer, service_start=dt.date(2026, 1, 1), signed_on=dt.date(2026, 1, 1)
        )
        for customer in (mine, other)
    }
    alerts = {
        code: Alert.objects.create(kind="overdue_long", subject=code, customer=c, message="m")
        for code, c in (("MINE", mine), ("OTHER", other), ("ALL", None))
    }
    return {"mine": mine, "other": other, "contracts": contracts, "alerts": alerts}


@pytest.fixture
def scoped(book, make_key):
    _key, client = make_key(customer=book["mine"])
    return client


def ids(answer):
    assert answer.status_code == 200, answer.content
    data = answer.json()
    return {row["id"] for row in (data["results"] if isinstance(data, dict) else data)}


def test_customers_only_its_own_and_no_new_ones(scoped, book):
    mine, other = book["mine"], book["other"]
    assert ids(scoped.get("/api/v1/customers/")) == {mine.id}
    assert scoped.get(f"/api/v1/customers/{mine.id}/").status_code == 200
    assert scoped.get(f"/api/v1/customers/{other.id}/").status_code == 404
    patch = scoped.patch(f"/api/v1/customers/{other.id}/", {"name": "x"}, format="json")
    assert patch.status_code == 404
    created = scoped.post(
        "/api/v1/customers/", {"code": "NEW", "name": "n", "email": "n@example.com"}
    )
    assert created.status_code == 403


def test_contracts_listed_shown_and_acted_on_for_its_customer_only(scoped, book):
    mine, other = book["contracts"]["MINE"], book["contracts"]["OTHER"]
    assert ids(scoped.get("/api/v1/contracts/")) == {mine.id}
    # another customer's id lists nothing, as an unknown id does
    assert ids(scoped.get(f"/api/v1/contracts/?customer={book['other'].id}")) == set()
    assert ids(scoped.get("/api/v1/contracts/?customer=999999")) == set()
    assert ids(scoped.get(f"/api/v1/contracts/?customer={book['mine'].id}")) == {mine.id}
    assert scoped.get(f"/api/v1/contracts/{other.id}/").status_code == 404
    terminate = scoped.post(
        f"/api/v1/contracts/{other.id}/terminate/", {"end_date": "2026-12-31"}, format="json"
    )
    assert terminate.status_code == 404
    assert Contract.objects.get(pk=other.pk).terminated_at is None


def test_a_contract_for_another_customer_is_refused_as_if_it_did_not_exist(scoped, book):
    def create(customer_id, number):
        return scoped.post(
            "/api/v1/contracts/",
            {
                "customer": customer_id,
                "number": number,
                "service_start": "2026-03-01",
                "payment_method": "bank_transfer",
                "fees": [{"kind": "recurring", "cycle": "monthly", "amount": "100.00"}],
            },
            format="json",
        )

    refused = create(book["other"].id, "N-OTHER")
    unknown = create(999999, "N-UNKNOWN")
    assert refused.status_code == unknown.status_code == 400
    assert refused.json()["customer"] == [
        unknown.json()["customer"][0].replace("999999", str(book["other"].id))
    ]
    assert create(book["mine"].id, "N-MINE").status_code == 201
    assert not Contract.objects.filter(number__in=["N-OTHER", "N-UNKNOWN"]).exists()


def test_charges_of_its_customer_only(scoped, book):
    own = set(Charge.objects.filter(contract__customer=book["mine"]).values_list("id", flat=True))
    others = Charge.objects.filter(contract__customer=book["other"]).values_list("id", flat=True)
    assert own and others
    assert ids(scoped.get("/api/v1/charges/")) == own
    assert scoped.get(f"/api/v1/charges/{others[0]}/").status_code == 404
    assert scoped.get(f"/api/v1/charges/{min(own)}/").status_code == 200
    other_contract = book["contracts"]["OTHER"].id
    assert ids(scoped.get(f"/api/v1/charges/?contract={other_contract}")) == set()
    assert ids(scoped.get(f"/api/v1/charges/?customer={book['other'].id}")) == set()


def test_alerts_of_its_customer_only_not_the_company_wide_ones(scoped, book, make_key):
    alerts = book["alerts"]
    assert ids(scoped.get("/api/v1/alerts/")) == {alerts["MINE"].id}
    assert scoped.get(f"/api/v1/alerts/{alerts['OTHER'].id}/").status_code == 404
    assert scoped.get(f"/api/v1/alerts/{alerts['ALL'].id}/").status_code == 404
    _key, unscoped = make_key(username="erp-all")
    assert ids(unscoped.get("/api/v1/alerts/")) == {a.id for a in alerts.values()}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/bank-accounts/",
        "/api/v1/statements/",
        "/api/v1/statement-lines/",
        "/api/v1/matches/",
        "/api/v1/discrepancies/",
        "/api/v1/reconciliation-runs/",
        "/api/v1/risk-rules/",
        "/api/v1/webhook-endpoints/",
        "/api/v1/webhook-deliveries/",
    ],
)
def test_the_companys_own_data_is_refused_to_a_scoped_key(scoped, make_key, url):
    refused = scoped.get(url)
    assert refused.status_code == 403
    assert "one customer" in refused.json()["detail"]
    _key, unscoped = make_key(username="erp-all")
    expected = 403 if "risk" in url else 200  # the integrators' group has no grant there
    assert unscoped.get(url).status_code == expected


def test_reports_are_cut_to_its_customer(scoped, book, api):
    names = {row["name"] for row in scoped.get("/api/v1/reports/").json()}
    assert "customer-status" in names and "reconciliation" not in names
    assert scoped.get("/api/v1/reports/reconciliation/").status_code == 404

    everyone = api.get("/api/v1/reports/customer-status/").json()["rows"]
    assert {row["customer_code"] for row in everyone} >= {"MINE", "OTHER"}
    own = scoped.get("/api/v1/reports/customer-status/").json()
    assert {row["customer_code"] for row in own["rows"]} == {"MINE"}
    assert own["filters"]["customer"] == book["mine"].id

    other = scoped.get(f"/api/v1/reports/aging/?customer={book['other'].id}")
    assert other.status_code == 400 and "customer" in other.json()


def test_a_scoped_key_lists_in_bounded_queries(scoped, book, django_assert_max_num_queries):
    for _ in range(5):
        make_contract(customer=book["mine"])
    scoped.get("/api/v1/contracts/")
    with django_assert_max_num_queries(5):  # key, permissions (2), page, fees
        assert len(ids(scoped.get("/api/v1/contracts/"))) == 6
