"""The API keys and the Idempotency-Key header in the OpenAPI schema.

``document_idempotency`` is a drf-spectacular postprocessing hook (settings,
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): every POST under /api/v1/ gets the
optional header, its 400/409/422 answers and the ``Idempotent-Replayed`` header on
its successful answers, whichever app defines the endpoint and whenever it is added.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_COMPONENT = "IdempotencyError"


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.authentication.APIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _(
                'An integrator\'s API key, sent as "Authorization: Api-Key <key>". '
                "The key acts with its user's permissions, and a key scoped to a "
                "customer sees only that customer's objects."
            ),
        }


def _header_parameter() -> dict:
    return {
        "in": "header",
        "name": "Idempotency-Key",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": _(
            "Any unique string (a UUID, for instance) that makes this POST safe to "
            "retry: the same key with the same request within 24 hours answers the "
            "first answer again, with the header Idempotent-Replayed: true. Keys are "
            "your own: another API key or user may use the same string."
        ),
    }


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}
        },
    }


def _add_response(responses: dict, code: str, description: str, *, shaped: bool) -> None:
    """Add the answer. When the operation already documents that code for another
    reason, say both in its description and leave its content alone: the body then
    has one of two shapes, and a schema naming only ours would be untrue. A 400 is
    never given our shape (the view's own 400s have theirs)."""
    if code in responses:
        existing = responses[code]
        text = existing.get("description", "")
        existing["description"] = f"{text} {description}".strip()
        return
    responses[code] = _error_response(description) if shaped else {"description": description}


def document_idempotency(result, generator, request, public):
    prefix = settings.IDEMPOTENCY_PATH_PREFIX
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_COMPONENT] = {
        "type": "object",
        "properties": {
            "detail": {"type": "string"},
            "code": {
                "type": "string",
                "enum": [
                    "idempotency_key_invalid",
                    "idempotency_key_in_use",
                    "idempotency_key_reused",
                ],
            },
        },
        "required": ["detail", "code"],
    }
    replayed = {
        "Idempotent-Replayed": {
            "schema": {"type": "string", "enum": ["true"]},
            "description": _("Present when this is the stored answer of an earlier request."),
        }
    }
    for path, operations in result.get("paths", {}).items():
        operation = operations.get("post")
        if not path.startswith(prefix) or operation is None:
            continue
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name") == "Idempotency-Key" for p in parameters):
            parameters.append(_header_parameter())
        responses = operation.setdefault("responses", {})
        for code, response in responses.items():
            if code.startswith("2"):
                response.setdefault("headers", {}).update(replayed)
        _add_response(
            responses,
            "400",
            _("The Idempotency-Key header is empty or longer than 255."),
            shaped=False,
        )
        _add_response(
            responses,
            "409",
            _("A request with this Idempotency-Key is still running; retry later."),
            shaped=True,
        )
        _add_response(
            responses,
            "422",
            _("This Idempotency-Key was used for a different request (body or path)."),
            shaped=True,
        )
    return result
