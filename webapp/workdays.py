"""Working days under the New Zealand Privacy Act 2020, for due dates of requests.

A working day is a weekday that is not a New Zealand public holiday (the `holidays`
package's calendar) and does not fall between 25 December and 15 January inclusive.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

PRIVACY_ACT_DAYS = 20


@lru_cache(maxsize=16)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("NZ", years=year)


def is_working_day(day: date) -> bool:
    """Whether `day` counts toward a Privacy Act deadline."""
    if day.weekday() >= 5 or day in _holidays(day.year):
        return False
    summer_break = (day.month == 12 and day.day >= 25) or (day.month == 1 and day.day <= 15)
    return not summer_break


def add_working_days(start: date | datetime, days: int = PRIVACY_ACT_DAYS) -> date:
    """The date `days` working days after `start` (the day of receipt itself does not count)."""
    current = start.date() if isinstance(start, datetime) else start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after `start` up to and including `end` (negative if past)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + timedelta(n)))
