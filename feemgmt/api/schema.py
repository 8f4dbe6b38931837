"""The error answers of every API operation, in the OpenAPI schema.

``document_errors`` is a drf-spectacular postprocessing hook (settings,
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"], after the Idempotency-Key hook): it
adds to each operation under /api/v1/ the errors the project really answers, with
the JSON shape of ``feemgmt.api.errors``, whichever app defines the endpoint and
whenever it is added:

- 403 everywhere (not authenticated, a missing permission, an unusable API key,
  a key scoped to a customer on a company-wide endpoint);
- 404 on paths with an id or a name, and on the lists paged by number (a page
  past the last one);
- 400 on writes with a body and on reads with query parameters (a bad filter or
  ``page_size``), with a message per field.

Answers a view documents itself keep their description; those it documents
without a body get the shape of their status. 409 and 422 on POST come from
``integrations.schema.document_idempotency``.

:class:`AutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) corrects what
drf-spectacular cannot see in a field.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from drf_spectacular import openapi
from rest_framework import serializers

DETAIL_COMPONENT = "ErrorDetail"
FIELDS_COMPONENT = "FieldErrors"
WRITES = {"post", "put", "patch"}
METHODS = WRITES | {"get", "delete"}


def _components() -> dict:
    message = {"type": "string"}
    return {
        DETAIL_COMPONENT: {
            "type": "object",
            "description": _("What went wrong, in the request's language."),
            "properties": {"detail": message},
            "required": ["detail"],
        },
        FIELDS_COMPONENT: {
            "type": "object",
            "description": _(
                "A list of messages per field of the request (a query parameter or a "
                "body field), nested like the input for nested fields; a message that "
                "concerns no one field is under detail or non_field_errors."
            ),
            "minProperties": 1,
            "additionalProperties": {
                "anyOf": [message, {"type": "array"}, {"type": "object"}],
            },
        },
    }


def _shape(code: str) -> str:
    return FIELDS_COMPONENT if code in {"400", "409"} else DETAIL_COMPONENT


def _content(code: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{_shape(code)}"}}}


def _errors_of(path: str, method: str, operation: dict) -> dict[str, str]:
    """The error codes this operation can answer, with what each means."""
    query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
    errors = {
        "403": _(
            "Not authenticated, without the permission this needs, or an API key that "
            "cannot be used here."
        )
    }
    if "{" in path:
        errors["404"] = _(
            "No such object (or another customer's, for an API key scoped to a customer)."
        )
    elif method == "get" and any(p["name"] == "page" for p in query):
        errors["404"] = _("No such page: the page number is past the last page.")
    if (method in WRITES and "requestBody" in operation) or query:
        errors["400"] = _("Invalid input or filter, or a business rule refused it.")
    return errors


def document_errors(result, generator, request, public):
    prefix = settings.IDEMPOTENCY_PATH_PREFIX
    result.setdefault("components", {}).setdefault("schemas", {}).update(_components())
    for path, operations in result.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in _errors_of(path, method, operation).items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code.startswith("4") and "content" not in response:
                    response["content"] = _content(code)
    return result


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, and a read-only choice whose model field may be blank
    says so: DRF drops ``allow_blank`` from read-only fields, so the schema would
    otherwise refuse the "" such a field answers (a receiving account without a
    default statement format)."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        choice = isinstance(field, serializers.ChoiceField)
        if choice and field.read_only and _blank_in_model(field):
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)


def _blank_in_model(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return model._meta.get_field(field.source).blank
    except FieldDoesNotExist:
        return False
