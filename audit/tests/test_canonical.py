"""The serialisation every hash is computed over: one form for each value,
whatever type it arrives as."""

import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal

import pytest

from audit.canonical import ListDigest, canonical_text, normalise, sha256_hex
from feemgmt.core.money import money


def test_sorted_keys_no_whitespace_and_unicode_kept():
    text = canonical_text({"b": 1, "a": {"z": None, "y": "租金"}})
    assert text == '{"a":{"y":"租金","z":null},"b":1}'
    assert (
        sha256_hex({"a": {"y": "租金", "z": None}, "b": 1})
        == hashlib.sha256(text.encode("utf-8")).hexdigest()
    )


def test_values_become_strings_in_one_form():
    moment = dt.datetime(2026, 4, 1, 8, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    values = normalise(
        {
            "amount": Decimal("1200.10"),
            "fee": money("99.5", "CNY"),
            "on": dt.date(2026, 4, 1),
            "at": moment,
            "id": uuid.UUID(int=1),
            "ratio": 0.1,
            1: "int key",
        }
    )
    assert values == {
        "amount": "1200.10",
        "fee": "99.50 CNY",
        "on": "2026-04-01",
        "at": "2026-04-01T00:05:00.000000+00:00",
        "id": "00000000-0000-0000-0000-000000000001",
        "ratio": "0.1",
        "1": "int key",
    }


def test_normalised_values_survive_a_json_round_trip():
    value = normalise({"n": [Decimal("1.10"), None, True, 7], "d": {"k": dt.date(2026, 1, 2)}})
    assert json.loads(json.dumps(value)) == value
    assert canonical_text(json.loads(json.dumps(value))) == canonical_text(value)


def test_unrecordable_values_are_refused():
    with pytest.raises(TypeError):
        normalise({"x": object()})


def test_list_digest_is_the_hash_of_the_whole_list():
    rows = [[1, "1200.10", "租金"], [2, None, "b"]]
    digest = ListDigest()
    for row in rows:
        digest.add(row)
    assert digest.hexdigest() == sha256_hex(rows)
    assert ListDigest().hexdigest() == sha256_hex([])
