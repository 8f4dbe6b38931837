"""The rows a bulk event covers, read back and digested.

A bulk event (a billing chunk's charges, a statement's lines) proves its rows by a
SHA-256 over their canonical form — the JSON text of ``[pk, field, …]`` per row,
as :mod:`audit.canonical` writes it — and keeps a short digest per row to name
the rows that changed. Recording and verification both read the rows here, the
same way.

On PostgreSQL, when every field is of a kind whose canonical text the database
can write itself (integers, texts, decimals, dates, booleans, foreign keys), the
server builds each row's text and Python only hashes it: a statement of a
hundred thousand lines is not a hundred thousand rows turned into Python values
and back into JSON. The text is the same byte for byte (PostgreSQL escapes JSON
strings exactly as Python's encoder does with ``ensure_ascii=False``; decimals and
dates are quoted strings in both); a test holds the two paths to it. Any other
field (a datetime, JSON) takes the Python path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.db import connections, models, router

from .canonical import ListDigest

# Ids per query (below SQLite's bound parameters; a billing chunk of 2,000 rows is
# read in one query).
BULK_QUERY_IDS = 10_000

# Characters per row in a bulk event's per-row digests: enough to name the rows that
# changed; the full digest over all rows is what proves they did not.
ROW_DIGEST_CHARS = 8

# How PostgreSQL writes a column's canonical JSON text (``{}``: the column): the
# value's own JSON (numbers, booleans, strings; a date is an ISO string whatever
# the DateStyle), or a decimal's text as a JSON string, as Python's str() writes it.
_JSON = "to_json({})::text"
_TEXT = "to_json({}::text)::text"
_SQL_TEXT = {
    "AutoField": _JSON,
    "BigAutoField": _JSON,
    "SmallAutoField": _JSON,
    "IntegerField": _JSON,
    "BigIntegerField": _JSON,
    "SmallIntegerField": _JSON,
    "PositiveIntegerField": _JSON,
    "PositiveBigIntegerField": _JSON,
    "PositiveSmallIntegerField": _JSON,
    "BooleanField": _JSON,
    "CharField": _JSON,
    "TextField": _JSON,
    "DateField": _JSON,
    "DecimalField": _TEXT,
}


def bulk_rows_digest(model: type[models.Model], ids: Sequence[int], fields: Sequence[str]):
    """(digest over all rows, per-row short digests, ids not found) of the rows as
    the database holds them now, in pk order."""
    digest = ListDigest()
    row_digests: list[str] = []
    found: list = []
    texts = _sql_texts(model, fields)
    for start in range(0, len(ids), BULK_QUERY_IDS):
        batch = ids[start : start + BULK_QUERY_IDS]
        if texts is not None:
            for pk, text in _rows_from_sql(model, texts, batch):
                data = text.encode()
                digest.add_canonical(data)
                row_digests.append(_row_digest(data))
                found.append(pk)
            continue
        # a batch at a time (at most BULK_QUERY_IDS rows), not a server-side cursor
        rows = model._base_manager.filter(pk__any=batch).order_by("pk").values_list("pk", *fields)
        for row in rows:
            data = digest.add(list(row))
            row_digests.append(_row_digest(data))
            found.append(row[0])
    missing = sorted(set(ids) - set(found)) if len(found) != len(ids) else []
    return digest.hexdigest(), row_digests, missing


def _row_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:ROW_DIGEST_CHARS]


def _sql_texts(model: type[models.Model], fields: Sequence[str]) -> list[str] | None:
    """The SQL expressions of the pk's and each field's canonical text, or None
    where the database cannot write one of them (or is not PostgreSQL)."""
    connection = connections[router.db_for_read(model)]
    if connection.vendor != "postgresql":
        return None
    quote = connection.ops.quote_name
    texts = []
    for field in [model._meta.pk, *(model._meta.get_field(name) for name in fields)]:
        kind = field.target_field if field.is_relation else field
        if getattr(field, "many_to_many", False) or getattr(field, "one_to_many", False):
            return None
        template = _SQL_TEXT.get(kind.get_internal_type())
        if template is None:
            return None
        column = f"t.{quote(field.column)}"
        texts.append(f"COALESCE({template.format(column)}, 'null')")
    return texts


def _rows_from_sql(model: type[models.Model], texts: list[str], ids: Sequence[int]):
    connection = connections[router.db_for_read(model)]
    quote = connection.ops.quote_name
    pk = quote(model._meta.pk.column)
    sql = (
        f"SELECT t.{pk}, '[' || concat_ws(',', {', '.join(texts)}) || ']' "
        f"FROM {quote(model._meta.db_table)} t WHERE t.{pk} = ANY(%s) ORDER BY t.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(ids)])
        return cursor.fetchall()
