"""Who is acting, and for which request: kept in a context variable so services
can record events without every call passing the request down.

The middleware stores the request itself rather than its user: API views
authenticate with DRF (session or token) only when the view runs, after every
middleware, and DRF then writes the user and token back onto the Django request.
So the actor is resolved lazily, when the first event of the request is recorded.

Without a request, tasks and commands name themselves with :func:`actor_scope`
(``system:billing_run``). Failing that the actor is ``system:<task name>`` inside
a Celery task, or ``system:<program>`` otherwise (``system:manage.py bill``), so
an event is never anonymous.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.conf import settings

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class AuditContext:
    actor: str | None = None
    user_id: int | None = None
    request_id: str = ""
    ip: str | None = None
    request: object | None = None  # an HttpRequest whose user is resolved lazily


_current: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)


def current_context() -> AuditContext:
    return _current.get() or AuditContext()


@contextmanager
def _scope(context: AuditContext) -> Iterator[AuditContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


@contextmanager
def actor_scope(actor: str, *, user_id: int | None = None) -> Iterator[AuditContext]:
    """Record the events inside as done by ``actor`` (``system:billing_run``).

    Keeps the surrounding request id and IP, if any, so a staff action that starts
    a service run is still tied to its request.
    """
    with _scope(replace(current_context(), actor=actor, user_id=user_id, request=None)) as ctx:
        yield ctx


@contextmanager
def request_scope(request) -> Iterator[AuditContext]:
    context = AuditContext(
        request_id=request_id_for(request), ip=client_ip(request), request=request
    )
    request.audit_request_id = context.request_id
    with _scope(context) as ctx:
        yield ctx


def request_id_for(request) -> str:
    """The caller's X-Request-ID when it looks like one, so logs across services
    line up; otherwise a fresh one."""
    given = request.META.get(REQUEST_ID_HEADER, "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _trusted(ip: str, proxies) -> bool:
    address = ipaddress.ip_address(ip)
    for proxy in proxies:
        try:
            if address in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request) -> str | None:
    """REMOTE_ADDR, unless it is one of settings.AUDIT_TRUSTED_PROXIES: then the
    right-most X-Forwarded-For address that is not a trusted proxy. Anyone can send
    X-Forwarded-For, so it is read only behind a proxy we run."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = getattr(settings, "AUDIT_TRUSTED_PROXIES", ())
    if remote is None or not proxies or not _trusted(remote, proxies):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        ip = _valid_ip(hop)
        if ip is None:
            return remote
        if not _trusted(ip, proxies):
            return ip
    return remote


def _actor_from_request(request) -> tuple[str, int | None] | None:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    auth = getattr(request, "auth", None)
    actor = getattr(auth, "audit_actor", None)  # an API key names itself
    if actor:
        return actor, user.pk
    prefix = "token" if auth is not None else "user"
    return f"{prefix}:{user.pk}:{user.get_username()}", user.pk


def _process_actor() -> str:
    try:
        from celery import current_task

        if current_task and current_task.request.id:
            return f"system:{current_task.name}"
    except ImportError:  # pragma: no cover - celery is a dependency
        pass
    argv = sys.argv or ["python"]
    program = os.path.basename(argv[0]) or "python"
    if program in {"manage.py", "django-admin"} and len(argv) > 1:
        program = f"{program} {argv[1]}"
    return f"system:{program}"


def resolve_actor(context: AuditContext | None = None) -> tuple[str, int | None]:
    """(actor, user id) for an event recorded now."""
    context = context or current_context()
    if context.actor:
        return context.actor, context.user_id
    if context.request is not None:
        found = _actor_from_request(context.request)
        if found:
            return found
        return "anonymous", None
    return _process_actor(), None
