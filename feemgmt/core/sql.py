"""Set-based writes the ORM does not offer: multi-row INSERT with ON CONFLICT DO
NOTHING and RETURNING, on PostgreSQL and SQLite alike.

``bulk_create`` builds a model instance per row and cannot say which rows an
ignored conflict skipped; the billing run inserts hundreds of thousands of rows
and must count exactly the ones it created.

Two ways in, one result:

- a multi-row ``INSERT … VALUES``, values adapted by the model's own fields
  (``get_db_prep_save``) so dates, decimals and aware datetimes reach each backend
  as the ORM would send them — SQLite always, PostgreSQL for small batches;
- on PostgreSQL, from ``COPY_FROM`` rows up, ``COPY … FROM STDIN`` in text format:
  straight into the table when nothing is returned and no conflict may be
  ignored, otherwise into a temporary table first and then one
  ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` from it. The server
  parses the values with the columns' own input functions, so the Python side
  only writes text; values must already be what the column holds (money
  quantized, datetimes aware).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import operator
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from enum import Enum
from itertools import count

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction

# Well below SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
MAX_PARAMS = 30_000
# From this many rows PostgreSQL is sent COPY instead of INSERT … VALUES.
COPY_FROM = 1_000

_scratch = count(1)


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
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return []
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    if connection.vendor == "postgresql" and len(rows) >= COPY_FROM:
        return _copy(connection, model, fields, rows, returning, ignore_conflicts)
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


# --- COPY (PostgreSQL) ---------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _text(value) -> str:
    """One value in COPY's text format (the common types first: a statement's
    hundred thousand rows pass through here)."""
    kind = type(value)
    if kind is str:
        return value.translate(_ESCAPES)
    if kind is int or kind is Decimal:
        return str(value)
    if value is None:
        return _NULL
    if kind is bool:
        return "t" if value else "f"
    if kind is dt.date:
        return value.isoformat()
    if kind is dt.datetime:
        if value.tzinfo is None:
            raise ValueError("COPY takes aware datetimes only")
        return value.isoformat()
    if isinstance(value, Enum):
        return _text(value.value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, dt.datetime):  # a subclass (a test clock's)
        if value.tzinfo is None:
            raise ValueError("COPY takes aware datetimes only")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).translate(_ESCAPES)  # str subclasses, lazy translations, UUIDs


def _writer(field) -> Callable:
    if not isinstance(field, models.JSONField):
        return _text
    encoder = field.encoder  # as the field would encode it for a parameter

    def json_text(value) -> str:
        """JSON, not yet escaped for COPY (:func:`_column_text` does it)."""
        return json.dumps(value, cls=encoder, ensure_ascii=False)

    return json_text


_tzinfo = operator.attrgetter("tzinfo")
_SPECIAL = ("\\", "\t", "\n", "\r")


def _escaped(texts: list[str]) -> list[str]:
    """COPY's escapes, looked for once in the whole column: most columns have none."""
    joined = "".join(texts)
    if any(special in joined for special in _SPECIAL):
        return [text.translate(_ESCAPES) for text in texts]
    return texts


def _column_text(writer: Callable, values: tuple) -> list[str]:
    """One column of a batch as COPY text. A column whose values are all of one
    plain type (the usual case: ids, amounts, dates, texts, choices) is converted by
    a builtin mapped over it, without a Python call per value; anything else goes
    through the column's writer value by value."""
    if writer is not _text:  # JSON: SQL NULL for None, the texts still to be escaped
        texts = _escaped(["" if value is None else writer(value) for value in values])
        return [_NULL if value is None else text for value, text in zip(values, texts, strict=True)]
    kinds = set(map(type, values))
    if kinds == {int, type(None)}:  # a nullable foreign key
        return [_NULL if value is None else str(value) for value in values]
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind is int or kind is Decimal:
            return list(map(str, values))
        if kind is str:
            return _escaped(list(values))
        if issubclass(kind, str) and issubclass(kind, Enum):  # a TextChoices member
            return _escaped([value.value for value in values])
        if kind is dt.date:
            return list(map(dt.date.isoformat, values))
        if kind is dt.datetime and None not in set(map(_tzinfo, values)):
            return list(map(dt.datetime.isoformat, values))
    return list(map(_text, values))


def _copy(connection, model, fields, rows, returning, ignore_conflicts) -> list[tuple]:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(field.column) for field in fields)
    writers = [_writer(field) for field in fields]
    columns = zip(*rows, strict=True)
    texts = [_column_text(writer, values) for writer, values in zip(writers, columns, strict=True)]
    buffer = io.StringIO("\n".join(map("\t".join, zip(*texts, strict=True))) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg2's own cursor: Django's wrapper has no copy_expert
        if not returning and not ignore_conflicts:
            with connection.wrap_database_errors:  # IntegrityError, as from execute()
                raw.copy_expert(f"COPY {table} ({names}) FROM STDIN", buffer)
            return []
        scratch = quote(f"copy_{model._meta.db_table}_{next(_scratch)}")
        tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        if returning:
            tail += " RETURNING " + ", ".join(
                quote(model._meta.get_field(n).column) for n in returning
            )
        # ON COMMIT DROP needs a transaction; a failure rolls the table back with it
        with transaction.atomic(using=connection.alias):
            cursor.execute(
                f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS "
                f"SELECT {names} FROM {table} WITH NO DATA"
            )
            with connection.wrap_database_errors:
                raw.copy_expert(f"COPY {scratch} ({names}) FROM STDIN", buffer)
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch}{tail}")
            result = cursor.fetchall() if returning else []
            cursor.execute(f"DROP TABLE {scratch}")
        return result


def allocate_ids(model: type[models.Model], n: int) -> list[int]:
    """``n`` primary keys for rows of ``model`` to be inserted later in this
    transaction with their ids given, so that rows pointing at them (foreign keys
    are checked at commit) can be written first.

    On PostgreSQL they come from the table's sequence: unique whatever else runs.
    SQLite has one writer at a time: inside a transaction (opened ``IMMEDIATE`` by
    the settings, so it holds the write lock from its start) the ids follow the
    largest the table has used."""
    if n <= 0:
        return []
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    table, column = meta.db_table, meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), column, n],
            )
            return [pk for (pk,) in cursor.fetchall()]
        if not connection.in_atomic_block:
            raise RuntimeError("allocate_ids needs a transaction")
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT MAX({quote(column)}) FROM {quote(table)}")
        (largest,) = cursor.fetchone()
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        used = cursor.fetchone()
        start = max(largest or 0, used[0] if used else 0) + 1
        return list(range(start, start + n))


def update_by_id(model: type[models.Model], field_name: str, values: dict[int, object]) -> int:
    """Set ``field_name`` of each row ``pk`` to ``values[pk]``, each row its own value;
    returns the rows updated (:func:`update_rows` with one field)."""
    return update_rows(model, (field_name,), {pk: (value,) for pk, value in values.items()})


def update_rows(
    model: type[models.Model], field_names: Sequence[str], rows: dict[int, Sequence]
) -> int:
    """Set ``field_names`` of each row ``pk`` to ``rows[pk]`` (values in that order),
    each row its own values; returns the rows updated.

    On PostgreSQL one ``UPDATE … FROM unnest(ids, column, …)`` whatever the count, the
    values adapted by their fields as the ORM would send them (``bulk_update``
    builds a CASE per field and row instead, and compiles it in Python at several
    milliseconds per row). Elsewhere one ``UPDATE … WHERE id IN (…)`` per distinct
    set of values.
    """
    if not rows:
        return 0
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    if connection.vendor != "postgresql":
        groups: dict[object, tuple[Sequence, list[int]]] = {}
        for pk, values in rows.items():
            key: object = tuple(values)
            try:
                hash(key)
            except TypeError:  # a JSON value: the row on its own
                key = ("row", pk)
            groups.setdefault(key, (values, []))[1].append(pk)
        return sum(
            model._default_manager.filter(pk__in=ids).update(
                **{field.attname: value for field, value in zip(fields, values, strict=True)}
            )
            for values, ids in groups.values()
        )
    pk = meta.pk
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = [
        [field.get_db_prep_save(values[i], connection) for values in rows.values()]
        for i, field in enumerate(fields)
    ]
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in (pk, *fields))
    names = ", ".join(["pk", *(f"v{i}" for i in range(len(fields)))])
    assignments = ", ".join(f"{quote(field.column)} = v.v{i}" for i, field in enumerate(fields))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({names}) "
            f"WHERE {table}.{quote(pk.column)} = v.pk",
            [list(rows), *columns],
        )
        return cursor.rowcount
