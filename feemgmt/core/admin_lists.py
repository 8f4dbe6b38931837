"""Admin changelists of tables that grow to millions of rows (charges, contracts).

A plain changelist counts its rows twice per page load (the filtered count for the
paginator, and the whole table for "N total"), and a date hierarchy reads every
row's date to find the years it links to. At a million charges that is most of a
page's time. :class:`LargeTableAdminMixin` keeps a page to its own rows:

- no "N total": ``show_full_result_count = False``;
- :class:`EstimatedCountPaginator`: on PostgreSQL the unfiltered list's total is
  the planner's estimate (``pg_class.reltuples``, kept by autovacuum), and a
  filtered list counts at most ``EXACT_UP_TO`` rows before taking the planner's
  estimate for the rest; so the total shown for a large list is approximate;
- the date hierarchy's years, months or days found by one index probe each
  (:class:`DateProbeQuerySet`) instead of a scan of the whole list.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import DateTimeField, Min, QuerySet
from django.utils.functional import cached_property

EXACT_UP_TO = 10_000


def _planner_rows(queryset: QuerySet) -> int:
    """The planner's estimate of the rows ``queryset`` returns (EXPLAIN, not run)."""
    plan = json.loads(queryset.explain(format="json"))
    if isinstance(plan, list):
        plan = plan[0]
    return int(plan["Plan"]["Plan Rows"])


def _table_estimate(queryset: QuerySet) -> int:
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return row[0] if row else -1


class EstimatedCountPaginator(Paginator):
    """A paginator whose count does not read a large table (see the module doc)."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if (
            not isinstance(queryset, QuerySet)
            or connections[queryset.db].vendor != "postgresql"
            or queryset.query.distinct
        ):
            return super().count
        if not queryset.query.where:
            estimate = _table_estimate(queryset)
            # never analysed (-1) or small: counting is cheap and exact
            return estimate if estimate > EXACT_UP_TO else super().count
        counted = queryset.order_by()[: EXACT_UP_TO + 1].count()
        if counted <= EXACT_UP_TO:
            return counted
        return max(_planner_rows(queryset.order_by()), counted)


def _period(day: dt.date, kind: str) -> tuple[dt.date, dt.date]:
    """The start of ``day``'s year, month or day, and the start of the next one."""
    if kind == "year":
        return dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1)
    if kind == "month":
        start = day.replace(day=1)
        return start, (start + dt.timedelta(days=32)).replace(day=1)
    return day, day + dt.timedelta(days=1)


class DateProbeQuerySet(QuerySet):
    """``dates()`` found by probing an index: the first date, then the first date
    after its period, and so on; one query per year (month, day) listed instead of
    a scan of every row. Same result as ``QuerySet.dates``, as a list."""

    def dates(self, field_name, kind, order="ASC"):
        if (
            kind not in ("year", "month", "day")
            or "__" in field_name
            or isinstance(self.model._meta.get_field(field_name), DateTimeField)
        ):
            return super().dates(field_name, kind, order)
        base = self.order_by()
        found = []
        first = base.aggregate(first=Min(field_name))["first"]
        while first is not None:
            start, following = _period(first, kind)
            found.append(start)
            nxt = base.filter(**{f"{field_name}__gte": following})
            first = nxt.aggregate(first=Min(field_name))["first"]
        return found[::-1] if order == "DESC" else found


_probe_classes: dict[type, type] = {}


def with_date_probes(queryset: QuerySet) -> QuerySet:
    """The same queryset whose ``dates()`` probes (its clones keep it)."""
    cls = queryset.__class__
    if issubclass(cls, DateProbeQuerySet):
        return queryset
    if cls not in _probe_classes:
        _probe_classes[cls] = type(f"DateProbe{cls.__name__}", (DateProbeQuerySet, cls), {})
    clone = queryset._chain()
    clone.__class__ = _probe_classes[cls]
    return clone


class LargeTableAdminMixin:
    """For the changelist of a table with millions of rows (see the module doc).
    Put it before ``ModelAdmin`` in the bases."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return with_date_probes(queryset) if self.date_hierarchy else queryset


def cached_headers(result_headers):
    """``result_headers`` computed once per changelist page, kept on the changelist."""

    def once(cl):
        headers = getattr(cl, "_result_headers", None)
        if headers is None:
            headers = cl._result_headers = list(result_headers(cl))
        return iter(headers)

    once.original = result_headers
    return once


def headers_once_per_page() -> None:
    """Make unfold's changelist compute its column headers once per page.

    unfold 0.91's ``items_for_result`` rebuilds every column header (sort links and
    all) for each row it renders, for the one header text it reads: a third of a
    100-row charge page's time. The headers do not change within a page. Called
    once from ``CoreConfig.ready``."""
    from unfold.templatetags import unfold_list

    if not hasattr(unfold_list.result_headers, "original"):
        unfold_list.result_headers = cached_headers(unfold_list.result_headers)
