"""Idempotency-Key on every POST under /api/v1/ (docs/api.md, "Idempotency").

A middleware rather than a view mixin, so that every POST endpoint has it,
including the ones added later. It authenticates the request with the same DRF
authenticators the views use, to know whose key it is (each API key, and each
user of a session or token, has keys of its own), then claims the key
(integrations.idempotency) before the view runs:

- same key, same request, finished: the stored status and body, with
  ``Idempotent-Replayed: true``;
- same key, another body, method or path: 422;
- same key while that request is still running: 409;
- a request that ends in a 5xx (or raises) gives its key back, and so does one
  refused before it ran (401, 403, 429): the client may send it again.

A request that is not authenticated is left to the view (which refuses it), as is
a POST without the header.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from .idempotency import (
    Claim,
    canonical_json,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)

HEADER = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Answers that mean nothing ran: the key is given back rather than kept.
NOT_RUN = {401, 403, 429}


def request_owner(request) -> str | None:
    """Whose keys this request uses: ``apikey:<id>`` or ``user:<id>``; None when it
    is not authenticated. Leaves ``request.user`` as it found it: the view
    authenticates again (at no cost for keys, see integrations.authentication)."""
    had_user = "user" in request.__dict__
    user_before = request.__dict__.get("user")
    drf_request = Request(
        request, authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    )
    try:
        user, auth = drf_request.user, drf_request.auth
    except APIException:
        return None
    finally:
        if had_user:
            request.user = user_before
        request.__dict__.pop("auth", None)
    if not (user and user.is_authenticated):
        return None
    owner = getattr(auth, "idempotency_owner", None)
    return owner or f"user:{user.pk}"


def body_parts(request) -> list[bytes]:
    """The body as the fingerprint reads it: canonical JSON; form and multipart
    bodies by their fields and files (a multipart boundary differs on every
    send), each file by its name and SHA-256."""
    content_type = request.content_type or ""
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        parts = [
            f"{name}={value}".encode()
            for name in sorted(request.POST)
            for value in request.POST.getlist(name)
        ]
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest = hashlib.sha256()
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
                parts.append(f"{name}@{upload.name}:{digest.hexdigest()}".encode())
        return parts
    return [canonical_json(request.body)]


def _error(status: int, message: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": message, "code": code}, status=status)


def _replay(record) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body),
        status=record.response_status,
        content_type=record.response_content_type or None,
    )
    for name, value in (record.response_headers or {}).items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotencyMiddleware:
    """Must come after AuthenticationMiddleware (sessions) and LocaleMiddleware
    (its messages are translated)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER)
        if (
            key is None
            or request.method != "POST"
            or not request.path.startswith(settings.IDEMPOTENCY_PATH_PREFIX)
        ):
            return self.get_response(request)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return _error(
                400,
                _("Idempotency-Key must be 1 to 255 printable characters."),
                "idempotency_key_invalid",
            )
        fingerprint = request_fingerprint(
            method=request.method,
            path=request.get_full_path(),
            content_type=request.content_type or "",
            body_parts=body_parts(request),
        )
        owner = request_owner(request)
        if owner is None:
            return self.get_response(request)
        claim, record = idempotency_claim(
            owner=owner,
            key=key,
            method=request.method,
            path=request.get_full_path(),
            fingerprint=fingerprint,
        )
        if claim is Claim.REPLAY:
            return _replay(record)
        if claim is Claim.MISMATCH:
            return _error(
                422,
                _(
                    "This Idempotency-Key was already used for a different request "
                    "(another body or path). Use a new key for a new request."
                ),
                "idempotency_key_reused",
            )
        if claim is Claim.RUNNING:
            response = _error(
                409,
                _(
                    "A request with this Idempotency-Key is still being processed. "
                    "Retry later to receive its answer."
                ),
                "idempotency_key_in_use",
            )
            response["Retry-After"] = "1"
            return response
        try:
            response = self.get_response(request)
        except BaseException:
            idempotency_release(record=record)
            raise
        if response.status_code >= 500 or response.status_code in NOT_RUN or response.streaming:
            idempotency_release(record=record)
        else:
            idempotency_complete(record=record, response=response)
        return response
