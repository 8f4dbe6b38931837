"""Who and where: the middleware ties events to the request, its user (session or
DRF token, known only once the view has run) and the client's address."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from audit.context import actor_scope, client_ip
from audit.middleware import AuditContextMiddleware
from audit.services import audit_record

pytestmark = pytest.mark.django_db


def serve(request, view):
    """The request through the middleware, with ``view`` as the rest of the stack."""
    events = []

    def get_response(req):
        events.append(view(req))
        return HttpResponse()

    response = AuditContextMiddleware(get_response)(request)
    return response, events[0]


def record(_request):
    return audit_record(action="contract.signed", object_type="contracts.contract", object_id=1)


def test_a_logged_in_user_is_the_actor(rf, django_user_model):
    user = django_user_model.objects.create_user("王芳", "w@example.com", "pw")
    request = rf.post("/", REMOTE_ADDR="10.0.0.7", HTTP_X_REQUEST_ID="req-123")
    request.user = user
    response, event = serve(request, record)
    assert event.actor == f"user:{user.pk}:王芳"
    assert event.actor_user_id == user.pk
    assert (event.request_id, event.ip) == ("req-123", "10.0.0.7")
    assert response["X-Request-ID"] == "req-123"


def test_a_token_user_set_by_drf_inside_the_view_is_seen(rf, django_user_model):
    user = django_user_model.objects.create_user("api", "a@example.com", "pw")
    request = rf.post("/api/", REMOTE_ADDR="10.0.0.8")
    request.user = AnonymousUser()

    def drf_view(req):
        req.user, req.auth = user, object()  # what DRF's Request writes back
        return record(req)

    response, event = serve(request, drf_view)
    assert event.actor == f"token:{user.pk}:api"
    assert len(event.request_id) == 32 and response["X-Request-ID"] == event.request_id


def test_anonymous_requests_and_scopes(rf):
    request = rf.post("/notify/", HTTP_X_REQUEST_ID="bad id with spaces")
    request.user = AnonymousUser()
    _, event = serve(request, record)
    assert event.actor == "anonymous" and event.request_id != "bad id with spaces"

    def scoped(_req):
        with actor_scope("system:alipay_notify"):
            return record(_req)

    _, event = serve(rf.post("/notify/"), scoped)
    assert event.actor == "system:alipay_notify" and event.ip == "127.0.0.1"


def test_forwarded_for_is_read_only_behind_a_trusted_proxy(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_ip(request) == "10.1.1.1"
    settings.AUDIT_TRUSTED_PROXIES = ["10.1.0.0/16"]
    assert client_ip(request) == "203.0.113.9"
    request = factory.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.1.2.2")
    assert client_ip(request) == "203.0.113.9"  # hops through our own proxies are skipped
    request = factory.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "192.0.2.1"  # not from our proxy: the header is ignored
