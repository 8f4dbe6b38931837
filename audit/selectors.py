"""Reading the audit trail."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

from .models import AuditEvent


def events_for(obj: models.Model) -> QuerySet[AuditEvent]:
    """The events recorded about ``obj``, newest first.

    Bulk events name their rows only inside ``bulk``; they are not included.
    """
    return events_about(obj._meta.label_lower, obj.pk)


def events_about(object_type: str, object_id) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by(
        "-sequence"
    )


def chain_head() -> tuple[int, str] | None:
    """(sequence, hash) of the last event, or None for an empty trail."""
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
