"""School days: weekdays that are neither a public holiday nor a school holiday of the region.

Reviews and deadlines are counted in school days of the school's holiday region
(Noord, Midden, Zuid) and never fall in a holiday or a weekend.
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays
import pendulum

TZ = "Europe/Amsterdam"
SCHOOL_DAYS_PER_WEEK = 5


def today() -> dt.date:
    """Today in Europe/Amsterdam."""
    return pendulum.now(TZ).date()


@functools.lru_cache(maxsize=8)
def _closed_days(region: str, year: int) -> frozenset[dt.date]:
    subdiv = region.capitalize()
    school = holidays.country_holidays("NL", subdiv=subdiv, categories=("school",), years=year)
    public = holidays.country_holidays("NL", years=year)
    return frozenset(school) | frozenset(public)


def is_school_day(day: dt.date, region: str) -> bool:
    return day.weekday() < 5 and day not in _closed_days(region, day.year)


def next_school_day(day: dt.date, region: str) -> dt.date:
    """`day` itself if it is a school day, otherwise the first school day after it."""
    d = pendulum.Date(day.year, day.month, day.day)
    while not is_school_day(d, region):
        d = d.add(days=1)
    return dt.date(d.year, d.month, d.day)


def previous_school_day(day: dt.date, region: str) -> dt.date:
    """`day` itself if it is a school day, otherwise the last school day before it (for a legal term)."""
    d = pendulum.Date(day.year, day.month, day.day)
    while not is_school_day(d, region):
        d = d.subtract(days=1)
    return dt.date(d.year, d.month, d.day)


def add_school_days(day: dt.date, count: int, region: str) -> dt.date:
    """The school day `count` school days after `day` (the day itself does not count)."""
    d = pendulum.Date(day.year, day.month, day.day)
    left = count
    while left > 0:
        d = d.add(days=1)
        if is_school_day(d, region):
            left -= 1
    return next_school_day(dt.date(d.year, d.month, d.day), region)


def add_school_weeks(day: dt.date, weeks: int, region: str) -> dt.date:
    return add_school_days(day, weeks * SCHOOL_DAYS_PER_WEEK, region)


class SchoolDayIndex:
    """Counts school days between dates fast: a running count of school days over a date range.

    `between(a, b)` is the number of school days after `a` up to and including `b`
    (negative when `b` is before `a`), the measure reminders and overdue work use.
    """

    def __init__(self, region: str, start: dt.date, end: dt.date) -> None:
        self.region = region
        self.start = start
        self.end = end
        counts = []
        running = 0
        day = start
        while day <= end:
            if is_school_day(day, region):
                running += 1
            counts.append(running)
            day += dt.timedelta(days=1)
        self._counts = counts

    def _at(self, day: dt.date) -> int:
        if not self.start <= day <= self.end:
            raise ValueError(f"{day} is outside the indexed range {self.start}..{self.end}")
        return self._counts[(day - self.start).days]

    def between(self, a: dt.date, b: dt.date) -> int:
        return self._at(b) - self._at(a)
