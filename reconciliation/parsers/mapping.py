"""Which header cell of a bank export holds which field.

Banks change their export columns without notice, and small banks are not built
in, so staff must be able to describe a layout themselves; a mapping is therefore
plain data that round-trips through JSON (``to_dict`` / ``from_dict``) and is
validated with messages a non-programmer can act on.

Every column field is a tuple of alternative header texts (the first one present
in the file is used), except ``narrative``: each of its entries is a separate
column, and all that are present are joined.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.utils.translation import gettext as _

__all__ = ["ColumnMapping", "MappingError"]

_COLUMN_FIELDS = (
    "booked_on",
    "value_on",
    "amount",
    "credit",
    "debit",
    "direction",
    "currency",
    "reference",
    "narrative",
    "counterparty_name",
    "counterparty_account",
)
_WORD_FIELDS = ("credit_words", "debit_words", "date_formats")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class MappingError(ValueError):
    """A mapping cannot be used; ``messages`` lists every problem, translated."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class ColumnMapping:
    name: str
    label: str
    booked_on: tuple[str, ...]
    value_on: tuple[str, ...] = ()
    # exactly one way of giving the amount: one signed column; an unsigned column
    # plus a direction column; or separate credit (money in) and debit columns
    amount: tuple[str, ...] = ()
    credit: tuple[str, ...] = ()
    debit: tuple[str, ...] = ()
    direction: tuple[str, ...] = ()
    credit_words: tuple[str, ...] = ()  # direction cell values meaning money in
    debit_words: tuple[str, ...] = ()
    currency: tuple[str, ...] = ()
    default_currency: str = "CNY"  # when there is no currency column, or it is empty
    reference: tuple[str, ...] = ()
    narrative: tuple[str, ...] = ()
    counterparty_name: tuple[str, ...] = ()
    counterparty_account: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()  # extra strptime formats, tried first

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise MappingError(problems)

    def problems(self) -> list[str]:
        found = []
        if not _NAME_RE.match(self.name or ""):
            found.append(
                _("The name %(name)r must be lower-case letters, digits, - or _.")
                % {"name": self.name}
            )
        if not self.booked_on:
            found.append(_("Name the header of the booking date column (booked_on)."))
        signed, directed, split = bool(self.amount), bool(self.direction), bool(self.credit)
        if split or self.debit:
            if not (self.credit and self.debit):
                found.append(_("Give both the credit and the debit column, or neither."))
            if signed or directed:
                found.append(
                    _("Give either one amount column or credit and debit columns, not both.")
                )
        elif not signed:
            found.append(_("Name the amount column (amount), or the credit and debit columns."))
        if directed and not (self.credit_words and self.debit_words):
            found.append(
                _(
                    "A direction column needs the words that mean money in (credit_words) "
                    "and money out (debit_words)."
                )
            )
        if not re.fullmatch(r"[A-Z]{3}", self.default_currency or ""):
            found.append(
                _("The default currency %(value)r is not a 3-letter ISO code such as CNY.")
                % {"value": self.default_currency}
            )
        for fmt in self.date_formats:
            if "%" not in fmt:
                found.append(
                    _("The date format %(value)r has no %%-directive such as %%Y.") % {"value": fmt}
                )
        return found

    def required_groups(self) -> list[tuple[str, ...]]:
        """Header alternatives that must all be found to use this mapping."""
        groups = [self.booked_on]
        for name in ("amount", "direction", "credit", "debit"):
            if getattr(self, name):
                groups.append(getattr(self, name))
        return groups

    def all_groups(self) -> list[tuple[str, ...]]:
        """Every header this mapping names; auto-detection prefers the mapping
        that recognises most of a file's header."""
        groups = []
        for name in _COLUMN_FIELDS:
            value = getattr(self, name)
            if name == "narrative":
                groups.extend((column,) for column in value)
            elif value:
                groups.append(value)
        return groups

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            result[item.name] = list(value) if isinstance(value, tuple) else value
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnMapping:
        """Build from saved JSON. A column may be one header string or a list of
        alternatives; unknown keys are refused so that a typo is not ignored."""
        if not isinstance(data, Mapping):
            raise MappingError([_("A column mapping must be a JSON object.")])
        problems = []
        known = {item.name for item in fields(cls)}
        for key in sorted(set(data) - known):
            problems.append(_("Unknown key %(key)r.") % {"key": key})
        values: dict[str, Any] = {}
        for key in ("name", "label", "default_currency"):
            if key in data:
                if not isinstance(data[key], str):
                    problems.append(_("%(key)s must be a string.") % {"key": key})
                else:
                    values[key] = data[key].strip()
        if "name" not in values:
            problems.append(_("The mapping needs a name."))
        values.setdefault("label", values.get("name", ""))
        for key in _COLUMN_FIELDS + _WORD_FIELDS:
            if key not in data or data[key] in (None, "", []):
                continue
            raw = data[key]
            items = [raw] if isinstance(raw, str) else raw
            if not isinstance(items, list | tuple) or not all(
                isinstance(item, str) and item.strip() for item in items
            ):
                problems.append(
                    _("%(key)s must be a non-empty string or a list of them.") % {"key": key}
                )
                continue
            values[key] = tuple(item.strip() for item in items)
        if problems:
            raise MappingError(problems)
        values.setdefault("booked_on", ())
        return cls(**values)
