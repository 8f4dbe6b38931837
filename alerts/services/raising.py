"""Raising and closing alerts.

Every change records its audit event in the same transaction, as the last step
(docs/audit.md): ``alert.raised`` when an alert is created (not when the one already
open is returned), and ``alert.acknowledged``, ``alert.resolved`` (the problem went
away) or ``alert.closed`` (staff dealt with it) for each alert a bulk change moves.
The bulk changes stay set-based: one query locks the alerts that qualify, one update
moves them; the events are one per alert so that each alert's history shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.services import audit_record, audit_record_bulk, changes_between, snapshot
from contracts.models import Customer
from feemgmt.core.sql import insert_rows

from .choices import OPEN_STATUSES, AlertStatus, Severity
from .models import Alert

# What an alert.raised event records of the new alert.
RAISED_FIELDS = ["kind", "severity", "subject", "customer", "message", "status"]


def alert_raise(
    *,
    kind: str,
    subject: str,
    message: str,
    severity: str = Severity.WARNING,
    customer: Customer | int | None = None,
) -> Alert:
    """Raise an alert, or return the one already open about the same thing.

    Safe to call from concurrent tasks: the partial unique constraint decides, the
    loser reads the winner's row. Only the winner records ``alert.raised``, so a
    sweep that notices the same problem every day adds nothing to the trail.
    """
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    with transaction.atomic():
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    kind=kind,
                    subject=subject,
                    message=message,
                    severity=severity,
                    customer_id=customer_id,
                )
        except IntegrityError:
            return Alert.objects.get(kind=kind, subject=subject, status__in=OPEN_STATUSES)
        audit_record(
            action="alert.raised", obj=alert, changes={"after": snapshot(alert, RAISED_FIELDS)}
        )
        return alert


@dataclass(frozen=True)
class NewAlert:
    kind: str
    subject: str
    message: str
    severity: str = Severity.WARNING
    customer_id: int | None = None


# What never changes once an alert is raised (its status and owner do).
BULK_FIELDS = ("kind", "severity", "subject", "customer_id", "message", "created_at")


def alerts_raise_many(alerts: Sequence[NewAlert], *, action: str = "alerts.raised") -> int:
    """Raise many alerts at once (a statement's overpayments): one insert, and one
    ``action`` event naming the alerts created, so each alert's history shows it.
    Subjects that already have an open alert of the kind are skipped, as
    :func:`alert_raise` returns the one open. Returns how many were created."""
    if not alerts:
        return 0
    now = timezone.now()
    with transaction.atomic():
        inserted = insert_rows(
            Alert,
            (*BULK_FIELDS, "status"),
            [
                (
                    str(a.kind),
                    str(a.severity),
                    a.subject,
                    a.customer_id,
                    a.message,
                    now,
                    AlertStatus.OPEN.value,
                )
                for a in alerts
            ],
            returning=("id",),
            ignore_conflicts=True,
        )
        ids = [pk for (pk,) in inserted]
        if ids:
            audit_record_bulk(
                action=action,
                model=Alert,
                ids=ids,
                fields=BULK_FIELDS,
                object_type=Alert._meta.label_lower,
                extra={"raised": len(ids)},
            )
    return len(ids)


def _move(alerts: QuerySet[Alert], *, statuses, action: str, values: dict) -> int:
    """Set ``values`` (by field name: status, owner, resolved_at) on the alerts of
    ``alerts`` whose status is in ``statuses``, and record ``action`` for each one
    moved, with what it changed.

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
    return _move(
        Alert.objects.filter(kind=kind, subject__in=subjects),
        statuses=OPEN_STATUSES,
        action="alert.resolved",
        values={"status": AlertStatus.RESOLVED, "resolved_at": timezone.now()},
    )


@transaction.atomic
def alerts_acknowledge(alerts: QuerySet[Alert], *, by: AbstractBaseUser) -> int:
    """Someone is looking into these open alerts: they become its owner."""
    return _move(
        alerts,
        statuses=[AlertStatus.OPEN],
        action="alert.acknowledged",
        values={"status": AlertStatus.ACKNOWLEDGED, "owner": by},
    )


@transaction.atomic
def alerts_close(alerts: QuerySet[Alert]) -> int:
    """Staff dealt with these alerts (or they no longer apply)."""
    return _move(
        alerts,
        statuses=OPEN_STATUSES,
        action="alert.closed",
        values={"status": AlertStatus.RESOLVED, "resolved_at": timezone.now()},
    )
