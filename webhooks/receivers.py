"""Where the webhooks app listens (connected in ``WebhooksConfig.ready``)."""

from __future__ import annotations

from django.db import connection

from . import subscriptions


def on_audit_recorded(sender, *, event, **kwargs) -> None:
    from .services import webhook_events_record

    webhook_events_record(event=event)


def on_request_started(sender, **kwargs) -> None:
    subscriptions.refresh_if_stale()


def on_task_prerun(sender=None, task=None, **kwargs) -> None:
    # An eager task runs inside its caller's transaction and timing: not a new
    # start of work.
    if task is not None and getattr(task.request, "is_eager", False):
        return
    subscriptions.refresh_if_stale()


def on_post_migrate(sender, *, using, **kwargs) -> None:
    """A database just migrated (or flushed): know its endpoints from the start."""
    if using != "default":
        return
    from .models import WebhookEndpoint

    if WebhookEndpoint._meta.db_table in connection.introspection.table_names():
        subscriptions.reload()
    else:
        subscriptions.forget()
