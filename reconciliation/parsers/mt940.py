"""SWIFT MT940 customer statements, read with the ``mt-940`` library.

The library reads the tags and the :61: sub-fields; around it this module does what
the library leaves to its caller or gets wrong for our purpose:

- it splits the file into messages itself, so that SWIFT envelope blocks
  (``{1:}{2:}{4:`` ... ``-}{5:}``), bank pre-headers (ING, ABN AMRO) and control
  bytes never end up inside a tag's value, and so that every tag keeps its line in
  the file for error messages and :attr:`ParsedLine.line_no`;
- it signs reversals by their effect on the balance (``RC`` out, ``RD`` in), which
  the library only does with ``reversal_sign``;
- a ``:86:`` after a balance is information to the account owner, not a detail of
  the last :61: (the library appends it to that line's text);
- a structured ``:86:`` (``?20``...) is split here from the original lines, because
  the library strips the trailing space of each line and drops ``?38`` (IBAN);
- every statement must balance: opening + lines = closing, or the file is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import mt940
from django.utils.translation import gettext as _

from reconciliation.parsers.base import (
    LineKind,
    ParsedFile,
    ParsedLine,
    ParsedSection,
    StatementParseError,
)

__all__ = ["parse_mt940"]

_OPTIONS = mt940.Options(
    reversal_sign=True,
    case_insensitive_marks=True,
    merge_keeps_values=True,
    unbounded_details=True,
    applicant_iban=True,
)
_END_OF_MESSAGE = re.compile(r"-(?:XXX)?\s*(?:\}.*)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_STRUCTURED = re.compile(r"\d{3}\?\d{2}")
_SUBFIELD = re.compile(r"\?(\d{2})")
_SEPA_KEYWORD = r"(?:EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|PURP|MTLG|COAM|OAMT)[+:]"
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")
_OPENING = ("final_opening_balance", "intermediate_opening_balance", "opening_balance")
_CLOSING = ("final_closing_balance", "intermediate_closing_balance", "closing_balance")
_BALANCE_TAGS = ("60", "62", "64", "65")


class _StatementLine(mt940.tags.Statement):
    """:61: with a 34-character customer reference (ASN Bank puts the counterparty
    IBAN there), supplementary details over several lines, a mandatory transaction
    type (without it an amount like ``12.34`` is silently read as 12) and a strict
    amount."""

    pattern = r"""^
    (?P<year>\d{2})(?P<month>\d{2})(?P<day>\d{2})
    (?P<entry_month>\d{2}|\s{2})?(?P<entry_day>\d{2}|\s{2})?
    (?P<status>R?[DC])
    (?P<funds_code>[A-Z])?
    [\n ]?
    (?P<amount>\d[\d,]{0,14})
    (?P<id>[A-Z][A-Z0-9]{3})
    (?P<customer_reference>((?!//)[^\n]){0,34})
    (//(?P<bank_reference>[^\n]{0,23}))?
    (\n?(?P<extra_details>[\s\S]*))?
    $"""

    def __init__(self):
        super().__init__()
        self.slug = "statement"  # the library picks a tag's processors by its slug

    def __call__(self, transactions, value):
        if not re.fullmatch(r"\d+(,\d*)?", value["amount"]):
            raise ValueError(value["amount"])
        return super().__call__(transactions, value)


class _Message(mt940.models.Transactions):
    """One message, fed to the library line by line with each line's number kept."""

    def __init__(self, lines: list[tuple[int, str]]):
        super().__init__(
            tags={61: _StatementLine()},
            processors={"post_transaction_details": []},
            options=_OPTIONS,
        )
        self.numbers = [number for number, _text in lines]
        self.source = [text for _number, text in lines]
        self.tag_lines: dict[str, int] = {}
        self.in_line = False

    def _process_match(self, match, i, valid_matches, data):
        index = data.count("\n", 0, match.end())
        column = match.end() - (data.rfind("\n", 0, match.end()) + 1)
        end = valid_matches[i + 1].start() if i + 1 < len(valid_matches) else len(data)
        last = data.count("\n", 0, max(end - 1, 0))
        value = "\n".join([self.source[index][column:], *self.source[index + 1 : last + 1]])
        tag = match.group("full_tag")
        line_no = self.numbers[index]
        self.tag_lines.setdefault(tag[:2], line_no)
        if tag == "86" and not self.in_line:
            return  # information to the account owner, not about a line
        self.in_line = tag in ("61", "86")
        try:
            super()._process_match(match, i, valid_matches, data)
        except StatementParseError:
            raise
        except Exception as exc:  # the library raises RuntimeError, ValueError, ...
            raise StatementParseError(_problem(tag, value), where=f"line {line_no}") from exc
        current = self.transactions[-1].data if self.transactions else None
        if tag == "61":
            current.update(line_no=line_no, raw_61=value.strip())
        elif tag == "86" and current is not None:
            current["raw_86"] = "\n".join(filter(None, [current.get("raw_86"), value]))


def _problem(tag: str, value: str) -> str:
    """The most specific thing wrong with a field the library could not read."""
    text = value.strip()
    if tag == "61":
        checks = [
            (r"\d{6}", "value date"),
            (r"(?:\d{4}|\s{4})?", "entry date"),
            (r"R?[DC]", "mark"),
            (r"(?:[A-Z](?=[\d\n ]))?[\n ]?", ""),
            (r"\d+(?:,\d*)?(?=[A-Z])", "amount"),
        ]
    elif tag[:2] in _BALANCE_TAGS:
        checks = [
            (r"[DC]", "mark"),
            (r"\d{6}", "value date"),
            (r"[A-Z]{3}", "currency"),
            (r"\d+(?:,\d*)?$", "amount"),
        ]
    else:
        checks = []
    rest = text
    for pattern, what in checks:
        found = re.match(pattern, rest, re.IGNORECASE)
        if found and what.endswith("date") and found.group().strip():
            digits = found.group()
            if not _is_date(digits if what == "value date" else "00" + digits):
                found = None
        if found is None:
            return _field_problem(tag, what, rest)
        rest = rest[found.end() :]
    return _("field :%(tag)s: cannot be read: “%(value)s”") % {"tag": tag, "value": text}


def _field_problem(tag: str, what: str, rest: str) -> str:
    piece = re.match(r"(.*?)(?=[NSF][A-Z0-9]{3})" if what == "amount" else r"\S{0,6}", rest)
    shown = (piece.group() if piece and piece.group() else rest[:6]).strip()
    params = {"tag": tag, "value": shown}
    if what == "value date":
        return _("field :%(tag)s: date “%(value)s” is not a date (YYMMDD)") % params
    if what == "entry date":
        params["value"] = rest[:4]
        return _("field :%(tag)s: entry date “%(value)s” is not a date (MMDD)") % params
    if what == "mark":
        return _("field :%(tag)s: “%(value)s” is not a debit/credit mark (C, D, RC, RD)") % params
    if what == "currency":
        params["value"] = rest[:3]
        return _("field :%(tag)s: “%(value)s” is not a currency code") % params
    return _("field :%(tag)s: amount “%(value)s” is not a number") % params


def _is_date(yymmdd: str) -> bool:
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if month == 2:  # German banks book interest on 30 February; the library clamps it
        return 1 <= day <= 30
    try:
        dt.date(2000 + int(yymmdd[:2]), month, day)
    except ValueError:
        return False
    return True


def _decode(data: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8; otherwise whichever of Windows-1252 and
    DOS CP852 (Raiffeisen and other Central European banks) gives more plausible
    letters, since both decode any byte and only the text can tell them apart."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding in ("cp1252", "latin-1", "cp852"):
        try:
            candidates.append(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    return max(candidates, key=_plausibility)  # max keeps the first of equals


def _plausibility(text: str) -> int:
    score = 0
    for index, char in enumerate(text):
        if char.isascii():
            continue
        if char.isalpha():
            score += 2
            neighbours = text[max(index - 1, 0) : index] + text[index + 1 : index + 2]
            if any(
                n.isascii() and n.isalpha() and n.islower() != char.islower() for n in neighbours
            ):
                score -= 1
        elif not char.isprintable():
            score -= 2
    return score


def _messages(text: str) -> list[list[tuple[int, str]]]:
    """The lines of each message, from its :20: to its end marker or the next :20:."""
    messages: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] | None = None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(lines, 1):
        line = _CONTROL.sub("", raw)
        if line.startswith("{"):
            current = None
            if "{4:" not in line:
                continue
            line = line.split("{4:", 1)[1]
        if _END_OF_MESSAGE.fullmatch(line.strip()):
            current = None
            continue
        if line.startswith(":20:"):
            current = []
            messages.append(current)
        if current is not None and line.strip() not in ("", "-"):
            current.append((number, line))
    return messages


def _clean(text: str | None) -> str:
    """One line of text: banks' charset conversions turn hyphens into soft hyphens
    (ING: ``22\u00ad07\u00ad2010``) and pad with tabs and runs of spaces."""
    return re.sub(r"\s+", " ", (text or "").replace("\u00ad", "-")).strip()


def _subfields(raw: str) -> dict[str, str]:
    """The ``?NN`` sub-fields of a structured :86:; lines are 65-character chunks of
    one string, so they are joined without a separator."""
    joined = "".join(raw.split("\n"))
    parts = _SUBFIELD.split(joined[3:])
    fields = {"gvc": joined[:3]}
    for key, value in zip(parts[1::2], parts[2::2], strict=True):
        fields[key] = fields.get(key, "") + value
    return fields


def _remittance(fields: dict[str, str]) -> str:
    keys = [f"{n:02d}" for n in (*range(20, 30), *range(60, 64))]
    text = ""
    for key in keys:
        piece = fields.get(key, "")
        if text and re.match(_SEPA_KEYWORD, piece):
            text += " "
        text += piece
    return _clean(text)


def _end_to_end_id(remittance: str) -> str:
    found = re.search(rf"EREF\+(.*?)\s*(?={_SEPA_KEYWORD}|$)", remittance)
    value = found.group(1).strip() if found else ""
    return "" if value.upper() in ("NOTPROVIDED", "NONREF") else value


def _date(value: Any) -> dt.date | None:
    return dt.date(value.year, value.month, value.day) if value else None


def _line(data: dict[str, Any], currency: str) -> ParsedLine:
    customer_reference = _clean(data.get("customer_reference"))
    if customer_reference.upper() == "NONREF":
        customer_reference = ""
    extra = _clean(data.get("extra_details"))
    raw_86 = data.get("raw_86", "")
    raw = {
        "61": data["raw_61"],
        "86": raw_86,
        "mark": data["status"].upper(),
        "funds_code": data.get("funds_code") or "",
        "transaction_type": data.get("id") or "",
        "customer_reference": customer_reference,
        "bank_reference": data.get("bank_reference") or "",
        "supplementary_details": extra,
    }
    name = account = end_to_end = ""
    if _STRUCTURED.match(raw_86):
        fields = _subfields(raw_86)
        raw.update({f"?{key}": value for key, value in fields.items() if key != "gvc"})
        raw["gvc"] = fields["gvc"]
        remittance = _remittance(fields)
        narrative = [remittance, _clean(fields.get("00")), extra]
        name = _clean(fields.get("32", "") + fields.get("33", ""))
        account = _clean(fields.get("38") or fields.get("31"))
        end_to_end = _end_to_end_id(remittance)
    else:
        narrative = [_clean(raw_86.replace("\n", " ")), extra]
    if _IBAN.fullmatch(customer_reference) and extra:
        # ASN Bank: the counterparty's IBAN in the reference, its name on the next line
        account, name = account or customer_reference, name or extra
        customer_reference, narrative = "", narrative[:-1]
    value_on = _date(data["date"])
    return ParsedLine(
        line_no=data["line_no"],
        booked_on=_date(data.get("entry_date")) or value_on,
        value_on=value_on,
        amount=data["amount"].amount,
        currency=currency,
        kind=LineKind.REVERSAL if raw["mark"].startswith("R") else LineKind.TRANSFER,
        reference=_clean(data.get("bank_reference")) or customer_reference,
        narrative=" | ".join(dict.fromkeys(part for part in narrative if part)),
        counterparty_name=name,
        counterparty_account=account,
        end_to_end_id=end_to_end,
        path=f"line {data['line_no']}",
        raw=raw,
    )


def _section(lines: list[tuple[int, str]], check_balance: bool) -> ParsedSection:
    message = _Message(lines)
    message.parse("\n".join(text for _number, text in lines))
    data = message.data
    opening = next((data[key] for key in _OPENING if key in data), None)
    closing = next((data[key] for key in _CLOSING if key in data), None)
    statement = data.get("transaction_reference", "").strip()
    if data.get("statement_number"):
        number = data["statement_number"]
        if data.get("sequence_number"):
            number += "/" + data["sequence_number"]
        statement = f"{statement} {number}".strip()
    for balance, tag, name in ((opening, "60", ":60F:/:60M:"), (closing, "62", ":62F:/:62M:")):
        if balance is None:
            raise StatementParseError(
                _("statement %(statement)s has no %(field)s balance")
                % {"statement": statement, "field": name},
                where=f"line {message.tag_lines.get(tag, lines[0][0])}",
            )
    currency = opening.amount.currency or ""
    parsed = tuple(_line(t.data, currency) for t in message.transactions if "line_no" in t.data)
    total = sum((line.amount for line in parsed), Decimal(0))
    if check_balance and opening.amount.amount + total != closing.amount.amount:
        raise StatementParseError(
            _(
                "statement %(statement)s does not balance: opening %(opening)s plus the "
                "lines %(total)s is %(expected)s, but the closing balance is %(closing)s"
            )
            % {
                "statement": statement,
                "opening": opening.amount.amount,
                "total": total,
                "expected": opening.amount.amount + total,
                "closing": closing.amount.amount,
            },
            where=f"line {message.tag_lines['62']}",
        )
    return ParsedSection(
        account=_clean(data.get("account_identification")),
        currency=currency,
        statement_id=statement,
        period_start=_date(opening.date),
        period_end=_date(closing.date),
        opening_balance=opening.amount.amount,
        closing_balance=closing.amount.amount,
        lines=parsed,
    )


def parse_mt940(data: bytes, *, check_balance: bool = True) -> ParsedFile:
    """Every statement of an MT940 file, in file order.

    MT940 names no statement period, so the section's period runs from the opening
    to the closing balance date. With ``check_balance`` off, a statement whose lines
    do not add up (edited test files do that) is returned as it is.
    """
    messages = _messages(_decode(data))
    if not messages:
        raise StatementParseError(
            _("not an MT940 statement: no :20: field starts a statement"), where="line 1"
        )
    return ParsedFile(
        format="mt940", sections=tuple(_section(lines, check_balance) for lines in messages)
    )
