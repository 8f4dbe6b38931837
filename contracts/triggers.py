"""The database's refusal to change a signed contract's fee terms in place.

Once a contract is signed its fees are what the customer agreed to; a change is an
amendment the customer consents to (docs/amendments.md). The services never update
those columns, and these triggers make sure nothing else does either — a raw
UPDATE, a bulk admin edit, a script — on PostgreSQL and on SQLite alike. Draft
contracts keep their fees editable (their rows are replaced on update).

SQLite drops a table's triggers when a migration rebuilds the table: a later
migration that alters Fee must call :func:`install` again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

TABLE = "contracts_fee"
MESSAGE = "the fee terms of a signed contract cannot be changed in place; propose an amendment"
TERMS = ("kind", "amount", "amount_currency", "cycle", "treatment", "contract_id")

_changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in TERMS)
_changed_sqlite = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in TERMS)

POSTGRESQL_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION contracts_fee_terms_frozen() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM contracts_contract
            WHERE id = OLD.contract_id AND status <> 'draft'
        ) THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    f"""
    CREATE TRIGGER contracts_fee_terms_frozen BEFORE UPDATE ON {TABLE}
    FOR EACH ROW WHEN ({_changed}) EXECUTE FUNCTION contracts_fee_terms_frozen()
    """,
]
POSTGRESQL_REMOVE = [
    f"DROP TRIGGER IF EXISTS contracts_fee_terms_frozen ON {TABLE}",
    "DROP FUNCTION IF EXISTS contracts_fee_terms_frozen()",
]
SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER IF NOT EXISTS contracts_fee_terms_frozen BEFORE UPDATE ON {TABLE}
    FOR EACH ROW WHEN ({_changed_sqlite}) AND EXISTS (
        SELECT 1 FROM contracts_contract WHERE id = OLD.contract_id AND status <> 'draft'
    )
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """
]
SQLITE_REMOVE = ["DROP TRIGGER IF EXISTS contracts_fee_terms_frozen"]


def _statements(vendor: str, *, install_: bool) -> list[str]:
    if vendor == "postgresql":
        return POSTGRESQL_INSTALL if install_ else POSTGRESQL_REMOVE
    if vendor == "sqlite":
        return SQLITE_INSTALL if install_ else SQLITE_REMOVE
    return []


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install_=True):
            cursor.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install_=False):
            cursor.execute(sql)


@contextmanager
def suspended(using: str = "default") -> Iterator[None]:
    """The refusal off for a moment: for tests that show what the audit trail
    catches when someone with the table owner's rights changes a fee anyway."""
    connection = connections[using]
    remove(connection)
    try:
        yield
    finally:
        install(connection)


def migrate_install(apps, schema_editor) -> None:
    install(schema_editor.connection)


def migrate_remove(apps, schema_editor) -> None:
    remove(schema_editor.connection)
