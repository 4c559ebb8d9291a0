"""School days in the holiday regions: weekends, public holidays and school holidays do not count."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.schooldays import SchoolDayIndex, add_school_days, add_school_weeks, is_school_day, next_school_day


def test_the_christmas_break_and_weekends_are_skipped_in_region_noord():
    assert add_school_days(dt.date(2026, 12, 18), 1, "noord") == dt.date(2027, 1, 4)
    assert next_school_day(dt.date(2026, 12, 25), "noord") == dt.date(2027, 1, 4)
    assert next_school_day(dt.date(2026, 11, 28), "noord") == dt.date(2026, 11, 30)  # a Saturday
    assert is_school_day(dt.date(2026, 11, 23), "noord")


def test_kings_day_is_not_a_school_day():
    assert not is_school_day(dt.date(2027, 4, 27), "zuid")


def test_six_school_weeks_from_late_november_land_after_the_christmas_break():
    assert add_school_weeks(dt.date(2026, 11, 23), 6, "noord") == dt.date(2027, 1, 18)


def test_regions_have_their_own_holidays():
    differing = [
        d
        for d in (dt.date(2027, 1, 4) + dt.timedelta(days=i) for i in range(365))
        if is_school_day(d, "noord") != is_school_day(d, "zuid")
    ]
    assert differing, "Noord and Zuid have different spring and summer breaks"


@given(
    st.dates(dt.date(2025, 1, 1), dt.date(2028, 12, 31)),
    st.integers(0, 60),
    st.sampled_from(["noord", "midden", "zuid"]),
)
def test_a_deadline_in_school_days_is_always_a_school_day_after_the_start(start, days, region):
    due = add_school_days(start, days, region)
    assert is_school_day(due, region)
    assert due >= start and (days == 0 or due > start)
    index = SchoolDayIndex(region, start, due)
    if days:
        assert index.between(start, due) == days


def test_the_index_refuses_dates_outside_its_range():
    index = SchoolDayIndex("noord", dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    with pytest.raises(ValueError):
        index.between(dt.date(2026, 1, 5), dt.date(2026, 3, 1))
