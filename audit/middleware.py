"""Ties every event recorded during a request to that request (docs/audit.md)."""

from __future__ import annotations

from .context import request_scope


class AuditContextMiddleware:
    """Sets the audit context for the request and answers with its X-Request-ID.

    Must come after AuthenticationMiddleware; the user is read only when an event is
    recorded, so DRF's token users are seen too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_scope(request) as context:
            response = self.get_response(request)
        response.setdefault("X-Request-ID", context.request_id)
        return response
