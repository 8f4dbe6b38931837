"""Reading single cells the way Chinese bank and gateway exports write them.

Exports pad cells with spaces and a trailing TAB (so that Excel keeps long numbers
as text), write "nothing" as ``-``, ``/`` or a row of dashes, put ``¥`` and
thousands separators in amounts, and write dates in half a dozen ways. Excel cells
arrive as floats and datetimes instead. All of that is undone here, once, so the
bank, gateway and personal-export parsers agree on what a cell means.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

from .base import StatementParseError

__all__ = [
    "clean_text",
    "is_blank",
    "normalise_header",
    "parse_amount",
    "parse_currency",
    "parse_date",
    "raw_text",
    "try_parse_date",
]

_STRIP = " \t\r\n\u3000\ufeff\u00a0\u200b"
_PLACEHOLDER_START = "-/—－_"
_PLACEHOLDER_RE = re.compile(rf"^[{_PLACEHOLDER_START}]+$")
_LEADING_DASHES_RE = re.compile(r"^-{5,}\s+")
_HEADER_DROP_RE = re.compile(r"[\s\u3000\ufeff\u00a0\u200b]+")
_HEADER_TRANS = str.maketrans({"（": "(", "）": ")", "：": ":", "／": "/"})

_SEPARATED_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s+|T)\d{1,2}[:：]\d{1,2}(?:[:：]\d{1,2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\s*\d{2}:?\d{2}(?::?\d{2})?)?$")
_AMOUNT_RE = re.compile(r"^\d+(?:\.\d*)?$|^\.\d+$")
_PLAIN_AMOUNT_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
_CENT = Decimal("0.01")

_CURRENCIES = {
    "人民币": "CNY",
    "人民币元": "CNY",
    "RMB": "CNY",
    "CNY": "CNY",
    "本币": "CNY",
    "美元": "USD",
    "港币": "HKD",
    "港元": "HKD",
    "欧元": "EUR",
    "日元": "JPY",
    "英镑": "GBP",
    "澳元": "AUD",
    "加元": "CAD",
    "新加坡元": "SGD",
    "瑞士法郎": "CHF",
}


def raw_text(value: Any) -> str:
    """A cell as staff would read it in the file: trimmed, nothing else changed."""
    if type(value) is str:  # nearly every cell of a CSV: the shortest way first
        return value.strip(_STRIP)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # Excel stores every number as a float; ids and whole amounts should not
        # grow a ".0", and repr() is the shortest text that reads back exactly.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip(_STRIP)


def clean_text(value: Any) -> str:
    """A cell's meaning as text: placeholders such as ``-``, ``/`` or a run of
    dashes mean "no value" and become ""."""
    text = raw_text(value)
    if not text or text[0] not in _PLACEHOLDER_START:
        return text
    if _PLACEHOLDER_RE.match(text):
        return ""
    return _LEADING_DASHES_RE.sub("", text)


def is_blank(value: Any) -> bool:
    return clean_text(value) == ""


def normalise_header(value: Any) -> str:
    """Header cells are compared without any whitespace (ABC writes ``日 志 号``,
    CCB pads with spaces) and with full-width brackets folded to ASCII, because
    the same bank writes ``（元）`` in one export and ``(元)`` in the next."""
    text = _HEADER_DROP_RE.sub("", raw_text(value))
    return text.translate(_HEADER_TRANS).casefold()


def _to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Decimal(0.1 + 0.2) would carry the binary error; the shortest repr does
        # not, and the quantize rounds away what is left.
        return Decimal(repr(value)).quantize(_CENT)
    text = clean_text(value)
    if not text:
        return None
    if _PLAIN_AMOUNT_RE.match(text):  # 1234.56 or -1234.56: nothing to undo
        return Decimal(text)
    text = text.replace("−", "-").replace("＋", "+").replace("－", "-")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    for _round in range(2):
        if text[:1] in "+-":
            negative = negative != (text[0] == "-")
            text = text[1:].strip()
        for prefix in ("¥", "￥", "RMB", "CNY"):
            if text.upper().startswith(prefix):
                text = text[len(prefix) :].strip()
    text = text.removesuffix("元").replace(",", "").replace("，", "").replace(" ", "")
    if not _AMOUNT_RE.match(text):
        raise ValueError(text)
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already checked
        raise ValueError(text) from exc
    return -amount if negative else amount


def parse_amount(value: Any, *, column: str, where: str, required: bool = True) -> Decimal | None:
    """Exact amount of a cell, or ``None`` for an empty optional cell."""
    try:
        amount = _to_decimal(value)
    except ValueError:
        amount = None
    else:
        if amount is None and not required:
            return None
        if amount is not None:
            if amount.as_tuple().exponent > -2:  # "50.0" and "50" read as 50.00
                amount = amount.quantize(_CENT)
            return amount
    if amount is None and is_blank(value):
        raise StatementParseError(
            _("The amount in column %(column)s is empty.") % {"column": column}, where=where
        )
    raise StatementParseError(
        _("Cannot read the amount %(value)r in column %(column)s.")
        % {"value": raw_text(value), "column": column},
        where=where,
    )


def try_parse_date(value: Any, formats: tuple[str, ...] = ()) -> dt.date | None:
    """The date a cell holds (a time after it is ignored), or ``None``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = raw_text(value)  # 20260105 stored as a number
    text = clean_text(value)
    if not text:
        return None
    return _date_of_text(text, tuple(formats))


@lru_cache(maxsize=4096)
def _date_of_text(text: str, formats: tuple[str, ...]) -> dt.date | None:
    """A statement's lines share a handful of dates: each text is read once."""
    for fmt in formats:
        for candidate in (text, text.split()[0]):
            try:
                return dt.datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    match = _SEPARATED_DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_date(value: Any, *, column: str, where: str, formats: tuple[str, ...] = ()) -> dt.date:
    parsed = try_parse_date(value, formats)
    if parsed is None:
        raise StatementParseError(
            _("Cannot read the date %(value)r in column %(column)s.")
            % {"value": raw_text(value), "column": column},
            where=where,
        )
    return parsed


def parse_currency(value: Any, *, column: str, where: str, default: str) -> str:
    """ISO 4217 code for a currency cell; Chinese exports write 人民币, not CNY."""
    text = clean_text(value)
    if not text:
        return default
    key = normalise_header(text).upper()
    if key in _CURRENCIES:
        return _CURRENCIES[key]
    if re.fullmatch(r"[A-Z]{3}", key):
        return key
    raise StatementParseError(
        _("Unknown currency %(value)r in column %(column)s.") % {"value": text, "column": column},
        where=where,
    )
