"""Raising alerts, one by one (the service that met a problem) or many at once (a
rule's findings, a statement's overpayments).

``alert.raised`` is recorded when an alert is created, not when the one already
open is returned. A critical alert is e-mailed to the finance group as soon as its
transaction commits; the others wait for the next digest (alerts/services/notify.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record, audit_record_bulk, snapshot
from contracts.models import Customer
from feemgmt.core.sql import insert_rows

from ..choices import OPEN_STATUSES, AlertStatus, Severity
from ..models import Alert

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
        if severity == Severity.CRITICAL:
            notify_critical_after_commit()
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
            if any(a.severity == Severity.CRITICAL for a in alerts):
                notify_critical_after_commit()
    return len(ids)


def notify_critical_after_commit() -> None:
    """Have the critical alerts e-mailed once this transaction commits (a task, so a
    slow mail server never holds the transaction that raised them)."""
    from ..tasks import alerts_notify_task

    transaction.on_commit(lambda: alerts_notify_task.delay(lowest=Severity.CRITICAL.value))
