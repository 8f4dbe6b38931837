"""A bulk event's rows read the same whichever side writes their canonical text:
PostgreSQL building it for plain columns gives the bytes Python gives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from audit import rows
from audit.canonical import canonical_bytes
from billing.models import Charge
from payments.tests.collection_helpers import billed_charge
from reconciliation.models import Statement, StatementLine
from reconciliation.tests.statements import receiving_account

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

NASTY = [
    'quote " and backslash \\ and slash /',
    "tab\tnewline\ncarriage\rbackspace\bformfeed\f",
    "controls \x01\x1f\x7f",
    "中文（全角）「引号」 emoji 😀 line sep \u2028 para \u2029",
    "",
]
STATEMENT_FIELDS = [
    "account_id",
    "format",
    "filename",
    "digest",
    "period_start",
    "period_end",
    "opening_balance",
    "closing_balance",
    "lines_read",
    "imported_by_id",
]
LINE_FIELDS = ["statement_id", "booked_on", "value_on", "amount", "amount_currency", "fee"]


def both_ways(model, ids, fields, monkeypatch):
    assert rows._sql_texts(model, fields) is not None  # the server writes these
    by_sql = rows.bulk_rows_digest(model, ids, fields)
    with monkeypatch.context() as patched:
        patched.setattr(rows, "_sql_texts", lambda model, fields: None)
        by_python = rows.bulk_rows_digest(model, ids, fields)
    return by_sql, by_python


def test_texts_decimals_dates_and_nulls_digest_alike(monkeypatch):
    account = receiving_account()
    statements = [
        Statement.objects.create(
            account=account,
            format="camt053",
            filename=text,
            digest=f"d{index}",
            period_start=dt.date(2026, 3, 1) if index % 2 else None,
            period_end=dt.date(999, 12, 31) if index == 1 else None,
            opening_balance=Decimal("-1234.50") if index % 2 else None,
            closing_balance=Decimal("0.00"),
            lines_read=index * 1000,
        )
        for index, text in enumerate(NASTY)
    ]
    for index, statement in enumerate(statements):
        StatementLine.objects.create(
            statement=statement,
            account=account,
            line_no=index,
            booked_on=dt.date(2026, 3, 5),
            value_on=None if index % 2 else dt.date(2026, 3, 6),
            amount=Decimal("-0.01") if index else Decimal("99999999.99"),
            fee=Decimal("0.00"),
            narrative=NASTY[index],
            fingerprint=f"f{index}",
        )
    ids = [s.pk for s in statements]
    by_sql, by_python = both_ways(Statement, ids, STATEMENT_FIELDS, monkeypatch)
    assert by_sql == by_python
    lines = list(StatementLine.objects.values_list("pk", flat=True))
    by_sql, by_python = both_ways(StatementLine, lines, [*LINE_FIELDS, "narrative"], monkeypatch)
    assert by_sql == by_python
    # and what a row's text is: the canonical JSON of [pk, *fields]
    first = Statement.objects.values_list("pk", *STATEMENT_FIELDS).get(pk=ids[1])
    ((_pk, text),) = rows._rows_from_sql(
        Statement, rows._sql_texts(Statement, STATEMENT_FIELDS), [ids[1]]
    )
    assert text.encode() == canonical_bytes(list(first))


def test_booleans_and_a_missing_row_digest_alike(monkeypatch):
    charges = [billed_charge("100.00"), billed_charge("200.00")]
    Charge.objects.filter(pk=charges[0].pk).update(prorated=True)
    ids = [charges[0].pk, charges[1].pk, charges[1].pk + 1000]
    fields = ["contract_id", "fee_id", "period_start", "due_date", "amount", "prorated"]
    by_sql, by_python = both_ways(Charge, ids, fields, monkeypatch)
    assert by_sql == by_python
    assert by_sql[2] == [charges[1].pk + 1000]


def test_a_datetime_field_is_left_to_python():
    assert rows._sql_texts(Charge, ["created_at"]) is None
    assert rows._sql_texts(Statement, ["summary"]) is None
