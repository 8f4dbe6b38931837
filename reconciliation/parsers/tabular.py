"""Bank statement exports in CSV or Excel, read through a :class:`ColumnMapping`.

Chinese banks offer no machine format to retail and most corporate customers, only
"download as Excel/CSV" with a title block, one header row, the movements, a
totals row and a disclaimer. One reader driven by a mapping covers them all; the
built-in mappings live in :mod:`reconciliation.parsers.cn_banks`, and staff can
save their own for banks not built in.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from .base import LineKind, ParsedFile, ParsedLine, ParsedSection, StatementParseError
from .cells import (
    normalise_header,
    parse_amount,
    parse_currency,
    parse_date,
    raw_text,
    try_parse_date,
)
from .cn_banks import BUILTIN_MAPPINGS
from .grid import Grid, Row, Table, detect_kind, find_header, read_grids
from .mapping import ColumnMapping, MappingError

__all__ = [
    "BUILTIN_MAPPINGS",
    "ColumnMapping",
    "MappingError",
    "detect_mapping",
    "join_narrative",
    "parse_tabular",
    "preview_rows",
]

_ACCOUNT_LABEL_RE = re.compile(r"^(?:卡号|账号|帐号|账户|帐户|银行账号|账户号码)[:：]\s*(.*)$")


def join_narrative(values: list[str]) -> str:
    """Free-text columns joined with " | "; a text repeated in two columns (banks
    often copy 摘要 into 附言) is kept once."""
    kept: list[str] = []
    for value in values:
        if value and value not in kept:
            kept.append(value)
    return " | ".join(kept)


def _account_from_preamble(preamble: list[list[Any]]) -> str:
    """The account number from the title block (``卡号: 1234****9876``, or a
    ``账　　号：`` label cell with the number in the next cell)."""
    for cells in preamble:
        texts = [raw_text(cell) for cell in cells]
        for position, text in enumerate(texts):
            match = _ACCOUNT_LABEL_RE.match(normalise_header(text))
            if not match:
                continue
            value = raw_text(text).split("：", 1)[-1].split(":", 1)[-1].strip()
            if not value and position + 1 < len(texts):
                value = texts[position + 1]
            if value:
                return value
    return ""


def _locate(grids: list[Grid], mapping: ColumnMapping) -> tuple[Grid, int]:
    groups = mapping.required_groups()
    for grid in grids:
        index = find_header(grid, groups)
        if index is not None:
            return grid, index
    wanted = ", ".join(" / ".join(group) for group in groups)
    first = grids[0] if grids else Grid("csv")
    raise StatementParseError(
        _(
            "No header row with the columns %(columns)s was found "
            "(mapping %(mapping)s). Check that the file is the bank's detail export."
        )
        % {"columns": wanted, "mapping": mapping.label},
        where=first.span(100),
    )


def detect_mapping(
    data: bytes,
    *,
    filename: str = "",
    kind: str | None = None,
    mappings: dict[str, ColumnMapping] | None = None,
) -> ColumnMapping | None:
    """The built-in (or given) mapping whose headers the file has, preferring the
    one that recognises most header cells; ``None`` if none fits."""
    grids = read_grids(data, kind or detect_kind(data, filename))
    return _best_mapping(grids, mappings or BUILTIN_MAPPINGS)


def _best_mapping(grids: list[Grid], mappings: dict[str, ColumnMapping]) -> ColumnMapping | None:
    best: tuple[int, ColumnMapping] | None = None
    for mapping in mappings.values():
        for grid in grids:
            index = find_header(grid, mapping.required_groups())
            if index is None:
                continue
            table = Table(grid, index)
            score = sum(1 for group in mapping.all_groups() if table.column(group) is not None)
            if best is None or score > best[0]:
                best = (score, mapping)
            break
    return best[1] if best else None


def preview_rows(
    data: bytes, *, filename: str = "", kind: str | None = None, rows: int = 10
) -> list[list[str]]:
    """The first rows of the first sheet as trimmed text, for building a mapping
    in the admin before anything is parsed."""
    grids = read_grids(data, kind or detect_kind(data, filename))
    for grid in grids:
        if grid.rows:
            return [[raw_text(cell) for cell in cells] for _number, cells in grid.rows[:rows]]
    return []


class _Columns:
    """A mapping resolved against one header row: field name to cell position."""

    def __init__(self, table: Table, mapping: ColumnMapping):
        self.table = table
        self.mapping = mapping
        self.positions = {
            name: table.column(getattr(mapping, name))
            for name in (
                "booked_on",
                "value_on",
                "amount",
                "credit",
                "debit",
                "direction",
                "currency",
                "reference",
                "counterparty_name",
                "counterparty_account",
            )
        }
        self.narrative = [
            position
            for position in (table.column((column,)) for column in mapping.narrative)
            if position is not None
        ]
        self.credit_words = {normalise_header(word) for word in mapping.credit_words}
        self.debit_words = {normalise_header(word) for word in mapping.debit_words}

    def header(self, name: str) -> str:
        return self.table.header(self.positions[name])

    def is_data(self, row: Row) -> bool:
        value = row.value(self.positions["booked_on"])
        return try_parse_date(value, self.mapping.date_formats) is not None

    def amount(self, row: Row) -> Decimal:
        pos = self.positions
        if pos["credit"] is not None:
            credit = parse_amount(
                row.value(pos["credit"]),
                column=self.header("credit"),
                where=row.where,
                required=False,
            )
            debit = parse_amount(
                row.value(pos["debit"]),
                column=self.header("debit"),
                where=row.where,
                required=False,
            )
            if credit is None and debit is None:
                raise StatementParseError(
                    _("There is no amount in column %(credit)s or %(debit)s.")
                    % {"credit": self.header("credit"), "debit": self.header("debit")},
                    where=row.where,
                )
            # A debit written as a negative number is the same money out.
            return (credit or Decimal("0.00")) - abs(debit or Decimal("0.00"))
        amount = parse_amount(
            row.value(pos["amount"]), column=self.header("amount"), where=row.where
        )
        if pos["direction"] is None:
            return amount
        word = normalise_header(row.text(pos["direction"]))
        if word in self.credit_words:
            return abs(amount)
        if word in self.debit_words:
            return -abs(amount)
        raise StatementParseError(
            _(
                "Cannot tell money in from money out: %(value)r in column %(column)s "
                "(expected one of %(words)s)."
            )
            % {
                "value": row.text(pos["direction"]),
                "column": self.header("direction"),
                "words": ", ".join(self.mapping.credit_words + self.mapping.debit_words),
            },
            where=row.where,
        )

    def line(self, row: Row) -> ParsedLine:
        pos = self.positions
        mapping = self.mapping
        value_on: dt.date | None = None
        if pos["value_on"] is not None and row.text(pos["value_on"]):
            value_on = parse_date(
                row.value(pos["value_on"]),
                column=self.header("value_on"),
                where=row.where,
                formats=mapping.date_formats,
            )
        reference = row.text(pos["reference"])
        if reference.strip("0") == "":
            reference = ""  # ABC writes 0000000000 when it has no log number
        return ParsedLine(
            line_no=row.number,
            booked_on=parse_date(
                row.value(pos["booked_on"]),
                column=self.header("booked_on"),
                where=row.where,
                formats=mapping.date_formats,
            ),
            amount=self.amount(row),
            currency=parse_currency(
                row.value(pos["currency"]),
                column=self.header("currency"),
                where=row.where,
                default=mapping.default_currency,
            ),
            value_on=value_on,
            kind=LineKind.TRANSFER,
            reference=reference,
            narrative=join_narrative([row.text(position) for position in self.narrative]),
            counterparty_name=row.text(pos["counterparty_name"]),
            counterparty_account=row.text(pos["counterparty_account"]),
            path=row.where,
            raw=self.table.raw(row),
        )


def parse_tabular(
    data: bytes,
    *,
    filename: str = "",
    mapping: ColumnMapping | None = None,
    kind: str | None = None,
) -> ParsedFile:
    """Read a bank export; with no ``mapping`` the best-fitting built-in one is
    used. ``kind`` is "csv", "xlsx" or "xls" and is sniffed from the bytes when
    not given."""
    kind = kind or detect_kind(data, filename)
    grids = read_grids(data, kind)
    if mapping is None:
        mapping = _best_mapping(grids, BUILTIN_MAPPINGS)
        if mapping is None:
            raise StatementParseError(
                _(
                    "The columns of this file match none of the known bank exports; "
                    "set up a column mapping for it."
                ),
                where=(grids[0] if grids else Grid(kind)).span(100),
            )
    grid, index = _locate(grids, mapping)
    table = Table(grid, index)
    columns = _Columns(table, mapping)
    lines = tuple(columns.line(row) for row in table.rows(columns.is_data))
    currencies = {line.currency for line in lines}
    section = ParsedSection(
        account=_account_from_preamble(table.preamble),
        currency=currencies.pop() if len(currencies) == 1 else "",
        lines=lines,
    )
    return ParsedFile(format=kind, sections=(section,), mapping=mapping.name)
