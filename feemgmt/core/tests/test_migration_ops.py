"""The charge list indexes are built without blocking writes on PostgreSQL and with
the ordinary statements on SQLite (feemgmt/core/migration_ops.py)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection


def sql_of(migration: str, *, backwards: bool = False) -> str:
    out = StringIO()
    call_command("sqlmigrate", "billing", migration, backwards=backwards, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)  # sqlmigrate, like migrate, outside a transaction
def test_the_keyset_indexes_are_built_before_the_old_ones_go_and_online_on_postgresql():
    forwards = sql_of("0005")
    creates = [line for line in forwards.splitlines() if line.startswith("CREATE INDEX")]
    drops = [line for line in forwards.splitlines() if line.startswith("DROP INDEX")]
    assert len(creates) == 3 and len(drops) == 2
    assert forwards.index(creates[-1]) < forwards.index(drops[0])  # never without an index
    online = connection.vendor == "postgresql"
    assert all(("CONCURRENTLY" in line) == online for line in creates + drops)
    assert "BEGIN;" not in forwards  # CONCURRENTLY is refused inside a transaction
    backwards = sql_of("0005", backwards=True)
    assert all(
        ("CONCURRENTLY" in line) == online
        for line in backwards.splitlines()
        if line.startswith(("CREATE INDEX", "DROP INDEX"))
    )
