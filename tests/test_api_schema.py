"""The OpenAPI schema integrators generate clients from, and the docs page that shows it."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/customers/": {"get", "post"},
    "/api/v1/customers/{id}/": {"get", "put", "patch"},
    "/api/v1/contracts/": {"get", "post"},
    "/api/v1/contracts/{id}/": {"get", "put", "patch"},
    "/api/v1/contracts/{id}/sign/": {"post"},
    "/api/v1/contracts/{id}/terminate/": {"post"},
    "/api/v1/charges/": {"get"},
    "/api/v1/charges/{id}/": {"get"},
}
CHARGE_KEYS = {
    "id",
    "contract",
    "fee",
    "kind",
    "period_start",
    "period_end",
    "due_date",
    "amount",
    "currency",
    "status",
}


@pytest.fixture
def staff_client(django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", None)
    client = APIClient()
    client.force_login(admin)
    return client


@pytest.fixture
def schema(staff_client):
    response = staff_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yml"

    call_command("spectacular", validate=True, fail_on_warn=True, file=str(out))

    assert out.read_text().startswith("openapi: 3")


def test_the_served_schema_is_valid_openapi(schema):
    validate_schema(schema)


def test_the_schema_has_every_endpoint_and_no_delete(schema):
    for path, methods in PATHS.items():
        assert path in schema["paths"], path
        assert set(schema["paths"][path]) - {"parameters"} == methods, path


def test_the_charge_filters_are_documented(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/charges/"]["get"]["parameters"]}

    assert {
        "contract",
        "customer",
        "status",
        "kind",
        "due_date",
        "due_date_after",
        "due_date_before",
        "cursor",
        "page_size",
    } <= set(parameters)
    assert "page" not in parameters
    assert parameters["page_size"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 500,
        "default": 50,
    }
    assert "inclusive" in parameters["due_date_after"]["description"]
    assert parameters["due_date_before"]["schema"]["format"] == "date"


@pytest.mark.parametrize(
    ("path", "component"),
    [
        ("/api/v1/charges/", "PaginatedChargeList"),
        ("/api/v1/contracts/", "PaginatedContractList"),
        ("/api/v1/customers/", "PaginatedCustomerList"),
        ("/api/v1/statement-lines/", "PaginatedStatementLineList"),
        ("/api/v1/matches/", "PaginatedMatchList"),
        ("/api/v1/discrepancies/", "PaginatedDiscrepancyList"),
    ],
)
def test_the_large_lists_are_documented_as_cursor_pages_without_count(schema, path, component):
    listing = schema["paths"][path]["get"]
    body = listing["responses"]["200"]["content"]["application/json"]["schema"]
    page = schema["components"]["schemas"][component]

    assert body == {"$ref": f"#/components/schemas/{component}"}
    assert set(page["properties"]) == {"next", "previous", "results"}
    assert page["properties"]["next"]["nullable"] is True
    assert {p["name"] for p in listing["parameters"]} >= {"cursor", "page_size"}
    assert "page" not in {p["name"] for p in listing["parameters"]}


def test_the_small_lists_keep_page_numbers_and_their_count(schema):
    listing = schema["paths"]["/api/v1/statements/"]["get"]
    page = schema["components"]["schemas"]["PaginatedStatementList"]

    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    assert {"page", "page_size"} <= {p["name"] for p in listing["parameters"]}


def test_the_documented_shapes_carry_the_stable_names(schema):
    components = schema["components"]["schemas"]

    assert set(components["Charge"]["properties"]) >= CHARGE_KEYS
    assert {"id", "code", "name", "email", "currency", "credit_code"} <= set(
        components["Customer"]["properties"]
    )
    assert {
        "id",
        "customer",
        "number",
        "currency",
        "service_start",
        "service_end",
        "alignment",
        "proration",
        "payment_method",
        "status",
        "signed_on",
        "fees",
    } <= set(components["Contract"]["properties"])
    assert {"id", "kind", "amount", "cycle", "treatment"} <= set(components["Fee"]["properties"])
    assert components["Charge"]["properties"]["amount"]["type"] == "string"
    assert components["FeeRequest"]["properties"]["amount"]["type"] == "string"
    assert set(components["ContractSignRequest"]["required"]) == {"signed_on"}
    assert set(components["ContractTerminateRequest"]["required"]) == {"end_date"}
    sign = schema["paths"]["/api/v1/contracts/{id}/sign/"]["post"]
    assert sign["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Contract"
    }
    assert {"400", "409"} <= set(sign["responses"])


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/v1/") and method != "parameters":
                yield path, method, operation


def _body_ref(response) -> str:
    return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


def test_every_operation_documents_the_errors_it_answers_with_their_shape(schema):
    operations = list(_operations(schema))
    assert len(operations) > 50

    for path, method, operation in operations:
        responses = operation["responses"]
        label = f"{method.upper()} {path}"
        assert _body_ref(responses["403"]) == "ErrorDetail", label
        if "{" in path:
            assert _body_ref(responses["404"]) == "ErrorDetail", label
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert _body_ref(responses["400"]) == "FieldErrors", label
        for code, response in responses.items():
            assert not code.startswith("4") or "content" in response, f"{label} {code}"


def test_lists_with_page_numbers_document_the_404_past_the_last_page(schema):
    statements = schema["paths"]["/api/v1/statements/"]["get"]["responses"]

    assert "404" in statements
    assert "404" not in schema["paths"]["/api/v1/charges/"]["get"]["responses"]


def test_a_blank_read_only_choice_is_documented_as_allowed(schema):
    field = schema["components"]["schemas"]["BankAccount"]["properties"]["default_format"]

    assert {"$ref": "#/components/schemas/BlankEnum"} in field["oneOf"]


def test_ids_in_filters_are_integers(schema):
    parameters = schema["paths"]["/api/v1/charges/"]["get"]["parameters"]
    types = {p["name"]: p["schema"]["type"] for p in parameters}

    assert types["customer"] == types["contract"] == "integer"


class _AssetCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def test_the_docs_page_loads_only_local_assets(staff_client):
    response = staff_client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    collector = _AssetCollector()
    collector.feed(html)
    assert collector.urls, "the docs page references no assets at all"
    for url in collector.urls:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not a static file"
    assert not re.search(r"https?://", html), "the docs page refers to another host"
