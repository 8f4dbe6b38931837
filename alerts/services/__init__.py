"""Alert services: raising (raising.py), the workflow (workflow.py) and e-mailing
the finance group (notify.py). Every change records its audit event in the same
transaction, as the last step (docs/audit.md)."""

from .notify import alert_recipients, alerts_notify
from .raising import (
    BULK_FIELDS,
    RAISED_FIELDS,
    NewAlert,
    alert_raise,
    alerts_raise_many,
    notify_critical_after_commit,
)
from .workflow import (
    alerts_acknowledge,
    alerts_assign,
    alerts_close,
    alerts_resolve,
    alerts_snooze,
    alerts_wake,
)

__all__ = [
    "BULK_FIELDS",
    "RAISED_FIELDS",
    "NewAlert",
    "alert_raise",
    "alert_recipients",
    "alerts_acknowledge",
    "alerts_assign",
    "alerts_close",
    "alerts_notify",
    "alerts_raise_many",
    "alerts_resolve",
    "alerts_snooze",
    "alerts_wake",
    "notify_critical_after_commit",
]
