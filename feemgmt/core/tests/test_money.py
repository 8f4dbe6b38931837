"""The one rounding helper: half-up to the currency's minor unit, splits that add
up exactly, and sums read back from the database without float drift."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import given
from hypothesis import strategies as st

from billing.models import Charge
from contracts.models import Fee
from contracts.tests.factories import make_contract
from feemgmt.core.money import (
    Money,
    minor_digits,
    money,
    money_from_db,
    money_str,
    quantize,
    split_largest_remainder,
)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1.005", "CNY", "1.01"),
        ("1.004999", "CNY", "1.00"),
        ("2.675", "USD", "2.68"),  # a float would give 2.67
        ("-1.005", "CNY", "-1.01"),
        ("0.5", "JPY", "1"),
        ("1.5", "JPY", "2"),
        ("2.5", "JPY", "3"),  # half-up, not banker's rounding
    ],
)
def test_quantize_rounds_half_up_to_the_minor_unit(amount, currency, expected):
    assert quantize(Decimal(amount), currency) == Money(Decimal(expected), currency)


def test_minor_digits_follow_iso_4217():
    assert (minor_digits("CNY"), minor_digits("JPY"), minor_digits("USD")) == (2, 0, 2)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        money(0.1, "CNY")


def test_amount_strings_carry_the_minor_digits():
    assert money_str(Money("1200", "CNY")) == "1200.00"
    assert money_str(Money("1200", "JPY")) == "1200"


@given(
    total=st.decimals(min_value=0, max_value=10**9, places=2),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(
        any
    ),
)
def test_a_split_adds_up_to_the_whole(total, weights):
    parts = split_largest_remainder(Money(total, "CNY"), weights)
    assert sum(p.amount for p in parts) == total
    assert all(p.amount >= 0 for p in parts)
    # each part is within one fen of its exact share
    exact = [total * w / sum(weights) for w in weights]
    assert all(abs(p.amount - e) < Decimal("0.01") for p, e in zip(parts, exact, strict=True))


def test_split_gives_leftover_units_to_the_largest_remainders():
    parts = split_largest_remainder(Money("100.00", "CNY"), [1, 1, 1])
    assert [p.amount for p in parts] == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]


def test_money_from_db_reads_sqlite_floats_exactly():
    assert money_from_db(9961336324.99003, "CNY").amount == Decimal("9961336324.99")
    assert money_from_db(None, "USD") == Money("0.00", "USD")


@pytest.mark.django_db
def test_a_database_sum_of_many_cent_amounts_is_exact():
    """20,000 amounts in cents summed by the database: exact on PostgreSQL, and on
    SQLite (REAL storage) still exact once read through money_from_db."""
    contract = make_contract()
    fee = Fee.objects.get(contract=contract)
    rng = random.Random(7)
    amounts = [Decimal(rng.randint(1, 99_999_99)) / 100 for _ in range(20_000)]
    start = dt.date(1970, 1, 1)
    Charge.objects.bulk_create(
        Charge(
            contract=contract,
            fee=fee,
            kind="recurring",
            period_start=start + dt.timedelta(days=i),
            period_end=start + dt.timedelta(days=i),
            due_date=start + dt.timedelta(days=i),
            amount=Money(amount, "CNY"),
        )
        for i, amount in enumerate(amounts)
    )
    (row,) = Charge.objects.values("amount_currency").annotate(total=Sum("amount"))
    assert money_from_db(row["total"], "CNY").amount == sum(amounts)


def test_money_label_names_the_currency_with_its_minor_digits():
    from feemgmt.core.money import money_label

    assert money_label(Money("2801.2", "HKD")) == "2801.20 HKD"
    assert money_label(Money("1200", "JPY")) == "1200 JPY"
