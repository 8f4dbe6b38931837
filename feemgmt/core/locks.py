"""Advisory locks: "one worker at a time on this thing", held across transactions.

A row lock ends with its transaction, but collecting a charge spans several: the
attempt is committed before the gateway is called (so a crash leaves a record to
resolve), and the answer is recorded after. A PostgreSQL session advisory lock
covers the whole: it is held until released, and released by the server if the
worker dies, so a killed worker never leaves a charge locked.

On other databases (the embedded SQLite default) writers are serialised by the
database itself and there is only one process collecting; the lock is a no-op.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection


def _namespace(name: str) -> int:
    """A stable 32-bit signed id for a lock namespace ("charge-collection")."""
    return zlib.crc32(name.encode()) - 2**31


@contextmanager
def advisory_lock(namespace: str, key: int) -> Iterator[bool]:
    """Try to take the lock (namespace, key) without waiting; yield whether it was.

    ``key`` must fit in 32 bits (row ids do, up to two billion).
    """
    if connection.vendor != "postgresql":
        yield True
        return
    ns = _namespace(namespace)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ns, key])
        (held,) = cursor.fetchone()
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ns, key])


@contextmanager
def advisory_locks(namespace: str, keys: Iterable[int]) -> Iterator[list[int]]:
    """:func:`advisory_lock` for many keys in one round trip: yields the keys taken
    (in order; the others are held by someone else), and releases them all after.

    Taken again by :func:`advisory_lock` in the same session, a key is granted at
    once (PostgreSQL counts a session's holds), so a batch may hand one of its keys
    to the single-key path.
    """
    keys = sorted(set(keys))
    if connection.vendor != "postgresql" or not keys:
        yield keys
        return
    ns = _namespace(namespace)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k FROM unnest(%s::int[]) AS k WHERE pg_try_advisory_lock(%s, k) ORDER BY k",
            [keys, ns],
        )
        held = [key for (key,) in cursor.fetchall()]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_advisory_unlock(%s, k)) FROM unnest(%s::int[]) AS k",
                    [ns, held],
                )
