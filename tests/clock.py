"""Fixing "today" in tests. Billing dates are dates in Asia/Shanghai, so the
clock is set to a time of day there, not in UTC."""

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int = 12):
    """Travel to ``hour`` o'clock of ``day`` in the billing time zone (clock stopped)."""
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), SHANGHAI), tick=False)
