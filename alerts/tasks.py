"""Alert tasks: thin, each calls one service."""

from celery import shared_task

from audit.context import actor_scope

from .choices import Severity
from .services import alerts_notify, alerts_wake


@shared_task(name="alerts.notify")
def alerts_notify_task(lowest: str = Severity.WARNING.value) -> int:
    """E-mail the alerts at or above ``lowest`` not yet e-mailed (critical ones at
    once after they are raised; the rest in each risk run's digest)."""
    return alerts_notify(lowest=lowest)


@shared_task(name="alerts.wake")
def alerts_wake_task() -> int:
    """Daily (beat): snoozed alerts whose day has come are open again."""
    with actor_scope("system:alerts_wake"):
        return alerts_wake()
