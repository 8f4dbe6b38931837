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
from collections.abc import Iterator
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
