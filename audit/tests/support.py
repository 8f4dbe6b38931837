"""What the audit tests share: writing events, and tampering as a superuser would."""

from __future__ import annotations

from contextlib import contextmanager
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit import triggers
from audit.services import audit_record


def record_events(count: int, *, action: str = "test.event") -> list:
    return [
        audit_record(
            action=action,
            object_type="tests.thing",
            object_id=str(n),
            changes={"n": [n - 1, n], "名称": ["旧", "新"]},
        )
        for n in range(1, count + 1)
    ]


@contextmanager
def triggers_bypassed():
    """The append-only triggers out of the way, as a superuser could do it: on
    PostgreSQL by turning triggers off for the session, on SQLite by dropping them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
    else:
        with triggers.suspended():
            yield


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def run_verify(*args) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``manage.py audit_verify``."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(str(exc))
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()
