"""Billing periods and their amounts (docs/billing.md).

Expected figures in the table tests are worked out by hand in the comments and written
as literals, so a wrong formula in the module cannot make its own test pass.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moneyed import Money

import billing.calendar as billing_calendar
from billing.calendar import (
    ChargeSpec,
    Period,
    add_months,
    iter_periods,
    next_due_after,
    period_amount,
    recurring_charges,
)
from contracts.choices import Alignment, Cycle, Proration

D = date.fromisoformat


def cny(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")


def spans(periods) -> list[tuple[date, date]]:
    return [(p.start, p.end) for p in periods]


def take(n: int, **kwargs) -> list[Period]:
    return list(itertools.islice(iter_periods(**kwargs), n))


def charges(**kwargs) -> list[tuple[date, date, Money, bool]]:
    return [
        (c.period_start, c.period_end, c.amount, c.prorated) for c in recurring_charges(**kwargs)
    ]


# --------------------------------------------------------------------------- add_months


@pytest.mark.parametrize(
    ("anchor", "months", "expected"),
    [
        ("2024-01-31", 1, "2024-02-29"),
        ("2023-01-31", 1, "2023-02-28"),
        ("2025-01-31", 1, "2025-02-28"),
        ("2024-01-31", 2, "2024-03-31"),
        ("2024-01-31", 3, "2024-04-30"),
        ("2024-01-31", 4, "2024-05-31"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 48, "2028-02-29"),
        ("2023-12-31", 2, "2024-02-29"),
        ("2024-11-30", 3, "2025-02-28"),
        ("2024-12-15", 1, "2025-01-15"),
        ("2024-03-31", -1, "2024-02-29"),
        ("2024-01-15", -1, "2023-12-15"),
        ("2024-05-31", 0, "2024-05-31"),
        ("1999-12-31", 1200, "2099-12-31"),
    ],
)
def test_add_months_clamps_to_month_end(anchor, months, expected):
    assert add_months(D(anchor), months) == D(expected)


# ------------------------------------------------------------------- Period properties


def test_period_properties():
    full = Period(D("2026-01-01"), D("2026-01-31"), D("2026-01-01"), D("2026-01-31"))
    assert (full.days, full.full_days, full.is_partial) == (31, 31, False)
    head = Period(D("2026-01-15"), D("2026-01-31"), D("2026-01-01"), D("2026-01-31"))
    assert (head.days, head.full_days, head.is_partial) == (17, 31, True)
    tail = Period(D("2026-02-01"), D("2026-02-10"), D("2026-02-01"), D("2026-02-28"))
    assert (tail.days, tail.full_days, tail.is_partial) == (10, 28, True)


# ------------------------------------------------------------- anniversary period dates


def test_anniversary_monthly_jan_31_through_leap_year():
    periods = take(14, cycle="monthly", alignment="anniversary", service_start=D("2024-01-31"))
    assert spans(periods) == [
        (D("2024-01-31"), D("2024-02-28")),
        (D("2024-02-29"), D("2024-03-30")),
        (D("2024-03-31"), D("2024-04-29")),
        (D("2024-04-30"), D("2024-05-30")),
        (D("2024-05-31"), D("2024-06-29")),
        (D("2024-06-30"), D("2024-07-30")),
        (D("2024-07-31"), D("2024-08-30")),
        (D("2024-08-31"), D("2024-09-29")),
        (D("2024-09-30"), D("2024-10-30")),
        (D("2024-10-31"), D("2024-11-29")),
        (D("2024-11-30"), D("2024-12-30")),
        (D("2024-12-31"), D("2025-01-30")),
        (D("2025-01-31"), D("2025-02-27")),
        (D("2025-02-28"), D("2025-03-30")),
    ]
    assert not any(p.is_partial for p in periods)


def test_anniversary_monthly_jan_31_non_leap_year():
    periods = take(3, cycle="monthly", alignment="anniversary", service_start=D("2023-01-31"))
    assert spans(periods) == [
        (D("2023-01-31"), D("2023-02-27")),
        (D("2023-02-28"), D("2023-03-30")),
        (D("2023-03-31"), D("2023-04-29")),
    ]


def test_anniversary_annual_feb_29():
    periods = take(5, cycle="annual", alignment="anniversary", service_start=D("2024-02-29"))
    assert spans(periods) == [
        (D("2024-02-29"), D("2025-02-27")),
        (D("2025-02-28"), D("2026-02-27")),
        (D("2026-02-28"), D("2027-02-27")),
        (D("2027-02-28"), D("2028-02-28")),
        (D("2028-02-29"), D("2029-02-27")),
    ]


def test_anniversary_quarterly_from_nov_30():
    periods = take(5, cycle="quarterly", alignment="anniversary", service_start=D("2023-11-30"))
    assert [p.start for p in periods] == [
        D("2023-11-30"),
        D("2024-02-29"),
        D("2024-05-30"),
        D("2024-08-30"),
        D("2024-11-30"),
    ]


def test_anniversary_monthly_across_year_end():
    periods = take(3, cycle="monthly", alignment="anniversary", service_start=D("2025-12-31"))
    assert spans(periods) == [
        (D("2025-12-31"), D("2026-01-30")),
        (D("2026-01-31"), D("2026-02-27")),
        (D("2026-02-28"), D("2026-03-30")),
    ]


# ----------------------------------------------------------- calendar dates and amounts


def test_concrete_monthly_first_period_prorated():
    # 2026-01-15..31 is 17 days of 31: 3000 × 17 / 31 = 1645.161… → 1645.16
    result = charges(
        cycle="monthly",
        alignment="calendar",
        proration="daily",
        amount=cny("3000.00"),
        service_start=D("2026-01-15"),
        service_end=None,
        through=D("2026-03-01"),
    )
    assert result == [
        (D("2026-01-15"), D("2026-01-31"), cny("1645.16"), True),
        (D("2026-02-01"), D("2026-02-28"), cny("3000.00"), False),
        (D("2026-03-01"), D("2026-03-31"), cny("3000.00"), False),
    ]


def test_concrete_annual_calendar_from_march_leap_year():
    # 2024-03-01..12-31 = 366 - (31 + 29) = 306 days: 12000 × 306 / 366 = 10032.786… → 10032.79
    result = charges(
        cycle="annual",
        alignment="calendar",
        proration="daily",
        amount=cny("12000.00"),
        service_start=D("2024-03-01"),
        service_end=None,
        through=D("2025-01-01"),
    )
    assert result == [
        (D("2024-03-01"), D("2024-12-31"), cny("10032.79"), True),
        (D("2025-01-01"), D("2025-12-31"), cny("12000.00"), False),
    ]


def test_annual_calendar_from_march_non_leap_year():
    # 2025-03-01..12-31 = 365 - (31 + 28) = 306 days: 12000 × 306 / 365 = 10060.273… → 10060.27
    result = charges(
        cycle="annual",
        alignment="calendar",
        proration="daily",
        amount=cny("12000.00"),
        service_start=D("2025-03-01"),
        service_end=None,
        through=D("2025-12-31"),
    )
    assert result == [(D("2025-03-01"), D("2025-12-31"), cny("10060.27"), True)]


def test_annual_calendar_mid_year_proration_none_is_full():
    result = charges(
        cycle=Cycle.ANNUAL,
        alignment=Alignment.CALENDAR,
        proration=Proration.NONE,
        amount=cny("12000.00"),
        service_start=D("2024-07-01"),
        service_end=None,
        through=D("2024-12-31"),
    )
    assert result == [(D("2024-07-01"), D("2024-12-31"), cny("12000.00"), False)]


@pytest.mark.parametrize(
    ("cycle", "amount", "expected_first"),
    [
        # February 2024 has 29 days: 2900 × 1 / 29 = 100.00
        ("monthly", "2900.00", ("2024-02-29", "2024-02-29", "100.00")),
        # Q1 2024 = 31 + 29 + 31 = 91 days, used Feb 29 + March = 32: 9100 × 32 / 91 = 3200.00
        ("quarterly", "9100.00", ("2024-02-29", "2024-03-31", "3200.00")),
        # 2024 has 366 days, Feb 29 is day 60, so 307 days used: 36600 × 307 / 366 = 30700.00
        ("annual", "36600.00", ("2024-02-29", "2024-12-31", "30700.00")),
    ],
)
def test_calendar_start_on_feb_29(cycle, amount, expected_first):
    result = recurring_charges(
        cycle=cycle,
        alignment="calendar",
        proration="daily",
        amount=cny(amount),
        service_start=D("2024-02-29"),
        service_end=None,
        through=D("2024-02-29"),
    )
    start, end, charged = expected_first
    assert result == [
        ChargeSpec(
            period_start=D(start),
            period_end=D(end),
            due_date=D(start),
            amount=cny(charged),
            prorated=True,
        )
    ]


@pytest.mark.parametrize(
    ("service_start", "expected"),
    [
        # Q1 2026 = 31 + 28 + 31 = 90 days: 9000 × 1 / 90 = 100.00
        (
            "2026-03-31",
            [
                ("2026-03-31", "2026-03-31", "100.00", True),
                ("2026-04-01", "2026-06-30", "9000.00", False),
            ],
        ),
        ("2026-04-01", [("2026-04-01", "2026-06-30", "9000.00", False)]),
        # Q2 2026 = 30 + 31 + 30 = 91 days: 9000 × 1 / 91 = 98.901… → 98.90
        (
            "2026-06-30",
            [
                ("2026-06-30", "2026-06-30", "98.90", True),
                ("2026-07-01", "2026-09-30", "9000.00", False),
            ],
        ),
        # Q4 2026 = 31 + 30 + 31 = 92 days: 9000 × 1 / 92 = 97.826… → 97.83
        (
            "2026-12-31",
            [
                ("2026-12-31", "2026-12-31", "97.83", True),
                ("2027-01-01", "2027-03-31", "9000.00", False),
            ],
        ),
    ],
)
def test_calendar_quarter_boundaries(service_start, expected):
    result = charges(
        cycle="quarterly",
        alignment="calendar",
        proration="daily",
        amount=cny("9000.00"),
        service_start=D(service_start),
        service_end=None,
        through=D(expected[-1][0]),
    )
    assert result == [(D(s), D(e), cny(a), p) for s, e, a, p in expected]


def test_calendar_monthly_across_year_end():
    # December has 31 days: 3100 × 1 / 31 = 100.00
    result = charges(
        cycle="monthly",
        alignment="calendar",
        proration="daily",
        amount=cny("3100.00"),
        service_start=D("2025-12-31"),
        service_end=None,
        through=D("2026-02-01"),
    )
    assert result == [
        (D("2025-12-31"), D("2025-12-31"), cny("100.00"), True),
        (D("2026-01-01"), D("2026-01-31"), cny("3100.00"), False),
        (D("2026-02-01"), D("2026-02-28"), cny("3100.00"), False),
    ]


def test_calendar_annual_across_year_end():
    # 2025 has 365 days: 36500 × 1 / 365 = 100.00
    periods = take(3, cycle="annual", alignment="calendar", service_start=D("2025-12-31"))
    assert spans(periods) == [
        (D("2025-12-31"), D("2025-12-31")),
        (D("2026-01-01"), D("2026-12-31")),
        (D("2027-01-01"), D("2027-12-31")),
    ]
    assert period_amount(
        periods[0], amount=cny("36500.00"), alignment="calendar", proration="daily"
    ) == cny("100.00")


# ---------------------------------------------------------------------- service end


def test_service_end_mid_period_daily_is_prorated():
    # March 1..10 of 31 days: 3000 × 10 / 31 = 967.741… → 967.74
    result = charges(
        cycle="monthly",
        alignment="calendar",
        proration="daily",
        amount=cny("3000.00"),
        service_start=D("2026-01-01"),
        service_end=D("2026-03-10"),
        through=D("2030-01-01"),
    )
    assert result == [
        (D("2026-01-01"), D("2026-01-31"), cny("3000.00"), False),
        (D("2026-02-01"), D("2026-02-28"), cny("3000.00"), False),
        (D("2026-03-01"), D("2026-03-10"), cny("967.74"), True),
    ]


def test_service_end_mid_period_none_is_full():
    result = charges(
        cycle="monthly",
        alignment="calendar",
        proration="none",
        amount=cny("3000.00"),
        service_start=D("2026-01-01"),
        service_end=D("2026-03-10"),
        through=D("2030-01-01"),
    )
    assert result[-1] == (D("2026-03-01"), D("2026-03-10"), cny("3000.00"), False)
    assert len(result) == 3


def test_service_end_mid_period_anniversary_is_full():
    result = charges(
        cycle="monthly",
        alignment="anniversary",
        proration="daily",
        amount=cny("3000.00"),
        service_start=D("2026-01-15"),
        service_end=D("2026-03-20"),
        through=D("2030-01-01"),
    )
    assert result == [
        (D("2026-01-15"), D("2026-02-14"), cny("3000.00"), False),
        (D("2026-02-15"), D("2026-03-14"), cny("3000.00"), False),
        (D("2026-03-15"), D("2026-03-20"), cny("3000.00"), False),
    ]
    last = list(
        iter_periods(
            cycle="monthly",
            alignment="anniversary",
            service_start=D("2026-01-15"),
            service_end=D("2026-03-20"),
        )
    )[-1]
    assert (last.full_start, last.full_end, last.is_partial) == (
        D("2026-03-15"),
        D("2026-04-14"),
        True,
    )


@pytest.mark.parametrize(
    ("alignment", "proration", "expected_amount", "expected_full_end"),
    [
        # May has 31 days: 3100 × 1 / 31 = 100.00
        ("calendar", "daily", "100.00", "2026-05-31"),
        ("calendar", "none", "3100.00", "2026-05-31"),
        ("anniversary", "daily", "3100.00", "2026-06-19"),
        ("anniversary", "none", "3100.00", "2026-06-19"),
    ],
)
def test_one_day_contract(alignment, proration, expected_amount, expected_full_end):
    kwargs = dict(
        cycle="monthly",
        alignment=alignment,
        service_start=D("2026-05-20"),
        service_end=D("2026-05-20"),
    )
    periods = list(iter_periods(**kwargs))
    assert spans(periods) == [(D("2026-05-20"), D("2026-05-20"))]
    assert periods[0].full_end == D(expected_full_end)
    result = recurring_charges(
        **kwargs, proration=proration, amount=cny("3100.00"), through=D("2026-12-31")
    )
    assert [c.amount for c in result] == [cny(expected_amount)]
    assert next_due_after(**kwargs, after=D("2026-05-19")) == D("2026-05-20")
    assert next_due_after(**kwargs, after=D("2026-05-20")) is None


def test_end_on_boundary_minus_one_day_calendar_monthly():
    periods = list(
        iter_periods(
            cycle="monthly",
            alignment="calendar",
            service_start=D("2026-01-01"),
            service_end=D("2026-03-31"),
        )
    )
    assert spans(periods) == [
        (D("2026-01-01"), D("2026-01-31")),
        (D("2026-02-01"), D("2026-02-28")),
        (D("2026-03-01"), D("2026-03-31")),
    ]
    assert not any(p.is_partial for p in periods)


def test_end_on_quarter_boundary_minus_one_day():
    # Q1 2026 = 90 days, Feb 1..Mar 31 = 28 + 31 = 59 used: 9000 × 59 / 90 = 5900.00
    result = charges(
        cycle="quarterly",
        alignment="calendar",
        proration="daily",
        amount=cny("9000.00"),
        service_start=D("2026-02-01"),
        service_end=D("2026-06-30"),
        through=D("2030-01-01"),
    )
    assert result == [
        (D("2026-02-01"), D("2026-03-31"), cny("5900.00"), True),
        (D("2026-04-01"), D("2026-06-30"), cny("9000.00"), False),
    ]


def test_end_on_anniversary_minus_one_day_and_one_day_later():
    common = dict(cycle="monthly", alignment="anniversary", service_start=D("2026-01-15"))
    periods = list(iter_periods(**common, service_end=D("2026-04-14")))
    assert spans(periods) == [
        (D("2026-01-15"), D("2026-02-14")),
        (D("2026-02-15"), D("2026-03-14")),
        (D("2026-03-15"), D("2026-04-14")),
    ]
    assert not any(p.is_partial for p in periods)
    one_more = list(iter_periods(**common, service_end=D("2026-04-15")))
    assert spans(one_more)[-1] == (D("2026-04-15"), D("2026-04-15"))


@pytest.mark.parametrize("alignment", ["calendar", "anniversary"])
@pytest.mark.parametrize("cycle", ["monthly", "quarterly", "annual"])
def test_end_before_start_has_no_periods(cycle, alignment):
    kwargs = dict(
        cycle=cycle,
        alignment=alignment,
        service_start=D("2026-05-20"),
        service_end=D("2026-05-19"),
    )
    assert list(iter_periods(**kwargs)) == []
    assert (
        recurring_charges(
            **kwargs, proration="daily", amount=cny("100.00"), through=D("2030-01-01")
        )
        == []
    )
    assert next_due_after(**kwargs, after=D("2000-01-01")) is None


@pytest.mark.parametrize(
    ("cycle", "start", "end", "amount", "expected"),
    [
        # Feb 10..20 2026 = 11 of 28 days: 2800 × 11 / 28 = 1100.00
        ("monthly", "2026-02-10", "2026-02-20", "2800.00", "1100.00"),
        # 1000 × 11 / 28 = 392.857… → 392.86
        ("monthly", "2026-02-10", "2026-02-20", "1000.00", "392.86"),
        # Q2 2026 = 91 days; May 10..31 = 22, Jun 1..20 = 20, 42 used: 9100 × 42 / 91 = 4200.00
        ("quarterly", "2026-05-10", "2026-06-20", "9100.00", "4200.00"),
        # March = 31 of 365 days: 36500 × 31 / 365 = 3100.00
        ("annual", "2026-03-01", "2026-03-31", "36500.00", "3100.00"),
        # 2028 is a leap year: 36600 × 31 / 366 = 3100.00
        ("annual", "2028-03-01", "2028-03-31", "36600.00", "3100.00"),
    ],
)
def test_period_both_first_and_last_partial(cycle, start, end, amount, expected):
    result = charges(
        cycle=cycle,
        alignment="calendar",
        proration="daily",
        amount=cny(amount),
        service_start=D(start),
        service_end=D(end),
        through=D("2030-12-31"),
    )
    assert result == [(D(start), D(end), cny(expected), True)]


# ------------------------------------------------------------------ rounding, currencies


@pytest.mark.parametrize(
    ("start", "amount", "currency", "expected"),
    [
        # April = 30 days, one day used: 0.15 / 30 = 0.005 exactly → 0.01 (half-even: 0.00)
        ("2026-04-30", "0.15", "CNY", "0.01"),
        # February 2026 = 28 days: 0.70 / 28 = 0.025 exactly → 0.03 (half-even: 0.02)
        ("2026-02-28", "0.70", "CNY", "0.03"),
        # Apr 16..30 = 15 of 30 days: 1000.01 × 15 / 30 = 500.005 → 500.01
        ("2026-04-16", "1000.01", "CNY", "500.01"),
        # 0.14 / 30 = 0.00466… → 0.00; just below the half
        ("2026-04-30", "0.14", "CNY", "0.00"),
        # JPY has no minor unit: 75 / 30 = 2.5 → 3 (half-even: 2)
        ("2026-04-30", "75", "JPY", "3"),
        # 15 / 30 = 0.5 → 1
        ("2026-04-30", "15", "JPY", "1"),
        # Jan 15..31 = 17 of 31: 10000 × 17 / 31 = 5483.87… → 5484
        ("2026-01-15", "10000", "JPY", "5484"),
        # Jan 20..31 = 12 of 31: 0.01 × 12 / 31 = 0.00387… → 0.00
        ("2026-01-20", "0.01", "CNY", "0.00"),
    ],
)
def test_half_up_rounding_and_minor_units(start, amount, currency, expected):
    result = recurring_charges(
        cycle="monthly",
        alignment="calendar",
        proration="daily",
        amount=Money(Decimal(amount), currency),
        service_start=D(start),
        service_end=None,
        through=D(start),
    )
    assert len(result) == 1
    charged = result[0].amount
    assert charged == Money(Decimal(expected), currency)
    assert charged.currency.code == currency
    assert charged.amount.as_tuple().exponent == -(2 if currency == "CNY" else 0)
    assert result[0].prorated is True


def test_prorated_is_false_when_rounding_gives_back_the_full_amount():
    # Jan 15..31 = 17 of 31: 0.01 × 17 / 31 = 0.00548… → 0.01, the full fee amount
    [charge] = recurring_charges(
        cycle="monthly",
        alignment="calendar",
        proration="daily",
        amount=cny("0.01"),
        service_start=D("2026-01-15"),
        service_end=None,
        through=D("2026-01-15"),
    )
    assert (charge.amount, charge.prorated) == (cny("0.01"), False)


def test_period_amount_directly():
    head = Period(D("2026-01-15"), D("2026-01-31"), D("2026-01-01"), D("2026-01-31"))
    full = Period(D("2026-02-01"), D("2026-02-28"), D("2026-02-01"), D("2026-02-28"))
    amount = cny("3000.00")
    assert period_amount(head, amount=amount, alignment="calendar", proration="daily") == cny(
        "1645.16"
    )
    assert period_amount(head, amount=amount, alignment="calendar", proration="none") == amount
    assert period_amount(head, amount=amount, alignment="anniversary", proration="daily") == amount
    assert period_amount(full, amount=amount, alignment="calendar", proration="daily") == amount


# ------------------------------------------------------------- since / through / next due


def test_since_and_through_select_by_due_date():
    common = dict(
        cycle="monthly",
        alignment="calendar",
        proration="daily",
        amount=cny("3000.00"),
        service_start=D("2026-01-15"),
        service_end=None,
    )

    def dues(**kwargs):
        return [c.due_date for c in recurring_charges(**common, **kwargs)]

    assert dues(through=D("2026-04-01")) == [
        D("2026-01-15"),
        D("2026-02-01"),
        D("2026-03-01"),
        D("2026-04-01"),
    ]
    assert dues(through=D("2026-03-31")) == [D("2026-01-15"), D("2026-02-01"), D("2026-03-01")]
    assert dues(through=D("2026-04-01"), since=D("2026-01-15")) == dues(through=D("2026-04-01"))
    assert dues(through=D("2026-04-01"), since=D("2026-01-16")) == [
        D("2026-02-01"),
        D("2026-03-01"),
        D("2026-04-01"),
    ]
    assert dues(through=D("2026-04-01"), since=D("2026-02-01")) == [
        D("2026-02-01"),
        D("2026-03-01"),
        D("2026-04-01"),
    ]
    assert dues(through=D("2026-04-01"), since=D("2026-02-02")) == [
        D("2026-03-01"),
        D("2026-04-01"),
    ]
    assert dues(through=D("2026-01-14")) == []
    assert dues(through=D("2026-03-01"), since=D("2026-03-02")) == []
    assert dues(through=D("2026-04-01"), since=D("2020-01-01")) == dues(through=D("2026-04-01"))


def test_since_with_anniversary_clamped_days():
    result = recurring_charges(
        cycle="monthly",
        alignment="anniversary",
        proration="daily",
        amount=cny("100.00"),
        service_start=D("2024-01-31"),
        service_end=None,
        through=D("2024-05-31"),
        since=D("2024-02-29"),
    )
    assert [c.due_date for c in result] == [
        D("2024-02-29"),
        D("2024-03-31"),
        D("2024-04-30"),
        D("2024-05-31"),
    ]
    assert result[0].period_end == D("2024-03-30")


@pytest.mark.parametrize(
    ("alignment", "since", "through", "expected"),
    [
        ("calendar", "2090-06-15", "2090-08-01", ["2090-07-01", "2090-08-01"]),
        ("anniversary", "2090-06-15", "2090-08-31", ["2090-06-30", "2090-07-31", "2090-08-31"]),
    ],
)
def test_since_decades_later_jumps_directly(monkeypatch, alignment, since, through, expected):
    calls = 0
    real_add_months = billing_calendar.add_months
    real_first_of_month = billing_calendar._first_of_month

    def counting_add_months(anchor, months):
        nonlocal calls
        calls += 1
        return real_add_months(anchor, months)

    def counting_first_of_month(index):
        nonlocal calls
        calls += 1
        return real_first_of_month(index)

    monkeypatch.setattr(billing_calendar, "add_months", counting_add_months)
    monkeypatch.setattr(billing_calendar, "_first_of_month", counting_first_of_month)
    result = recurring_charges(
        cycle="monthly",
        alignment=alignment,
        proration="daily",
        amount=cny("100.00"),
        service_start=D("1990-01-31"),
        service_end=None,
        through=D(through),
        since=D(since),
    )
    assert [c.due_date for c in result] == [D(x) for x in expected]
    assert calls < 20  # 1200 months later: a walk from the start would make thousands

    calls = 0
    after = next_due_after(
        cycle="monthly",
        alignment=alignment,
        service_start=D("1990-01-31"),
        service_end=None,
        after=D(since),
    )
    assert after == D(expected[0])
    assert calls < 5


@pytest.mark.parametrize(
    ("alignment", "service_end", "after", "expected"),
    [
        ("calendar", None, "2000-01-01", "2026-01-15"),
        ("calendar", None, "2026-01-14", "2026-01-15"),
        ("calendar", None, "2026-01-15", "2026-02-01"),
        ("calendar", None, "2026-01-31", "2026-02-01"),
        ("calendar", None, "2026-02-01", "2026-03-01"),
        ("calendar", "2026-03-10", "2026-02-28", "2026-03-01"),
        ("calendar", "2026-03-10", "2026-03-01", None),
        ("calendar", "2026-03-01", "2026-02-28", "2026-03-01"),
        ("calendar", "2026-02-28", "2026-02-01", None),
        ("anniversary", None, "2026-01-15", "2026-02-15"),
        ("anniversary", None, "2026-02-14", "2026-02-15"),
        ("anniversary", None, "2026-02-15", "2026-03-15"),
        ("anniversary", "2026-03-14", "2026-02-15", None),
    ],
)
def test_next_due_after(alignment, service_end, after, expected):
    result = next_due_after(
        cycle="monthly",
        alignment=alignment,
        service_start=D("2026-01-15"),
        service_end=D(service_end) if service_end else None,
        after=D(after),
    )
    assert result == (D(expected) if expected else None)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2024-02-28", "2024-02-29"),
        ("2024-02-29", "2024-03-31"),
        ("2024-03-30", "2024-03-31"),
        ("2024-03-31", "2024-04-30"),
        ("2025-02-27", "2025-02-28"),
    ],
)
def test_next_due_after_anniversary_jan_31(after, expected):
    assert next_due_after(
        cycle="monthly",
        alignment="anniversary",
        service_start=D("2024-01-31"),
        service_end=None,
        after=D(after),
    ) == D(expected)


# ------------------------------------------------------------------- choices and inputs


def test_enum_members_and_plain_strings_are_equivalent():
    common = dict(
        amount=cny("3000.00"),
        service_start=D("2026-01-15"),
        service_end=D("2026-09-10"),
        through=D("2026-12-31"),
    )
    with_enums = recurring_charges(
        cycle=Cycle.QUARTERLY, alignment=Alignment.CALENDAR, proration=Proration.DAILY, **common
    )
    with_strings = recurring_charges(
        cycle="quarterly", alignment="calendar", proration="daily", **common
    )
    assert with_enums == with_strings
    assert len(with_enums) == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(cycle="weekly", alignment="calendar", proration="daily"),
        dict(cycle="monthly", alignment="fiscal", proration="daily"),
        dict(cycle="monthly", alignment="calendar", proration="hourly"),
    ],
)
def test_unknown_choices_are_rejected(kwargs):
    with pytest.raises(ValueError):
        recurring_charges(
            **kwargs,
            amount=cny("1.00"),
            service_start=D("2026-01-01"),
            service_end=None,
            through=D("2025-01-01"),
        )


def test_open_ended_schedule_is_lazy():
    periods = iter_periods(cycle="monthly", alignment="calendar", service_start=D("2026-01-15"))
    assert next(periods).start == D("2026-01-15")
    assert next(periods).start == D("2026-02-01")


# ------------------------------------------------------------------------- properties

CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
CALENDAR_START_MONTHS = {"monthly": set(range(1, 13)), "quarterly": {1, 4, 7, 10}, "annual": {1}}

cycles = st.sampled_from(["monthly", "quarterly", "annual"])
alignments = st.sampled_from(["calendar", "anniversary"])
prorations = st.sampled_from(["daily", "none"])
starts = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
end_offsets = st.one_of(st.none(), st.integers(min_value=-5, max_value=2500))
amounts = st.one_of(
    st.decimals(min_value=0, max_value=10**9, places=2).map(lambda a: Money(a, "CNY")),
    st.integers(min_value=0, max_value=10**9).map(lambda a: Money(Decimal(a), "JPY")),
)
PROPERTY = settings(max_examples=250, deadline=None)
HORIZON = 60  # periods examined when the service has no end


def end_from(start: date, offset: int | None) -> date | None:
    return None if offset is None else start + timedelta(days=offset)


def bounded_periods(cycle, alignment, start, end) -> list[Period]:
    periods = iter_periods(cycle=cycle, alignment=alignment, service_start=start, service_end=end)
    return list(periods) if end is not None else list(itertools.islice(periods, HORIZON))


def half_up(value: Fraction, digits: int) -> Decimal:
    scaled = value * 10**digits
    units = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    return Decimal(units).scaleb(-digits)


@PROPERTY
@given(cycles, alignments, starts, end_offsets)
def test_periods_tile_the_service_exactly(cycle, alignment, start, offset):
    end = end_from(start, offset)
    periods = bounded_periods(cycle, alignment, start, end)
    if end is not None and end < start:
        assert periods == []
        return
    assert periods[0].start == start
    for prev, nxt in itertools.pairwise(periods):
        assert nxt.start == prev.end + timedelta(days=1)
        assert prev.full_end + timedelta(days=1) == nxt.full_start
    for p in periods:
        assert p.full_start <= p.start <= p.end <= p.full_end
        assert p.days >= 1
        assert p.is_partial == (p.days < p.full_days)
    if end is not None:
        assert periods[-1].end == end
        assert sum(p.days for p in periods) == (end - start).days + 1
    # Only the first and the last period may be clipped.
    assert not any(p.is_partial for p in periods[1:-1])


@PROPERTY
@given(cycles, alignments, starts, end_offsets)
def test_period_shapes_follow_the_alignment(cycle, alignment, start, offset):
    periods = bounded_periods(cycle, alignment, start, end_from(start, offset))
    months = CYCLE_MONTHS[cycle]
    for k, p in enumerate(periods):
        if alignment == "calendar":
            assert p.full_start.day == 1
            assert p.full_start.month in CALENDAR_START_MONTHS[cycle]
            assert (p.full_end + timedelta(days=1)).month in CALENDAR_START_MONTHS[cycle]
        else:
            assert p.full_start == p.start == add_months(start, k * months)
            assert p.full_end == add_months(start, (k + 1) * months) - timedelta(days=1)


@PROPERTY
@given(cycles, alignments, prorations, starts, end_offsets, amounts)
def test_amounts(cycle, alignment, proration, start, offset, amount):
    end = end_from(start, offset)
    for p in bounded_periods(cycle, alignment, start, end):
        charged = period_amount(p, amount=amount, alignment=alignment, proration=proration)
        assert charged.currency == amount.currency
        if not p.is_partial or alignment == "anniversary" or proration == "none":
            assert charged == amount
        else:
            assert Money(0, amount.currency) <= charged <= amount
            digits = 2 if amount.currency.code == "CNY" else 0
            exact = Fraction(amount.amount) * p.days / p.full_days
            assert charged.amount == half_up(exact, digits)


@PROPERTY
@given(cycles, alignments, prorations, starts, end_offsets, amounts, st.data())
def test_since_equals_the_filtered_full_list(
    cycle, alignment, proration, start, offset, amount, data
):
    end = end_from(start, offset)
    through = start + timedelta(days=data.draw(st.integers(-40, 3000), label="through"))
    since = start + timedelta(days=data.draw(st.integers(-40, 3100), label="since"))
    common = dict(
        cycle=cycle,
        alignment=alignment,
        proration=proration,
        amount=amount,
        service_start=start,
        service_end=end,
        through=through,
    )
    full = recurring_charges(**common)
    assert recurring_charges(**common, since=since) == [c for c in full if c.due_date >= since]
    for c in full:
        assert c.due_date == c.period_start <= through
        if alignment == "anniversary" or proration == "none":
            assert c.amount == amount
            assert c.prorated is False
        assert c.prorated == (c.amount != amount)


@PROPERTY
@given(cycles, alignments, starts, end_offsets, st.integers(-400, 3000))
def test_next_due_after_agrees_with_iter_periods(cycle, alignment, start, offset, after_offset):
    end = end_from(start, offset)
    after = start + timedelta(days=after_offset)
    expected = None
    for p in iter_periods(cycle=cycle, alignment=alignment, service_start=start, service_end=end):
        if p.start > after:
            expected = p.start
            break
    result = next_due_after(
        cycle=cycle, alignment=alignment, service_start=start, service_end=end, after=after
    )
    assert result == expected


@PROPERTY
@given(starts, st.integers(-2400, 2400))
def test_add_months_properties(anchor, months):
    result = add_months(anchor, months)
    total = anchor.year * 12 + anchor.month - 1 + months
    assert (result.year, result.month) == (total // 12, total % 12 + 1)
    next_month_first = add_months(result.replace(day=1), 1)
    last_day = (next_month_first - timedelta(days=1)).day
    assert result.day == min(anchor.day, last_day)
    if anchor.day <= 28:
        assert add_months(result, -months) == anchor


# --- consented fee changes (docs/amendments.md) -------------------------------


def _amounts(**kwargs):
    return [
        (spec.period_start, spec.amount, spec.prorated)
        for spec in recurring_charges(
            cycle="monthly", alignment="calendar", proration="daily", **kwargs
        )
    ]


def test_a_change_applies_from_its_period_and_prorates_the_cut_one():
    got = _amounts(
        amount=cny("3000.00"),
        service_start=date(2026, 1, 15),
        service_end=date(2026, 4, 20),
        through=date(2026, 12, 31),
        changes=[(date(2026, 3, 1), cny("3100.00")), (date(2026, 4, 1), cny("4000.00"))],
    )
    assert got == [
        (date(2026, 1, 15), cny("1645.16"), True),  # 3000 × 17/31, the old amount
        (date(2026, 2, 1), cny("3000.00"), False),
        (date(2026, 3, 1), cny("3100.00"), False),
        (date(2026, 4, 1), cny("2666.67"), True),  # 4000 × 20/30, the amount in force
    ]


def test_a_change_from_the_first_period_prorates_it_from_the_new_amount():
    got = _amounts(
        amount=cny("3000.00"),
        service_start=date(2026, 1, 15),
        service_end=None,
        through=date(2026, 2, 1),
        changes=[(date(2026, 1, 15), cny("3100.00"))],
    )
    assert got == [
        (date(2026, 1, 15), cny("1700.00"), True),
        (date(2026, 2, 1), cny("3100.00"), False),
    ]


def test_a_changed_full_period_is_not_called_prorated():
    got = _amounts(
        amount=cny("3000.00"),
        service_start=date(2026, 1, 1),
        service_end=None,
        through=date(2026, 2, 1),
        since=date(2026, 2, 1),
        changes=[(date(2026, 2, 1), cny("2500.00"))],
    )
    assert got == [(date(2026, 2, 1), cny("2500.00"), False)]


@pytest.mark.parametrize(
    ("alignment", "day", "due"),
    [
        ("calendar", date(2026, 4, 1), True),
        ("calendar", date(2026, 4, 2), False),
        ("calendar", date(2026, 1, 15), True),  # the service start opens period 0
        ("anniversary", date(2026, 2, 28), True),  # Jan 31 clamped to Feb 28
        ("anniversary", date(2026, 3, 31), True),
        ("anniversary", date(2026, 3, 28), False),
        ("calendar", date(2027, 1, 1), False),  # after the service end
    ],
)
def test_is_due_date(alignment, day, due):
    start = date(2026, 1, 31) if alignment == "anniversary" else date(2026, 1, 15)
    assert (
        billing_calendar.is_due_date(
            cycle="monthly",
            alignment=alignment,
            service_start=start,
            service_end=date(2026, 12, 31),
            day=day,
        )
        is due
    )
