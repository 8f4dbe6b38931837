"""Idempotent POSTs: services that claim, complete and release an Idempotency-Key.

The unique (owner, key) row decides who runs a request: it is inserted, in its own
committed statement, before the view runs. A second request with the same key
cannot insert it; it reads the row instead and is answered from it (the stored
answer when the first has finished, 409 while it is running, 422 when it is not
the same request). There is no check before the insert, so no two requests can
both "see no key" and both run.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .choices import IdempotencyState
from .models import IdempotencyRecord

# Response headers replayed with the stored body (besides its content type).
KEPT_HEADERS = ("Location",)


class Claim(enum.Enum):
    RUN = "run"  # this request holds the key: run it
    REPLAY = "replay"  # the same request finished: answer what it answered
    RUNNING = "running"  # the same request is still running: 409
    MISMATCH = "mismatch"  # the key was used for another request: 422


def request_fingerprint(*, method: str, path: str, content_type: str, body_parts) -> str:
    """SHA-256 over what makes two requests the same: method, full path with its
    query string, the media type, and the body's parts (see middleware)."""
    digest = hashlib.sha256()
    for part in (method, path, content_type):
        digest.update(part.encode())
        digest.update(b"\0")
    for part in body_parts:
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def canonical_json(body: bytes) -> bytes:
    """A JSON body in one canonical form (key order and spacing do not make two
    requests different); any other body as it is."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _kept_for() -> dt.timedelta:
    return dt.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


def _dead_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.IDEMPOTENCY_RUNNING_TIMEOUT)


def _insert(**fields) -> IdempotencyRecord | None:
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(**fields)
    except IntegrityError:
        return None


def idempotency_claim(
    *, owner: str, key: str, method: str, path: str, fingerprint: str
) -> tuple[Claim, IdempotencyRecord | None]:
    """Take ``key`` for this request, or say why not (with the row that holds it)."""
    fields = {"owner": owner, "key": key, "method": method, "path": path[:2000]}
    existing = None
    for _attempt in range(3):
        record = _insert(**fields, fingerprint=fingerprint)
        if record is not None:
            return Claim.RUN, record
        existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if existing is None:
            continue  # released (a failed first request) between our insert and read
        now = timezone.now()
        stale = existing.created_at < now - _kept_for() or (
            existing.state == IdempotencyState.RUNNING and existing.created_at < now - _dead_after()
        )
        if stale:
            # forget it, unless someone else already replaced it
            IdempotencyRecord.objects.filter(
                pk=existing.pk, created_at=existing.created_at, state=existing.state
            ).delete()
            continue
        if existing.fingerprint != fingerprint:
            return Claim.MISMATCH, existing
        if existing.state == IdempotencyState.RUNNING:
            return Claim.RUNNING, existing
        return Claim.REPLAY, existing
    return Claim.RUNNING, existing


def idempotency_complete(*, record: IdempotencyRecord, response) -> None:
    """Store the answer of the request that held the key."""
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyState.COMPLETED,
        response_status=response.status_code,
        response_content_type=response.get("Content-Type", ""),
        response_headers=headers,
        response_body=bytes(response.content),
        completed_at=timezone.now(),
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Give the key back (the request failed on our side): the client may retry."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyState.RUNNING).delete()


def idempotency_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the keys past their keeping time; returns how many."""
    cutoff = (now or timezone.now()) - _kept_for()
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
