"""Pagination of the API lists.

The large lists (charges, contracts, customers, statement lines, matches,
discrepancies) are paged by a cursor: ``next``/``previous`` links hold the sort key
of the row a page ends (or starts) at, and the next page is the rows after it in
the view's ``cursor_ordering``. The database walks an index from that key, so the
thousandth page costs what the first does, rows added meanwhile neither repeat nor
skip a row, and no ``COUNT(*)`` is run: these lists have no ``count``.

The small lists (receiving accounts, statements, reconciliation runs) keep page
numbers and their ``count``.

Both take ``page_size`` (1 to 500, default 50); anything else is a 400 naming the
parameter, as a bad filter is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

PAGE_SIZE_HELP = _("Rows per page, 1 to %(max)d (default %(default)d).")
PAGE_SIZE_INVALID = _("page_size must be one whole number from 1 to %(max)d.")
CURSOR_HELP = _(
    "Where the page starts: leave it out for the first page, then follow the `next` "
    "and `previous` links as given."
)
CURSOR_INVALID = _("This cursor is not valid: follow the next or previous link as given.")


def _single(request, name: str, message) -> str | None:
    """The parameter's one value, None when absent; given twice (an array) is a 400."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: [message]})
    return values[0]


class PageSizeMixin:
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def _page_size_invalid(self):
        return PAGE_SIZE_INVALID % {"max": self.max_page_size}

    def get_page_size(self, request) -> int:
        message = self._page_size_invalid()
        raw = _single(request, self.page_size_query_param, message)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [message]})
        return int(raw)

    def _page_size_parameter(self) -> dict:
        return {
            "name": self.page_size_query_param,
            "required": False,
            "in": "query",
            "description": str(
                PAGE_SIZE_HELP % {"max": self.max_page_size, "default": self.page_size}
            ),
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": self.max_page_size,
                "default": self.page_size,
            },
        }


class PageNumberPagination(PageSizeMixin, pagination.PageNumberPagination):
    """Page numbers with a ``count``, for the lists that stay small."""

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        return [
            self._page_size_parameter() if p["name"] == self.page_size_query_param else p
            for p in parameters
        ]


class CursorPagination(PageSizeMixin, pagination.BasePagination):
    """Keyset pages in the view's ``cursor_ordering``: field names, all ascending or
    all descending (``-``), the last one unique (the id) so that every row has its
    own place. Give the view an index on the same fields (after its filters' equality
    columns) and each page is one short index range scan."""

    cursor_query_param = "cursor"
    ordering = ("-id",)

    def get_ordering(self, view) -> tuple[str, ...]:
        ordering = tuple(getattr(view, "cursor_ordering", None) or self.ordering)
        directions = {name.startswith("-") for name in ordering}
        assert len(directions) == 1, f"{ordering}: mixed directions cannot be one keyset"
        return ordering

    # --- the cursor ------------------------------------------------------------------

    @staticmethod
    def _encode(reverse: bool, key: list) -> str:
        payload = json.dumps({"r": int(reverse), "k": key}, separators=(",", ":"), default=str)
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    def _decode(self, request, model, names: list[str]) -> tuple[bool, list] | None:
        raw = _single(request, self.cursor_query_param, CURSOR_INVALID)
        if raw is None:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            key = data["k"]
            if not isinstance(key, list) or len(key) != len(names) or None in key:
                raise ValueError(key)
            fields = [model._meta.get_field(name) for name in names]
            values = [field.to_python(value) for field, value in zip(fields, key, strict=True)]
            return bool(data["r"]), values
        except (ValueError, TypeError, KeyError, binascii.Error, DjangoValidationError) as exc:
            raise ValidationError({self.cursor_query_param: [CURSOR_INVALID]}) from exc

    @staticmethod
    def _key(row, names: list[str]) -> list:
        if isinstance(row, dict):
            return [row[name] for name in names]
        return [getattr(row, name) for name in names]

    # --- the page --------------------------------------------------------------------

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size_used = self.get_page_size(request)
        ordering = self.get_ordering(view)
        descending = ordering[0].startswith("-")
        pk = queryset.model._meta.pk.attname
        fields = [pk if n == "pk" else n for n in (name.lstrip("-") for name in ordering)]
        cursor = self._decode(request, queryset.model, fields)
        reverse = bool(cursor and cursor[0])

        if cursor is not None:
            lhs = Tuple(*(F(name) for name in fields))
            after = TupleGreaterThan if descending == reverse else TupleLessThan
            queryset = queryset.filter(after(lhs, tuple(cursor[1])))
        backwards = descending != reverse
        queryset = queryset.order_by(*(f"-{n}" if backwards else n for n in fields))

        rows = list(queryset[: self.page_size_used + 1])
        more = len(rows) > self.page_size_used
        rows = rows[: self.page_size_used]
        if reverse:
            rows.reverse()
            self.has_next, self.has_previous = True, more
        else:
            self.has_next, self.has_previous = more, cursor is not None
        self._first = self._key(rows[0], fields) if rows else None
        self._last = self._key(rows[-1], fields) if rows else None
        return rows

    def _link(self, reverse: bool, key: list | None) -> str | None:
        url = self.request.build_absolute_uri()
        if key is None:
            return remove_query_param(url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, self._encode(reverse, key))

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        # an empty page (its rows deleted meanwhile) links back to the first page
        return self._link(False, self._last)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        return self._link(True, self._first)

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    **link,
                    "description": str(_("The next page; null on the last page.")),
                    "example": "http://api.example.org/accounts/?cursor=eyJyIjowLCJrIjpbNDJdfQ",
                },
                "previous": {
                    **link,
                    "description": str(_("The page before; null on the first page.")),
                    "example": None,
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(CURSOR_HELP),
                "schema": {"type": "string"},
            },
            self._page_size_parameter(),
        ]
