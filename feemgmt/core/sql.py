"""Set-based writes the ORM does not offer: multi-row INSERT with ON CONFLICT DO
NOTHING and RETURNING, on PostgreSQL and SQLite alike.

``bulk_create`` builds a model instance per row and cannot say which rows an
ignored conflict skipped; the billing run inserts hundreds of thousands of rows
and must count exactly the ones it created. Values are adapted by the model's own
fields (``get_db_prep_save``), so dates, decimals and aware datetimes reach each
backend as the ORM would send them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import DEFAULT_DB_ALIAS, connections, models

# Well below SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
MAX_PARAMS = 30_000


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    returning: Sequence[str] = (),
    ignore_conflicts: bool = False,
) -> list[tuple]:
    """Insert ``rows`` (values in ``columns`` order, attnames) into ``model``'s
    table in as few statements as the parameter limits allow.

    Returns the ``returning`` columns of the rows actually inserted (a row skipped
    by ``ignore_conflicts`` returns nothing). The order of returned rows is not
    promised: return a key column to match them up.
    """
    # The connection itself, not django.db.connection: that proxy resolves the
    # thread's connection on every attribute access, a million times per run.
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) VALUES "
    )
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        tail += " RETURNING " + ", ".join(quote(meta.get_field(n).column) for n in returning)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, MAX_PARAMS // len(fields))
    prepared = [
        [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, row, strict=True)
        ]
        for row in rows
    ]
    result: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), per_statement):
            batch = prepared[start : start + per_statement]
            params = [value for row in batch for value in row]
            cursor.execute(head + ", ".join([placeholder] * len(batch)) + tail, params)
            if returning:
                result += cursor.fetchall()
    return result
