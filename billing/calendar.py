"""Billing periods of recurring fees, and what each one charges.

This is the arithmetic behind docs/billing.md. It is kept free of
Django models and the ORM so the billing run can call it for a million fee items
without a query, and so every date rule can be tested without a database.

Every period is computed from its index and the anchor (the service start, or the
calendar boundary containing it), never from the previous period. That keeps the
anniversary clamping exact (Jan 31 -> Feb 28 -> Mar 31, not Mar 28) and lets a caller
jump straight to the periods around a date instead of walking from the service start.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from functools import lru_cache

from moneyed import Money

from feemgmt.core.money import quantize

__all__ = [
    "AmountChange",
    "ChargeSpec",
    "Period",
    "add_months",
    "amount_in_force",
    "is_due_date",
    "iter_periods",
    "next_due_after",
    "period_amount",
    "recurring_charges",
]

CALENDAR = "calendar"
ANNIVERSARY = "anniversary"
DAILY = "daily"
NONE = "none"

_CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
_ALIGNMENTS = frozenset({CALENDAR, ANNIVERSARY})
_PRORATIONS = frozenset({DAILY, NONE})
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Period:
    """One billing period, possibly clipped by the service start or end.

    The full bounds are kept alongside the charged ones because daily proration divides
    by the length of the full calendar period, not by the length of the clipped one.
    """

    start: date
    end: date
    full_start: date
    full_end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def full_days(self) -> int:
        return (self.full_end - self.full_start).days + 1

    @property
    def is_partial(self) -> bool:
        return self.start != self.full_start or self.end != self.full_end


@dataclass(frozen=True, slots=True)
class ChargeSpec:
    """A charge the billing run should create; the dates are optional for one-off fees."""

    period_start: date | None
    period_end: date | None
    due_date: date
    amount: Money
    prorated: bool


# A consented fee amendment as the calendar sees it: from this period start on, this
# amount (docs/amendments.md). A fee's changes are passed oldest first.
AmountChange = tuple[date, Money]


def amount_in_force(amount: Money, changes: Sequence[AmountChange], start: date) -> Money:
    """The full-period amount of a period starting on ``start``: that of the latest
    change effective on or before it, else the fee's own ``amount``."""
    in_force = amount
    for effective_from, changed in changes:
        if effective_from > start:
            break
        in_force = changed
    return in_force


def _choice(value: object, allowed, what: str) -> str:
    # TextChoices members and plain strings must behave the same; normalising to the
    # raw value also keeps dict look-ups independent of the enum's hashing.
    raw = getattr(value, "value", value)
    if raw not in allowed:
        raise ValueError(f"unknown {what}: {value!r}")
    return raw


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and _is_leap(year):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


@lru_cache(maxsize=4096)
def _first_of_month(index: int) -> date:
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


def add_months(anchor: date, months: int) -> date:
    """Move by whole months from ``anchor``, clamping the day to the target month's end.

    Callers must always pass the original anchor with the total offset: clamping is
    lossy (Jan 31 + 1 = Feb 28), so chaining calls would drift to the 28th for good.
    """
    year, month0 = divmod(_month_index(anchor) + months, 12)
    month = month0 + 1
    return date(year, month, min(anchor.day, _days_in_month(year, month)))


class _Schedule:
    """The periods of one fee, addressable by index (0 = the period of the service start)."""

    __slots__ = ("_base", "anniversary", "months", "service_end", "service_start")

    def __init__(self, cycle, alignment, service_start: date, service_end: date | None):
        self.months = _CYCLE_MONTHS[_choice(cycle, _CYCLE_MONTHS, "cycle")]
        self.anniversary = _choice(alignment, _ALIGNMENTS, "alignment") == ANNIVERSARY
        self.service_start = service_start
        self.service_end = service_end
        # Calendar periods are numbered globally (month index // cycle length); _base is
        # the number of the one containing the service start.
        self._base = _month_index(service_start) // self.months

    @property
    def empty(self) -> bool:
        return self.service_end is not None and self.service_end < self.service_start

    def _full_bounds(self, k: int) -> tuple[date, date]:
        if self.anniversary:
            full_start = add_months(self.service_start, k * self.months)
            try:
                full_end = add_months(self.service_start, (k + 1) * self.months) - _ONE_DAY
            except (ValueError, OverflowError):
                full_end = date.max
        else:
            first_month = (self._base + k) * self.months
            full_start = _first_of_month(first_month)
            try:
                full_end = _first_of_month(first_month + self.months) - _ONE_DAY
            except (ValueError, OverflowError):
                full_end = date.max
        return full_start, full_end

    def start_of(self, k: int) -> date:
        """Due date of period ``k`` without building the whole period."""
        if k == 0:
            return self.service_start
        if self.anniversary:
            return add_months(self.service_start, k * self.months)
        return _first_of_month((self._base + k) * self.months)

    def period(self, k: int) -> Period:
        full_start, full_end = self._full_bounds(k)
        start = self.service_start if k == 0 else full_start
        end = full_end
        if self.service_end is not None and self.service_end < end:
            end = self.service_end
        return Period(start=start, end=end, full_start=full_start, full_end=full_end)

    def index_at(self, day: date) -> int:
        """Index of the period containing ``day``; ``day`` must not precede the start."""
        if not self.anniversary:
            return _month_index(day) // self.months - self._base
        # The start of period k lies in month (start month + k * cycle), so the month
        # difference gives k exactly unless the anniversary day of that month is still
        # ahead of ``day``; then ``day`` belongs to the period before.
        k = (_month_index(day) - _month_index(self.service_start)) // self.months
        if k > 0 and self.start_of(k) > day:
            k -= 1
        return k

    def first_index_due_from(self, day: date) -> int:
        """Index of the first period whose due date is on or after ``day``."""
        if day <= self.service_start:
            return 0
        k = self.index_at(day)
        return k if self.start_of(k) == day else k + 1

    def iter_from(self, k: int) -> Iterator[Period]:
        if self.empty:
            return
        while True:
            try:
                start = self.start_of(k)
            except (ValueError, OverflowError):
                return
            if self.service_end is not None and start > self.service_end:
                return
            period = self.period(k)
            yield period
            if period.full_end == date.max:
                return
            k += 1


def iter_periods(
    *, cycle, alignment, service_start: date, service_end: date | None = None
) -> Iterator[Period]:
    """Yield the billing periods in order; endless when the service has no end date."""
    return _Schedule(cycle, alignment, service_start, service_end).iter_from(0)


def period_amount(period: Period, *, amount: Money, alignment, proration) -> Money:
    """What ``period`` charges.

    Only calendar-aligned periods can be partial in the sense that matters here:
    anniversary periods are full cycles by construction, and one cut short by the
    service end is still charged in full (a decision taken for the product).
    The division is done at a precision far beyond any amount's digits so the single
    half-up rounding in :func:`quantize` sees the exact figure, including a true .005.
    """
    alignment = _choice(alignment, _ALIGNMENTS, "alignment")
    proration = _choice(proration, _PRORATIONS, "proration")
    if alignment != CALENDAR or proration != DAILY or not period.is_partial:
        return amount
    with localcontext() as ctx:
        ctx.prec = 60
        exact = amount.amount * Decimal(period.days) / Decimal(period.full_days)
        return quantize(exact, amount.currency.code)


def recurring_charges(
    *,
    cycle,
    alignment,
    proration,
    amount: Money,
    service_start: date,
    service_end: date | None,
    through: date,
    since: date | None = None,
    changes: Sequence[AmountChange] = (),
) -> list[ChargeSpec]:
    """Charges due on or before ``through`` (and on or after ``since``), oldest first.

    ``since`` lets the billing run resume after the charges it already created: the
    schedule jumps straight to that period, so the cost does not grow with the age of
    the contract. ``changes`` are the fee's consented amendments, oldest first: each
    period is charged (and prorated from) the amount in force at its start.
    """
    schedule = _Schedule(cycle, alignment, service_start, service_end)
    # Validate eagerly so a bad proration fails even when nothing is due yet.
    _choice(proration, _PRORATIONS, "proration")
    start_index = 0 if since is None else schedule.first_index_due_from(since)
    charges: list[ChargeSpec] = []
    for period in schedule.iter_from(start_index):
        if period.start > through:
            break
        full = amount_in_force(amount, changes, period.start)
        charged = period_amount(period, amount=full, alignment=alignment, proration=proration)
        charges.append(
            ChargeSpec(
                period_start=period.start,
                period_end=period.end,
                due_date=period.start,
                amount=charged,
                prorated=charged != full,
            )
        )
    return charges


def next_due_after(
    *, cycle, alignment, service_start: date, service_end: date | None, after: date
) -> date | None:
    """The first due date later than ``after``, or None once the service has ended."""
    schedule = _Schedule(cycle, alignment, service_start, service_end)
    if schedule.empty:
        return None
    k = 0 if after < service_start else schedule.index_at(after) + 1
    try:
        start = schedule.start_of(k)
    except (ValueError, OverflowError):
        return None
    if service_end is not None and start > service_end:
        return None
    return start


def is_due_date(
    *, cycle, alignment, service_start: date, service_end: date | None, day: date
) -> bool:
    """Whether a period of this fee starts (falls due) on ``day``, within the service."""
    schedule = _Schedule(cycle, alignment, service_start, service_end)
    if schedule.empty or day < service_start:
        return False
    if service_end is not None and day > service_end:
        return False
    k = schedule.first_index_due_from(day)
    try:
        return schedule.start_of(k) == day
    except (ValueError, OverflowError):
        return False
