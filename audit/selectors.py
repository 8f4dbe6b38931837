"""Reading the audit trail."""

from __future__ import annotations

from django.db import connection, models
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from .models import AuditEvent


def events_for(obj: models.Model) -> QuerySet[AuditEvent]:
    """The events recorded about ``obj``, newest first: its own, and the bulk
    events (a billing chunk, a statement import) that name it among their rows."""
    return events_about(obj._meta.label_lower, obj.pk)


def events_about(object_type: str, object_id) -> QuerySet[AuditEvent]:
    about = Q(object_type=object_type, object_id=str(object_id))
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        pass  # bulk events name rows by integer id only
    else:
        about |= _in_bulk(object_type, pk)
    return AuditEvent.objects.filter(about).order_by("-sequence")


def _in_bulk(object_type: str, pk: int) -> Q:
    """Bulk events of ``object_type`` whose ids include ``pk``: jsonb containment
    on PostgreSQL (indexed, migration 0004), SQLite's json_each elsewhere."""
    if connection.vendor == "postgresql":
        return Q(bulk__model=object_type, bulk__ids__contains=[pk])
    table = AuditEvent._meta.db_table
    return Q(bulk__model=object_type) & Q(
        sequence__in=RawSQL(
            f"SELECT e.sequence FROM {table} e, json_each(e.bulk, '$.ids') i WHERE i.value = %s",
            (pk,),
        )
    )


def chain_head() -> tuple[int, str] | None:
    """(sequence, hash) of the last event, or None for an empty trail."""
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
