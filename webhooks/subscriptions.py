"""Which event types some active endpoint wants, known in the process.

Every audit event asks :func:`wanted` whether its webhook type is subscribed. The
answer comes from memory, so with no endpoint for a type an audit event costs no
query and writes no outbox row (the billing run's query counts stay as they
were). The memory is

* loaded on first use in a process (one query), and on ``post_migrate`` (a fresh
  database, e.g. the tests', starts known to have no endpoints);
* reloaded after an endpoint is created, changed or deleted in this process,
  once that transaction commits;
* reloaded by other processes when it is older than
  ``WEBHOOK_SUBSCRIPTIONS_TTL`` seconds, at the start of a request or of a
  Celery task, and only outside a transaction: never in the middle of a change.

So a new subscription reaches the other processes (the workers) within the TTL;
an event of that type recorded meanwhile is not written. docs/webhooks.md says
so to the staff who add endpoints.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_types: frozenset[str] | None = None
_loaded_at = 0.0


def _query() -> frozenset[str]:
    from .models import WebhookEndpoint

    types: set[str] = set()
    for event_types in WebhookEndpoint.objects.filter(active=True).values_list(
        "event_types", flat=True
    ):
        types.update(event_types or ())
    return frozenset(types)


def reload() -> frozenset[str]:
    global _types, _loaded_at
    types = _query()
    with _lock:
        _types, _loaded_at = types, time.monotonic()
    return types


def forget(types: frozenset[str] = frozenset()) -> None:
    """Set what is known without asking the database (a database just created or
    rolled back to empty)."""
    global _types, _loaded_at
    with _lock:
        _types, _loaded_at = frozenset(types), time.monotonic()


def subscribed() -> frozenset[str]:
    types = _types
    return types if types is not None else reload()


def wanted(event_type: str) -> bool:
    return event_type in subscribed()


def refresh_if_stale() -> None:
    """Reload when older than the TTL, but only between transactions.

    Best effort: called as a request or task starts, it must never fail one (the
    database down, a request that may not use it). What was known stays known; a
    process that knows nothing yet loads on first use instead."""
    if _types is not None and time.monotonic() - _loaded_at < settings.WEBHOOK_SUBSCRIPTIONS_TTL:
        return
    if connection.in_atomic_block:
        return
    try:
        reload()
    except Exception:  # best effort, see the docstring
        logger.warning("webhook subscriptions not refreshed", exc_info=True)
