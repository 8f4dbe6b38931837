"""insert_rows: what the billing run relies on to count exactly what it created."""

import datetime as dt
from decimal import Decimal

import pytest

from billing.choices import ChargeStatus
from billing.models import Charge
from contracts.models import Customer, Fee
from contracts.tests.factories import make_contract
from feemgmt.core import sql
from feemgmt.core.sql import insert_rows

pytestmark = pytest.mark.django_db


def test_rows_skipped_by_a_conflict_return_nothing():
    Customer.objects.create(code="C1", name="existing", email="a@example.com")
    returned = insert_rows(
        Customer,
        ("code", "name", "email", "currency", "credit_code", "created_at", "updated_at"),
        [
            (
                code,
                f"name {code}",
                "x@example.com",
                "CNY",
                "",
                dt.datetime.now(dt.UTC),
                dt.datetime.now(dt.UTC),
            )
            for code in ("C1", "C2", "C3")
        ],
        returning=("code",),
        ignore_conflicts=True,
    )
    assert sorted(code for (code,) in returned) == ["C2", "C3"]
    assert Customer.objects.get(code="C1").name == "existing"


def test_large_inserts_are_split_and_values_keep_their_types(monkeypatch):
    monkeypatch.setattr(sql, "MAX_PARAMS", 30)  # 12 columns: two rows per statement
    contract = make_contract()
    fee = Fee.objects.get(contract=contract)
    now = dt.datetime.now(dt.UTC)
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(5)]
    returned = insert_rows(
        Charge,
        (
            "contract_id",
            "fee_id",
            "kind",
            "period_start",
            "period_end",
            "due_date",
            "amount",
            "amount_currency",
            "prorated",
            "status",
            "created_at",
            "updated_at",
        ),
        [
            (
                contract.pk,
                fee.pk,
                "recurring",
                day,
                day,
                day,
                Decimal("1234.56"),
                "CNY",
                True,
                "pending",
                now,
                now,
            )
            for day in days
        ],
        returning=("id",),
    )
    assert len(returned) == 5
    charges = Charge.objects.order_by("period_start")
    assert [c.period_start for c in charges] == days
    assert {c.amount.amount for c in charges} == {Decimal("1234.56")}
    assert all(c.prorated for c in charges)


@pytest.mark.postgres
@pytest.mark.parametrize("returning", [(), ("id", "code")])
def test_copy_writes_what_values_would(monkeypatch, returning):
    """From COPY_FROM rows up PostgreSQL gets COPY: the same rows, text with tabs,
    newlines and backslashes intact, conflicts skipped, the same columns returned."""
    Customer.objects.create(code="C1", name="existing", email="a@example.com")
    monkeypatch.setattr(sql, "COPY_FROM", 2)
    now = dt.datetime.now(dt.UTC)
    names = {"C1": "dup", "C2": "tab\there", "C3": "line\nbreak \\ back", "C4": "（中文）"}
    returned = insert_rows(
        Customer,
        ("code", "name", "email", "currency", "credit_code", "created_at", "updated_at"),
        [(code, name, "x@example.com", "CNY", "", now, now) for code, name in names.items()],
        returning=returning,
        ignore_conflicts=True,
    )
    stored = dict(Customer.objects.values_list("code", "name"))
    assert stored == {**names, "C1": "existing"}
    if returning:
        assert sorted(code for _pk, code in returned) == ["C2", "C3", "C4"]
        assert {pk for pk, _code in returned} == set(
            Customer.objects.exclude(code="C1").values_list("pk", flat=True)
        )
    else:
        assert returned == []


@pytest.mark.postgres
def test_copy_without_conflicts_to_ignore_fails_whole(monkeypatch):
    from django.db import IntegrityError, transaction

    Customer.objects.create(code="C1", name="existing", email="a@example.com")
    monkeypatch.setattr(sql, "COPY_FROM", 2)
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(
            Customer,
            ("code", "name", "email", "currency", "credit_code", "created_at", "updated_at"),
            [(code, code, "x@example.com", "CNY", "", now, now) for code in ("C2", "C1")],
        )
    assert list(Customer.objects.values_list("code", flat=True)) == ["C1"]


def test_copy_text_of_subclassed_dates_and_enums():
    """Values COPY is given as subclasses (a test clock's datetime, a TextChoices
    member) are written as their plain value, and a naive datetime is refused."""

    class Clock(dt.datetime):
        pass

    moment = Clock(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
    assert sql._text(moment) == "2026-03-05T12:00:00+00:00"
    assert sql._text(ChargeStatus.PAID) == "paid"
    assert sql._text("a\tb\\") == "a\\tb\\\\"
    with pytest.raises(ValueError):
        sql._text(dt.datetime(2026, 3, 5, 12, 0))


@pytest.mark.parametrize(
    "values",
    [
        (1, 22, 333),
        (Decimal("1.50"), Decimal("-0.01")),
        ("plain", "tab\there", "back\\slash", "（中文）"),
        (dt.date(2026, 3, 5), dt.date(2026, 12, 31)),
        (dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC),),
        (1, None, 3),
        ("paid", "pending"),
        (ChargeStatus.PAID, ChargeStatus.PENDING),
        ("tab\there", ChargeStatus.PAID, None, 4),  # mixed: value by value
    ],
)
def test_a_column_is_written_as_its_values_would_be(values):
    """COPY converts a column of one plain type at once; the text is what each
    value alone gives."""
    assert sql._column_text(sql._text, values) == [sql._text(value) for value in values]


def test_a_json_column_escapes_its_texts_and_keeps_sql_null():
    from reconciliation.models import StatementLine

    writer = sql._writer(StatementLine._meta.get_field("raw"))
    values = ({"a": "x"}, None, {"b": "tab\there"})
    assert sql._column_text(writer, values) == ['{"a": "x"}', "\\N", '{"b": "tab\\\\there"}']
    assert sql._column_text(writer, values[:2]) == ['{"a": "x"}', "\\N"]


def test_a_column_with_one_naive_datetime_is_refused():
    aware = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        sql._column_text(sql._text, (aware, dt.datetime(2026, 3, 5, 12, 0)))


def test_allocated_ids_take_rows_and_the_next_ordinary_row_comes_after_them():
    from django.db import transaction

    before = Customer.objects.create(code="C0", name="before", email="a@example.com")
    now = dt.datetime.now(dt.UTC)
    with transaction.atomic():
        Customer.objects.filter(pk=before.pk).update(name="still before")  # a write first
        ids = sql.allocate_ids(Customer, 3)
        assert len(set(ids)) == 3 and min(ids) > before.pk
        insert_rows(
            Customer,
            ("id", "code", "name", "email", "currency", "credit_code", "created_at", "updated_at"),
            [(pk, f"C{pk}", "given", "x@example.com", "CNY", "", now, now) for pk in ids],
        )
    after = Customer.objects.create(code="C9", name="after", email="b@example.com")
    assert after.pk > max(ids)
    assert sql.allocate_ids(Customer, 0) == []


def test_update_by_id_gives_each_row_its_own_value_and_nothing_else_moves():
    contracts = [make_contract() for _ in range(4)]
    fees = [c.fees.get(kind="recurring") for c in contracts]
    untouched = fees.pop()
    before = untouched.next_due_date
    wanted = {
        fees[0].pk: dt.date(2027, 1, 1),
        fees[1].pk: dt.date(2027, 2, 15),
        fees[2].pk: None,  # nothing left to bill
    }
    assert sql.update_by_id(Fee, "next_due_date", wanted) == 3
    assert dict(Fee.objects.filter(pk__in=wanted).values_list("pk", "next_due_date")) == wanted
    untouched.refresh_from_db()
    assert untouched.next_due_date == before
    assert sql.update_by_id(Fee, "next_due_date", {}) == 0


def test_update_rows_writes_several_columns_of_each_row_json_and_nulls_included():
    from payments.models import PaymentAttempt, attempt_key
    from payments.tests.collection_helpers import billed_charge

    charges = [billed_charge(f"{10 + n}.00") for n in range(3)]
    attempts = [
        PaymentAttempt.objects.create(
            charge=c,
            number=1,
            idempotency_key=attempt_key(c.pk, 1),
            method="sandbox",
            amount=c.amount,
            status="unknown",
        )
        for c in charges
    ]
    when = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    wanted = {
        attempts[0].pk: ("succeeded", "T-1", {"trade_no": "T-1", "note": '引号"\t'}, when),
        attempts[1].pk: ("pending", None, {}, None),
    }
    fields = ("status", "provider_reference", "raw", "decided_at")
    assert sql.update_rows(PaymentAttempt, fields, wanted) == 2
    rows = PaymentAttempt.objects.filter(pk__in=wanted).values_list("pk", *fields)
    assert {pk: tuple(values) for pk, *values in rows} == wanted
    attempts[2].refresh_from_db()
    assert attempts[2].status == "unknown" and attempts[2].raw == {}
