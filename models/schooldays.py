"""School days: weekdays on which a school is open.

A school is closed on weekends, on the school holidays of its holiday region (Noord, Midden, Zuid),
on the national days off, and on its own closing days (study days, and for some schools Good Friday,
the Friday after Ascension, or 5 May outside lustrum years). Reviews and deadlines are counted in
the school days of that school and never fall on a day it is closed.

The national rule: the recognised public holidays of the Algemene termijnenwet close every school,
Good Friday does not (the `holidays` package lists it, but schools are not required to close), and
5 May (Bevrijdingsdag) closes schools only in lustrum years (2025, 2030, ...), as `holidays` has it.

Every function takes a `SchoolCalendar` (a region and the school's own closing days) or just a
region name, which means the national rule alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
from collections.abc import Iterator

import holidays
import pendulum
from dateutil.easter import easter

TZ = "Europe/Amsterdam"
SCHOOL_DAYS_PER_WEEK = 5


_fixed_day: dt.date | None = None


def today() -> dt.date:
    """Today in Europe/Amsterdam (or the day `as_of` fixed)."""
    return _fixed_day or pendulum.now(TZ).date()


@contextlib.contextmanager
def as_of(day: dt.date) -> Iterator[None]:
    """Let `today()` be `day` in this process: the flow tests, which take a case from its signal to its review in
    one go, run on a school day also when the real day is none (an arrangement started on a Saturday starts on
    Monday, and no review is held before its start)."""
    global _fixed_day
    previous, _fixed_day = _fixed_day, day
    try:
        yield
    finally:
        _fixed_day = previous


REGIONS = ("noord", "midden", "zuid")


@dataclasses.dataclass(frozen=True)
class SchoolCalendar:
    """A school's calendar: its holiday region and the days it closes on top of the national rule."""

    region: str
    closed: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise ValueError(f"holiday region must be one of {', '.join(REGIONS)}")


Calendar = SchoolCalendar | str


def calendar_of(calendar: Calendar) -> SchoolCalendar:
    return calendar if isinstance(calendar, SchoolCalendar) else _national(calendar)


@functools.lru_cache(maxsize=8)
def _national(region: str) -> SchoolCalendar:
    return SchoolCalendar(region)


@functools.lru_cache(maxsize=64)
def _closed_days(region: str, year: int) -> frozenset[dt.date]:
    """The region's school holidays and the national days off in a year (the national rule)."""
    subdiv = region.capitalize()
    school = holidays.country_holidays("NL", subdiv=subdiv, categories=("school",), years=year)
    public = set(holidays.country_holidays("NL", years=year))
    public.discard(easter(year) - dt.timedelta(days=2))  # Good Friday: schools need not close
    return frozenset(school) | frozenset(public)


def is_school_day(day: dt.date, calendar: Calendar) -> bool:
    cal = calendar_of(calendar)
    return day.weekday() < 5 and day not in _closed_days(cal.region, day.year) and day not in cal.closed


def closed_reason(day: dt.date, calendar: Calendar) -> str | None:
    """Why a school is closed on a day (weekend, holiday, national day off, own closing day), or None."""
    cal = calendar_of(calendar)
    if day.weekday() >= 5:
        return "weekend"
    if day in cal.closed:
        return "eigen sluitingsdag"
    if day in _closed_days(cal.region, day.year):
        public = holidays.country_holidays("NL", years=day.year)
        return "feestdag" if day in public else "schoolvakantie"
    return None


def next_school_day(day: dt.date, region: Calendar) -> dt.date:
    """`day` itself if it is a school day, otherwise the first school day after it."""
    d = pendulum.Date(day.year, day.month, day.day)
    while not is_school_day(d, region):
        d = d.add(days=1)
    return dt.date(d.year, d.month, d.day)


def previous_school_day(day: dt.date, region: Calendar) -> dt.date:
    """`day` itself if it is a school day, otherwise the last school day before it (for a legal term)."""
    d = pendulum.Date(day.year, day.month, day.day)
    while not is_school_day(d, region):
        d = d.subtract(days=1)
    return dt.date(d.year, d.month, d.day)


def add_school_days(day: dt.date, count: int, region: Calendar) -> dt.date:
    """The school day `count` school days after `day` (the day itself does not count)."""
    d = pendulum.Date(day.year, day.month, day.day)
    left = count
    while left > 0:
        d = d.add(days=1)
        if is_school_day(d, region):
            left -= 1
    return next_school_day(dt.date(d.year, d.month, d.day), region)


def add_school_weeks(day: dt.date, weeks: int, region: Calendar) -> dt.date:
    return add_school_days(day, weeks * SCHOOL_DAYS_PER_WEEK, region)


class SchoolDayIndex:
    """Counts school days between dates fast: a running count of school days over a date range.

    `between(a, b)` is the number of school days after `a` up to and including `b`
    (negative when `b` is before `a`), the measure reminders and overdue work use.
    """

    def __init__(self, region: Calendar, start: dt.date, end: dt.date) -> None:
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
