"""Amounts in Chinese capitals, held to the bank rules' own examples and, for any
amount, to an independent reading of the words back into a number."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from documents.capitals import MAX_AMOUNT, amount_in_capitals


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1200", "壹仟贰佰元整"),
        ("1200.00", "壹仟贰佰元整"),
        # the examples of 《正确填写票据和结算凭证的基本规定》
        ("1409.50", "壹仟肆佰零玖元伍角"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        # a ten is 壹拾, never a bare 拾
        ("10", "壹拾元整"),
        ("110", "壹佰壹拾元整"),
        ("15.10", "壹拾伍元壹角"),
        # zeros: one 零 for a run, none at the end of a group of four
        ("1001", "壹仟零壹元整"),
        ("1010.01", "壹仟零壹拾元零壹分"),
        ("1000500", "壹佰万零伍佰元整"),
        ("10000", "壹万元整"),
        ("100000000", "壹亿元整"),
        ("100007000", "壹亿零柒仟元整"),
        ("100010000", "壹亿零壹万元整"),
        ("1000000000000", "壹万亿元整"),
        ("3000.00", "叁仟元整"),
        # less than a yuan
        ("0.50", "伍角"),
        ("0.05", "伍分"),
        ("0.55", "伍角伍分"),
        ("0", "零元整"),
        # rounded half-up to the fen, as all money
        ("2.005", "贰元零壹分"),
        ("2.004", "贰元整"),
    ],
)
def test_the_bank_rules(amount, words):
    assert amount_in_capitals(Decimal(amount)) == words


def test_refused_amounts():
    with pytest.raises(ValueError):
        amount_in_capitals(Decimal("-1"))
    with pytest.raises(ValueError):
        amount_in_capitals(MAX_AMOUNT + Decimal("0.01"))
    assert amount_in_capitals(MAX_AMOUNT).startswith("玖仟玖佰玖拾玖万亿")


DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
PLACE = {"拾": 10, "佰": 100, "仟": 1000}


def read_back(words: str) -> Decimal:
    """The number the words say, read the way a bank clerk reads them."""
    assert words.endswith(("整", "角", "分")), words
    words = words.removesuffix("整")
    whole_part, _, cents_part = words.partition("元") if "元" in words else ("", "", words)
    total = 0
    for section, unit in (("万亿", 10**12), ("亿", 10**8), ("万", 10**4)):
        if section in whole_part:
            head, whole_part = whole_part.split(section, 1)
            total += _read_group(head) * unit
    total += _read_group(whole_part)
    cents = 0
    if "角" in cents_part:
        head, cents_part = cents_part.split("角")
        cents += DIGIT[head.lstrip("零")] * 10
    if "分" in cents_part:
        cents += DIGIT[cents_part.removesuffix("分").lstrip("零")]
    return Decimal(total) + Decimal(cents) / 100


def _read_group(text: str) -> int:
    value, digit = 0, None
    for char in text:
        if char in DIGIT:
            digit = DIGIT[char]
        else:
            assert digit, f"{char} without a digit before it in {text}"
            value += digit * PLACE[char]
            digit = None
    return value + (digit or 0)


@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False))
def test_any_amount_reads_back_as_itself(amount):
    words = amount_in_capitals(amount)
    assert read_back(words) == amount
    assert "零零" not in words and not words.startswith("零" if amount else "x")
    assert not words.startswith("拾")
