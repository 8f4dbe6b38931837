"""The one serialisation every audit hash is computed over.

A hash is only worth something if it can be recomputed years later from what the
database hands back. PostgreSQL's jsonb reorders keys and reformats numbers, SQLite
keeps JSON as text, drivers return Decimals, floats or strings depending on the
column: so values are normalised to plain JSON types (str, int, bool, None, lists,
dicts with str keys) *before* they are stored, and the hash is taken over a fixed
textual form of those values — never over the database's own text.

The form: JSON with sorted keys, no whitespace, ``ensure_ascii=False``, UTF-8.
Decimals, dates, times and UUIDs become strings; datetimes become UTC ISO 8601
with microseconds (``2026-04-01T00:05:00.000000+00:00``); Money becomes
``"<amount> <currency>"``; floats become their shortest ``repr`` string, because a
float's JSON text is not stable across backends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import Enum

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from moneyed import Money

ZERO_HASH = "0" * 64


def utc_iso(value: dt.datetime) -> str:
    """Always the same form, so a datetime read back serialises as it was written."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # the project's time zone, as Django reads it
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _as_is(value):
    return value


# The exact types a database row is made of, and their normal form: the bulk
# events digest every row of a statement or a billing chunk, so these skip the
# general dispatch below (which gives the same result, slower).
_ROW_TYPES = {
    type(None): _as_is,
    bool: _as_is,
    int: _as_is,
    str: _as_is,
    Decimal: str,
    dt.date: dt.date.isoformat,
}


def normalise(value):
    """``value`` as plain JSON types that survive a round trip through any backend."""
    kind = type(value)
    simple = _ROW_TYPES.get(kind)
    if simple is not None:
        return simple(value)
    if kind is list or kind is tuple:
        return [
            simple(v) if (simple := _ROW_TYPES.get(type(v))) is not None else normalise(v)
            for v in value
        ]
    if value is None or (isinstance(value, bool | int) and not isinstance(value, Enum)):
        return value
    if isinstance(value, Enum):
        return normalise(value.value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Money):
        return f"{value.amount} {value.currency.code}"
    if isinstance(value, dt.datetime):
        return utc_iso(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value.total_seconds())
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return normalise(value.pk)
    if isinstance(value, Mapping):
        return {_key(k): normalise(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((normalise(v) for v in value), key=canonical_text)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Iterable):
        return [normalise(v) for v in value]
    raise TypeError(f"cannot record a {type(value).__name__} in the audit trail")


def _key(key) -> str:
    """JSON object keys are strings; turn others into the string they would become."""
    key = normalise(key)
    return key if isinstance(key, str) else canonical_text(key)


# One encoder for every hash: json.dumps with options builds a new one per call,
# and the bulk events encode a row at a time.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_text(value) -> str:
    return _ENCODER.encode(normalise(value))


def canonical_bytes(value) -> bytes:
    return canonical_text(value).encode("utf-8")


def sha256_hex(value) -> str:
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


class ListDigest:
    """SHA-256 of the canonical form of a list, fed one item at a time.

    A bulk event covers thousands of rows; hashing them as they stream from the
    cursor gives exactly ``sha256_hex(list_of_rows)`` without building the list.
    """

    def __init__(self):
        self._hash = hashlib.sha256(b"[")
        self._empty = True

    def add(self, item) -> bytes:
        """Add one item; returns its canonical bytes (for a per-row digest)."""
        data = canonical_bytes(item)
        self.add_canonical(data)
        return data

    def add_canonical(self, data: bytes) -> None:
        """Add one item already in canonical form (its bytes)."""
        self._hash.update(data if self._empty else b"," + data)
        self._empty = False

    def hexdigest(self) -> str:
        final = self._hash.copy()
        final.update(b"]")
        return final.hexdigest()
