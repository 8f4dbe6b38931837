"""List pages rendered from ``.values()`` rows instead of model instances.

On a page of 50 charges, building model instances and walking DRF's fields took
about half the request (docs/PERFORMANCE.md, "API and admin lists"). A view with
``ValuesListMixin`` fetches its list page with ``values(*list_columns)`` and turns
each row into the same JSON as its serializer by ``list_row``; the serializer still
renders details and documents the shape (tests hold the two outputs equal).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from moneyed import Money

from feemgmt.core.money import money_str


def date_text(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def datetime_text(value: dt.datetime | None) -> str | None:
    """As DRF's DateTimeField renders it: ISO 8601 in the current time zone, UTC as
    "Z" (a third of the row's time when done through the DRF field)."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def amount_text(amount, currency: str) -> str:
    return money_str(Money(amount, currency))


class ValuesListMixin:
    """``list`` from ``.values()``: set ``list_columns`` and ``list_row(row)``, and
    optionally ``list_extend(rows)`` to add what a second query fetches per page."""

    list_columns: tuple[str, ...] = ()

    def list_row(self, row: dict) -> dict:
        raise NotImplementedError

    def list_extend(self, rows: list[dict]) -> None:
        """Called with the page's rows (as ``list_row`` made them) before rendering."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset()).values(*self.list_columns)
        page = self.paginate_queryset(queryset)
        rows = [self.list_row(row) for row in page]
        self.list_extend(rows)
        return self.get_paginated_response(rows)
