"""What the billing run is compared with: the same rows written by raw COPY.

After a monthly run, the charges it created, their journal entries and the entries'
lines are read back (``COPY … TO``) and written again by ``COPY … FROM`` into
scratch tables made like the real ones: ``LIKE … INCLUDING ALL`` (columns, checks,
every index, the partial unique ones included) plus the real tables' foreign keys,
pointing at the real contracts, fees and accounts, and from the scratch lines to the
scratch entries. The scratch tables first receive, untimed, the rows the real tables
held before the run, so both are written into indexes of the same size. Foreign keys
are checked immediately, inside the timed COPY. Then the scratch tables are dropped.

No Python per row, no calendar, no audit, no bookmark: what PostgreSQL on this
machine needs to take these rows in.
"""

from __future__ import annotations

import io
import re
import time

SCRATCH_PREFIX = "bench_copy_"


def _scratch(table: str) -> str:
    return (SCRATCH_PREFIX + table)[:63]


def _create_scratch(cursor, tables: list[str]) -> None:
    for table in tables:
        cursor.execute(f"DROP TABLE IF EXISTS {_scratch(table)} CASCADE")
        cursor.execute(f"CREATE TABLE {_scratch(table)} (LIKE {table} INCLUDING ALL)")
    for table in tables:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [table],
        )
        for name, definition in cursor.fetchall():
            target = re.search(r"REFERENCES (\w+)\(", definition).group(1)
            if target in tables:
                definition = definition.replace(
                    f"REFERENCES {target}(", f"REFERENCES {_scratch(target)}("
                )
            cursor.execute(
                f"ALTER TABLE {_scratch(table)} ADD CONSTRAINT {(name + '_c')[-63:]} {definition}"
            )


def copy_floor(*, charges_after: int, entries_after: int) -> dict:
    """Write the charges with id > ``charges_after``, the journal entries with id >
    ``entries_after`` and their lines again by COPY; the seconds per table and in all."""
    from django.db import connection, transaction

    from billing.models import Charge
    from ledger.models import JournalEntry, JournalLine

    charge, entry, line = (m._meta.db_table for m in (Charge, JournalEntry, JournalLine))
    new = {
        charge: f"id > {int(charges_after)}",
        entry: f"id > {int(entries_after)}",
        line: f"entry_id > {int(entries_after)}",
    }
    old = {
        charge: f"id <= {int(charges_after)}",
        entry: f"id <= {int(entries_after)}",
        line: f"entry_id <= {int(entries_after)}",
    }
    tables = [charge, entry, line]
    with connection.cursor() as cursor:
        _create_scratch(cursor, tables)
        for table in tables:  # untimed: the rows that were there before the run
            cursor.execute(
                f"INSERT INTO {_scratch(table)} SELECT * FROM {table} WHERE {old[table]}"
            )
        cursor.execute(f"ANALYZE {', '.join(_scratch(t) for t in tables)}")
        data, rows = {}, {}
        for table in tables:
            buffer = io.BytesIO()
            cursor.copy_expert(f"COPY (SELECT * FROM {table} WHERE {new[table]}) TO STDOUT", buffer)
            data[table] = buffer
            rows[table] = buffer.getvalue().count(b"\n")
    seconds = {}
    try:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                data[table].seek(0)
                began = time.perf_counter()
                cursor.copy_expert(f"COPY {_scratch(table)} FROM STDIN", data[table])
                seconds[table] = time.perf_counter() - began
        total = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            for table in reversed(tables):
                cursor.execute(f"DROP TABLE IF EXISTS {_scratch(table)} CASCADE")
    return {
        "charges": rows[charge],
        "entries": rows[entry],
        "lines": rows[line],
        "seconds": total,
        "by_table": {table: round(s, 3) for table, s in seconds.items()},
        "charges_per_second": rows[charge] / total if total else 0.0,
    }
