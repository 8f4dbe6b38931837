from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from contracts.models import Customer

from .choices import OPEN_STATUSES, AlertStatus, Severity
from .models import Alert


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
    loser reads the winner's row.
    """
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    try:
        with transaction.atomic():
            return Alert.objects.create(
                kind=kind,
                subject=subject,
                message=message,
                severity=severity,
                customer_id=customer_id,
            )
    except IntegrityError:
        return Alert.objects.get(kind=kind, subject=subject, status__in=OPEN_STATUSES)


def alerts_resolve(*, kind: str, subject: str) -> int:
    """Close the open alerts of a kind about a subject (the problem went away)."""
    return Alert.objects.filter(kind=kind, subject=subject, status__in=OPEN_STATUSES).update(
        status=AlertStatus.RESOLVED, resolved_at=timezone.now()
    )


def alerts_acknowledge(alerts: QuerySet[Alert], *, by: AbstractBaseUser) -> int:
    """Someone is looking into these open alerts: they become its owner."""
    return alerts.filter(status=AlertStatus.OPEN).update(status=AlertStatus.ACKNOWLEDGED, owner=by)


def alerts_close(alerts: QuerySet[Alert]) -> int:
    """Staff dealt with these alerts (or they no longer apply)."""
    return alerts.filter(status__in=OPEN_STATUSES).update(
        status=AlertStatus.RESOLVED, resolved_at=timezone.now()
    )
