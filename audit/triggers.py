"""The database's refusal to change an audit event.

PostgreSQL: row triggers refuse UPDATE and DELETE, a statement trigger refuses
TRUNCATE. SQLite: row triggers refuse UPDATE and DELETE (SQLite has no TRUNCATE).
A superuser, or the table's owner, can still disable triggers; the hash chain and
the head anchored outside the database (docs/audit.md) are what catch that.

SQLite rebuilds a table for most schema changes and drops its triggers with the old
table: a later migration that alters AuditEvent must call :func:`install` again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

TABLE = "audit_auditevent"
MESSAGE = "audit events are append-only"

POSTGRESQL_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}: % refused on %', TG_OP, TG_TABLE_NAME
            USING HINT = 'Record a new event instead of changing one.';
    END
    $$
    """,
    f"""
    CREATE TRIGGER audit_refuse_update_delete BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
    """,
    f"""
    CREATE TRIGGER audit_refuse_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
    """,
]
POSTGRESQL_REMOVE = [
    f"DROP TRIGGER IF EXISTS audit_refuse_update_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_refuse_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
]

SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_refuse_{op.lower()} BEFORE {op} ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {op} refused on {TABLE}'); END
    """
    for op in ("UPDATE", "DELETE")
]
SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS audit_refuse_{op}" for op in ("update", "delete")]


def _statements(vendor: str, *, install_: bool) -> list[str]:
    if vendor == "postgresql":
        return POSTGRESQL_INSTALL if install_ else POSTGRESQL_REMOVE
    if vendor == "sqlite":
        return SQLITE_INSTALL if install_ else SQLITE_REMOVE
    return []  # other backends: the hash chain alone


def _run(connection, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection) -> None:
    _run(connection, _statements(connection.vendor, install_=True))


def remove(connection) -> None:
    _run(connection, _statements(connection.vendor, install_=False))


def is_test_database(connection) -> bool:
    """A database Django's test runner made (``test_…``, or SQLite in memory)."""
    from django.db.backends.base.creation import TEST_DATABASE_PREFIX

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return True
    return str(connection.settings_dict["NAME"]).startswith(TEST_DATABASE_PREFIX)


@contextmanager
def suspended(using: str = "default") -> Iterator[None]:
    """The triggers off for a moment (flushing a test database). Needs the table's
    owner; on PostgreSQL DISABLE TRIGGER waits for every open transaction on it."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        _run(connection, [f"ALTER TABLE {TABLE} DISABLE TRIGGER USER"])
        try:
            yield
        finally:
            _run(connection, [f"ALTER TABLE {TABLE} ENABLE TRIGGER USER"])
    else:
        remove(connection)
        try:
            yield
        finally:
            install(connection)
