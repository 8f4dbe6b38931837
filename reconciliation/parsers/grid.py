"""Any tabular upload (CSV in any encoding, .xlsx, .xls) as rows of cells.

Bank and gateway parsers then only deal with rows: finding the header under a
title block, reading data rows, and stopping at the totals and disclaimers that
exports append. Row numbers are the ones a user sees: the editor's line number for
CSV, Excel's row number for workbooks, so an error message can be checked by
opening the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from .base import ParsedLine, StatementParseError
from .cells import (
    clean_text,
    normalise_header,
    parse_amount,
    parse_date,
    raw_text,
    try_parse_date,
)
from .encoding import decode_bytes

__all__ = [
    "BillRow",
    "Grid",
    "Row",
    "Table",
    "bill_rows",
    "csv_grid",
    "detect_kind",
    "find_header",
    "read_grids",
]

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
HEADER_SCAN_ROWS = 100
_TOTALS_WORDS = ("合计", "总计", "小计")


def detect_kind(data: bytes, filename: str = "") -> str:
    """The container decides, not the file name: banks routinely name an .xlsx
    ".xls" (and the reverse)."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(XLS_MAGIC):
        return "xls"
    return "csv"


@dataclass
class Grid:
    """One sheet (or the one table of a CSV): ``rows`` are ``(number, cells)``."""

    kind: str
    sheet: str = ""
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)

    def where(self, number: int) -> str:
        if self.kind == "csv":
            return f"line {number}"
        return f"row {number} of sheet {self.sheet}"

    def span(self, count: int) -> str:
        last = self.rows[min(count, len(self.rows)) - 1][0] if self.rows else 1
        if self.kind == "csv":
            return f"lines 1-{last}"
        return f"rows 1-{last} of sheet {self.sheet}"


def csv_grid(text: str) -> Grid:
    reader = csv.reader(io.StringIO(text, newline=""))
    grid = Grid("csv")
    previous = 0
    try:
        for cells in reader:
            grid.rows.append((previous + 1, list(cells)))
            previous = reader.line_num
    except csv.Error as exc:
        raise StatementParseError(
            _("The file is not valid CSV: %(error)s.") % {"error": exc},
            where=f"line {previous + 1}",
        ) from exc
    return grid


def _xlsx_grids(data: bytes) -> list[Grid]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise StatementParseError(
            _("The file cannot be opened as an Excel workbook (.xlsx): %(error)s.") % {"error": exc}
        ) from exc
    grids = []
    try:
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # exporters often write a wrong <dimension>
            grid = Grid("xlsx", sheet.title)
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                grid.rows.append((number, list(values)))
            grids.append(grid)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise StatementParseError(
            _("The file cannot be opened as an Excel workbook (.xlsx): %(error)s.") % {"error": exc}
        ) from exc
    finally:
        book.close()
    return grids


def _xls_grids(data: bytes) -> list[Grid]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data)
    except Exception as exc:  # xlrd raises bare struct/assertion errors on bad files
        raise StatementParseError(
            _("The file cannot be opened as an Excel 97-2003 workbook (.xls): %(error)s.")
            % {"error": exc}
        ) from exc
    grids = []
    for sheet in book.sheets():
        grid = Grid("xls", sheet.name)
        for index in range(sheet.nrows):
            cells = []
            for cell in sheet.row(index):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    cells.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    cells.append(None)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    cells.append(bool(cell.value))
                else:
                    cells.append(cell.value)
            grid.rows.append((index + 1, cells))
        grids.append(grid)
    return grids


def read_grids(data: bytes, kind: str) -> list[Grid]:
    if kind == "csv":
        return [csv_grid(decode_bytes(data)[0])]
    if kind == "xlsx":
        return _xlsx_grids(data)
    if kind == "xls":
        return _xls_grids(data)
    raise ValueError(f"unknown tabular kind {kind!r}")


def find_header(grid: Grid, groups: Sequence[Sequence[str]]) -> int | None:
    """Index in ``grid.rows`` of the first row that has, for every group, one of
    its header names. Title blocks above the header vary in length between banks
    and export dates, so position is never assumed."""
    wanted = [{normalise_header(name) for name in group} for group in groups]
    for index, (_number, cells) in enumerate(grid.rows[:HEADER_SCAN_ROWS]):
        present = {normalise_header(cell) for cell in cells}
        if all(group & present for group in wanted):
            return index
    return None


@dataclass
class Row:
    number: int
    where: str
    cells: list[Any]
    texts: list[str] = field(init=False, repr=False)  # each cell's clean_text, once

    def __post_init__(self):
        self.texts = [clean_text(cell) for cell in self.cells]

    def value(self, index: int | None) -> Any:
        if index is None or index >= len(self.cells):
            return None
        return self.cells[index]

    def text(self, index: int | None) -> str:
        if index is None or index >= len(self.texts):
            return ""
        return self.texts[index]


class Table:
    """The part of a grid from its header row down."""

    def __init__(self, grid: Grid, header_index: int):
        self.grid = grid
        self.header_index = header_index
        header_cells = grid.rows[header_index][1]
        self.headers: list[str] = []
        self._index: dict[str, int] = {}
        seen: dict[str, int] = {}
        for position, cell in enumerate(header_cells):
            label = raw_text(cell) or f"column {position + 1}"
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label = f"{label} ({seen[label]})"
            self.headers.append(label)
            self._index.setdefault(normalise_header(cell), position)

    @property
    def preamble(self) -> list[list[Any]]:
        return [cells for _number, cells in self.grid.rows[: self.header_index]]

    def column(self, names: Sequence[str]) -> int | None:
        for name in names:
            position = self._index.get(normalise_header(name))
            if position is not None:
                return position
        return None

    def header(self, position: int | None) -> str:
        return self.headers[position] if position is not None else ""

    def raw(self, row: Row) -> dict[str, str]:
        values = {}
        for position, label in enumerate(self.headers):
            value = raw_text(row.value(position))
            if value or not label.startswith("column "):
                values[label] = value
        return values

    def rows(self, is_data: Callable[[Row], bool]) -> Iterator[Row]:
        """Data rows below the header. Blank rows and totals rows (合计/总计/小计)
        are skipped; the first other row that ``is_data`` rejects and that has at
        most two filled cells (a disclaimer, a ``#`` comment, an export timestamp)
        ends the table. A rejected row with more cells is still yielded, so the
        caller reports what is wrong with it instead of silently dropping it."""
        for number, cells in self.grid.rows[self.header_index + 1 :]:
            row = Row(number, self.grid.where(number), cells)
            filled = [text for text in row.texts if text]
            if not filled:
                continue
            if is_data(row):
                yield row
                continue
            if any(word in text for text in filled for word in _TOTALS_WORDS):
                continue
            if len(filled) <= 2:
                return
            yield row


class BillRow:
    """One bill table: cell access by header name, errors naming the column."""

    def __init__(self, table: Table, row: Row):
        self.table, self.row = table, row

    def text(self, *names: str) -> str:
        return self.row.text(self.table.column(names))

    def _header(self, names: tuple[str, ...]) -> str:
        return self.table.header(self.table.column(names)) or names[0]

    def amount(self, *names: str, required: bool = True) -> Decimal | None:
        position = self.table.column(names)
        if position is None and not required:
            return None
        return parse_amount(
            self.row.value(position),
            column=self._header(names),
            where=self.row.where,
            required=required,
        )

    def date(self, *names: str) -> dt.date:
        for name in names:  # the first of the columns that is filled in
            if self.text(name):
                return parse_date(
                    self.row.value(self.table.column((name,))),
                    column=self._header((name,)),
                    where=self.row.where,
                )
        return parse_date("", column=self._header(names), where=self.row.where)

    def line(self, **values: Any) -> ParsedLine:
        return ParsedLine(
            line_no=self.row.number, path=self.row.where, raw=self.table.raw(self.row), **values
        )


def bill_rows(table: Table, *date_columns: str) -> Iterator[BillRow]:
    def is_data(row: Row) -> bool:
        return any(
            try_parse_date(row.value(table.column((name,)))) is not None for name in date_columns
        )

    for row in table.rows(is_data):
        yield BillRow(table, row)
