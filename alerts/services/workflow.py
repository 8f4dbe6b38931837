"""Moving alerts through their workflow: open → acknowledged → resolved, or snoozed
until a date (alerts.choices.ALERT_TRANSITIONS), and handing one to an owner.

One service per move; the statuses each may leave come from the transitions table.
Every move records its event in the same transaction (docs/audit.md):
``alert.acknowledged``, ``alert.snoozed``, ``alert.woken``, ``alert.assigned``,
``alert.resolved`` (the problem went away) or ``alert.closed`` (staff dealt with
it), one per alert moved, so each alert's history shows them. The moves stay
set-based: one query locks the alerts that qualify, one update moves them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, changes_between
from feemgmt.core.exceptions import BusinessError

from ..choices import OPEN_STATUSES, AlertStatus, statuses_to
from ..models import Alert


def _move(alerts: QuerySet[Alert], *, statuses, action: str, values: dict) -> int:
    """Set ``values`` (by field name) on the alerts of ``alerts`` whose status is in
    ``statuses``, and record ``action`` for each one moved, with what it changed.

    The alerts are locked first, by primary key (so the joins an admin search adds do
    not reach the FOR UPDATE), which makes the rows read the rows updated.
    """
    names = list(values)
    columns = [Alert._meta.get_field(name).attname for name in names]
    rows = list(
        Alert.objects.select_for_update()
        .filter(pk__in=alerts.values("pk"), status__in=list(statuses))
        .order_by("pk")
        .values_list("pk", *columns)
    )
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    Alert.objects.filter(pk__in=ids).update(**values)
    after = {name: value.pk if hasattr(value, "pk") else value for name, value in values.items()}
    for pk, *current in rows:
        audit_record(
            action=action,
            object_type=Alert._meta.label_lower,
            object_id=pk,
            changes=changes_between(dict(zip(names, current, strict=True)), after),
        )
    return len(ids)


@transaction.atomic
def alerts_resolve(*, kind: str, subject: str | Sequence[str]) -> int:
    """Close the open alerts of a kind about a subject, or about each of several
    (the problem went away)."""
    subjects = [subject] if isinstance(subject, str) else list(subject)
    if not subjects:
        return 0
    return _move(
        Alert.objects.filter(kind=kind, subject__in=subjects),
        statuses=statuses_to(AlertStatus.RESOLVED),
        action="alert.resolved",
        values={
            "status": AlertStatus.RESOLVED,
            "resolved_at": timezone.now(),
            "snoozed_until": None,
        },
    )


@transaction.atomic
def alerts_acknowledge(alerts: QuerySet[Alert], *, by: AbstractBaseUser) -> int:
    """Someone is looking into these alerts (open, or snoozed and taken up early):
    they become its owner."""
    return _move(
        alerts,
        statuses=statuses_to(AlertStatus.ACKNOWLEDGED),
        action="alert.acknowledged",
        values={"status": AlertStatus.ACKNOWLEDGED, "owner": by, "snoozed_until": None},
    )


@transaction.atomic
def alerts_snooze(alerts: QuerySet[Alert], *, until: dt.date, by: AbstractBaseUser) -> int:
    """Put these alerts aside until ``until`` (a later day): they stay open — a rule
    finding the same problem adds nothing — and wake up open on that day. Whoever
    snoozes an alert without an owner becomes its owner."""
    if until <= timezone.localdate():
        raise BusinessError(_("An alert can only be snoozed until a later day."))
    moved = _move(
        alerts.filter(owner__isnull=False),
        statuses=statuses_to(AlertStatus.SNOOZED),
        action="alert.snoozed",
        values={"status": AlertStatus.SNOOZED, "snoozed_until": until},
    )
    return moved + _move(
        alerts.filter(owner__isnull=True),
        statuses=statuses_to(AlertStatus.SNOOZED),
        action="alert.snoozed",
        values={"status": AlertStatus.SNOOZED, "snoozed_until": until, "owner": by},
    )


@transaction.atomic
def alerts_wake(*, on: dt.date | None = None) -> int:
    """The snoozed alerts whose day has come are open again (daily, beat); their
    owner keeps them. They are e-mailed again in the next digest."""
    on = on or timezone.localdate()
    return _move(
        Alert.objects.filter(status=AlertStatus.SNOOZED, snoozed_until__lte=on),
        statuses=statuses_to(AlertStatus.OPEN),
        action="alert.woken",
        values={"status": AlertStatus.OPEN, "snoozed_until": None, "notified_at": None},
    )


@transaction.atomic
def alerts_assign(alerts: QuerySet[Alert], *, owner: AbstractBaseUser | None) -> int:
    """Hand these unresolved alerts to ``owner`` (or to no one); their status stays."""
    if owner is not None and not (owner.is_active and owner.is_staff):
        raise BusinessError(_("Alerts can only be assigned to active staff."))
    return _move(
        alerts.exclude(owner=owner) if owner is not None else alerts.exclude(owner=None),
        statuses=OPEN_STATUSES,
        action="alert.assigned",
        values={"owner": owner},
    )


@transaction.atomic
def alerts_close(alerts: QuerySet[Alert]) -> int:
    """Staff dealt with these alerts (or they no longer apply)."""
    return _move(
        alerts,
        statuses=statuses_to(AlertStatus.RESOLVED),
        action="alert.closed",
        values={
            "status": AlertStatus.RESOLVED,
            "resolved_at": timezone.now(),
            "snoozed_until": None,
        },
    )
