"""The collection endpoints in the OpenAPI schema: every path and method, every
status code each can answer, cursor pages without a count, and the filters."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

LIST = {"200", "400", "403"}
DETAIL = {"200", "403", "404"}
# POSTs also answer 409 and 422 for an Idempotency-Key (integrations/schema.py)
OPERATIONS = {
    ("/api/v1/payment-attempts/", "get"): LIST,
    ("/api/v1/payment-attempts/{id}/", "get"): DETAIL,
    ("/api/v1/refunds/", "get"): LIST,
    ("/api/v1/refunds/", "post"): {"201", "400", "403", "409", "422"},
    ("/api/v1/refunds/{id}/", "get"): DETAIL,
    ("/api/v1/write-offs/", "get"): LIST,
    ("/api/v1/write-offs/", "post"): {"201", "400", "403", "409", "422"},
    ("/api/v1/write-offs/{id}/", "get"): DETAIL,
    ("/api/v1/write-offs/{id}/approve/", "post"): {"200", "400", "403", "404", "409", "422"},
    ("/api/v1/write-offs/{id}/reject/", "post"): {"200", "400", "403", "404", "409", "422"},
    ("/api/v1/mandates/", "get"): LIST,
    ("/api/v1/mandates/", "post"): {"201", "400", "403", "409", "422"},
    ("/api/v1/mandates/{id}/", "get"): DETAIL,
    ("/api/v1/mandates/{id}/revoke/", "post"): {"200", "400", "403", "404", "409", "422"},
    ("/api/v1/charges/{id}/retry/", "post"): {"202", "400", "403", "404", "409", "422"},
    ("/api/v1/charges/{id}/cancel/", "post"): {"200", "400", "403", "404", "409", "422"},
    ("/api/v1/alerts/", "get"): LIST,
    ("/api/v1/alerts/{id}/", "get"): DETAIL,
    ("/api/v1/alerts/{id}/acknowledge/", "post"): {"200", "400", "403", "404", "409", "422"},
    ("/api/v1/alerts/{id}/resolve/", "post"): {"200", "400", "403", "404", "409", "422"},
    ("/api/v1/alerts/{id}/assign/", "post"): {"200", "400", "403", "404", "409", "422"},
    ("/api/v1/alerts/{id}/snooze/", "post"): {"200", "400", "403", "404", "409", "422"},
}


@pytest.fixture
def schema(api):
    answer = api.get("/api/schema/", {"format": "json"})
    assert answer.status_code == 200
    return answer.json()


@pytest.mark.parametrize(("path", "method"), sorted(OPERATIONS))
def test_every_status_code_is_documented(schema, path, method):
    operation = schema["paths"][path][method]
    assert set(operation["responses"]) == OPERATIONS[(path, method)]


def test_the_new_paths_have_no_other_methods(schema):
    for path in {path for path, _method in OPERATIONS}:
        documented = set(schema["paths"][path]) - {"parameters"}
        expected = {method for (p, method) in OPERATIONS if p == path}
        assert documented == expected, path


@pytest.mark.parametrize(
    ("path", "component"),
    [
        ("/api/v1/payment-attempts/", "PaginatedPaymentAttemptList"),
        ("/api/v1/refunds/", "PaginatedRefundList"),
        ("/api/v1/write-offs/", "PaginatedWriteOffRequestList"),
        ("/api/v1/mandates/", "PaginatedMandateList"),
    ],
)
def test_the_lists_are_cursor_pages_without_count(schema, path, component):
    listing = schema["paths"][path]["get"]
    page = schema["components"]["schemas"][component]
    assert set(page["properties"]) == {"next", "previous", "results"}
    assert {"cursor", "page_size"} <= {p["name"] for p in listing["parameters"]}


def test_the_attempt_filters_are_documented(schema):
    parameters = {
        p["name"]: p for p in schema["paths"]["/api/v1/payment-attempts/"]["get"]["parameters"]
    }
    assert {"charge", "customer", "status", "method", "created_after", "created_before"} <= set(
        parameters
    )
    assert parameters["created_after"]["schema"]["format"] == "date"
    assert set(parameters["status"]["schema"]["enum"]) == {
        "pending",
        "unknown",
        "succeeded",
        "failed",
        "returned",
        "cancelled",
    }


def test_the_request_bodies_name_what_is_required(schema):
    components = schema["components"]["schemas"]
    assert set(components["RefundRequest"]["required"]) == {"attempt", "amount", "reason"}
    assert set(components["WriteOffRequestRequest"]["required"]) == {"charge", "reason"}
    assert set(components["MandateRequest"]["required"]) == {
        "customer",
        "reference",
        "signed_on",
        "debtor_name",
        "debtor_iban",
    }
    assert set(components["ChargeCancelRequest"]["required"]) == {"reason"}
    assert set(components["AlertSnoozeRequest"]["required"]) == {"until"}
