"""Appending to the audit chain.

Record an event as the **last step of the transaction** that makes the change::

    with transaction.atomic():
        contract.status = ContractStatus.SIGNED
        contract.save(update_fields=["status"])
        audit_record(action="contract.signed", obj=contract,
                     changes=changes_between(before, snapshot(contract, FIELDS)))

The event commits or rolls back with the change. Appending takes the chain lock
(a PostgreSQL transaction-level advisory lock), which is held until the caller's
transaction ends: every writer of an audit event waits there, so whatever the
caller does after recording is done while every other writer waits. Everything
that can be computed before the lock (normalising values, a bulk digest) is.

The lock is what keeps the chain from forking: two writers reading the same head
would both try to append ``sequence + 1``. The unique sequence is only a backstop
that turns such a bug into an error instead of a fork. The head is read after the
lock is granted, which relies on READ COMMITTED (Django's default): under
REPEATABLE READ the head could come from a snapshot taken before the lock.

On SQLite writers are already serialised (the project opens transactions with
BEGIN IMMEDIATE), so no lock is taken.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

from django.db import connection, models, transaction
from django.utils import timezone

from .canonical import ZERO_HASH, normalise
from .context import current_context, resolve_actor
from .events import recorded
from .models import AuditEvent
from .rows import bulk_rows_digest

# One fixed advisory lock for the whole chain, as feemgmt.core.locks derives its
# namespaces: (namespace, key) with the namespace from the name's CRC-32.
CHAIN_LOCK = (zlib.crc32(b"audit-chain") - 2**31, 0)


def label_of(model: type[models.Model] | models.Model) -> str:
    return model._meta.label_lower


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict:
    """The named fields of ``obj`` as they would be recorded (relations by id)."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = field.attname if field.is_relation and field.many_to_one else name
        values[name] = normalise(getattr(obj, attname))
    return values


def changes_between(before: dict, after: dict) -> dict:
    """``{field: [before, after]}`` for the fields whose value differs."""
    before, after = normalise(before), normalise(after)
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(CHAIN_LOCK))


def _append(
    *,
    action: str,
    object_type: str,
    object_id,
    changes: dict,
    bulk: dict | None,
    actor: str | None,
) -> AuditEvent:
    if not action:
        raise ValueError("an audit event needs an action")
    context = current_context()
    if actor:
        user_id = None
    else:
        actor, user_id = resolve_actor(context)
    changes = normalise(changes or {})
    if not isinstance(changes, dict):
        raise TypeError("changes must be a dict")
    fields = {
        "actor": actor,
        "actor_user_id": user_id,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id) if object_id not in (None, "") else "",
        "changes": changes,
        "bulk": normalise(bulk) if bulk is not None else None,
        "request_id": context.request_id,
        "ip": context.ip,
    }
    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        sequence, prev_hash = (head[0] + 1, head[1]) if head else (1, ZERO_HASH)
        event = AuditEvent(
            sequence=sequence, occurred_at=timezone.now(), prev_hash=prev_hash, **fields
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        recorded.send(sender=AuditEvent, event=event)
    return event


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id="",
    changes: dict | None = None,
    actor: str | None = None,
) -> AuditEvent:
    """Append one event about ``obj`` (or ``object_type``/``object_id``).

    ``changes`` is ``{field: [before, after]}`` (see :func:`changes_between`), or
    ``{"after": snapshot}`` for a creation. Values are normalised before they are
    stored (Decimals and dates become strings) so the stored event re-verifies.
    ``actor`` overrides the context's (docs/audit.md lists the forms).
    """
    if obj is not None:
        object_type = object_type or label_of(obj)
        object_id = object_id or obj.pk
    return _append(
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=changes or {},
        bulk=None,
        actor=actor,
    )


def audit_record_bulk(
    *,
    action: str,
    model: type[models.Model],
    ids: Sequence[int],
    fields: Sequence[str],
    actor: str | None = None,
    object_type: str = "",
    object_id="",
    extra: dict | None = None,
) -> AuditEvent:
    """One event for many rows (a billing chunk's charges, a statement's lines).

    The event keeps the sorted ids and a SHA-256 digest of ``fields`` of those rows,
    read back from the database in pk order — so a later change to any of them, or
    its deletion, is found by ``audit_verify``. Name only fields that must never
    change afterwards (amounts, dates, references), not statuses. ``extra`` (totals,
    the run's date) is stored as the event's ``changes``.
    """
    ids = sorted(set(ids))
    fields = list(fields)
    for name in fields:
        model._meta.get_field(name)  # a typo fails now, not at verification
    digest, row_digests, missing = bulk_rows_digest(model, ids, fields)
    if missing:
        raise ValueError(f"{label_of(model)} rows not found: {missing[:20]}")
    bulk = {
        "model": label_of(model),
        "ids": ids,
        "fields": fields,
        "digest": digest,
        "row_digests": "".join(row_digests),
    }
    return _append(
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=extra or {},
        bulk=bulk,
        actor=actor,
    )
