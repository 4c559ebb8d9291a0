"""School days in the holiday regions: weekends, public holidays and school holidays do not count."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.schooldays import (
    SchoolCalendar,
    SchoolDayIndex,
    add_school_days,
    add_school_weeks,
    closed_reason,
    is_school_day,
    next_school_day,
)


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


def test_good_friday_is_a_school_day_by_the_national_rule():
    # the holidays package lists Good Friday, but it is no recognised public holiday: schools need not close
    assert is_school_day(dt.date(2027, 3, 26), "noord")
    assert is_school_day(dt.date(2026, 4, 3), "zuid")
    assert not is_school_day(dt.date(2027, 3, 29), "noord")  # Easter Monday is
    assert closed_reason(dt.date(2027, 3, 29), "noord") == "feestdag"


@pytest.mark.parametrize(
    ("day", "closed"),
    [(dt.date(2026, 5, 5), False), (dt.date(2027, 5, 5), False), (dt.date(2025, 5, 5), True)],  # 2025: lustrum
)
def test_liberation_day_closes_schools_only_in_lustrum_years(day, closed):
    assert is_school_day(day, "midden") is not closed
    assert (closed_reason(day, "midden") == "feestdag") is closed


def test_a_school_closes_on_its_own_days_on_top_of_the_national_rule():
    study_day = dt.date(2027, 3, 26)  # this school closes on Good Friday
    own = SchoolCalendar("noord", frozenset({study_day, dt.date(2027, 2, 8)}))
    assert is_school_day(study_day, "noord") and not is_school_day(study_day, own)
    assert closed_reason(study_day, own) == "eigen sluitingsdag"
    assert next_school_day(study_day, own) == dt.date(2027, 3, 30)  # past the weekend and Easter Monday
    # counting skips the school's own days: five school days from Friday 5 Feb land a day later
    assert add_school_days(dt.date(2027, 2, 5), 5, "noord") == dt.date(2027, 2, 12)
    assert add_school_days(dt.date(2027, 2, 5), 5, own) == dt.date(2027, 2, 15)
    index = SchoolDayIndex(own, dt.date(2027, 2, 1), dt.date(2027, 2, 28))
    assert index.between(dt.date(2027, 2, 5), dt.date(2027, 2, 12)) == 4


def test_a_calendar_needs_a_known_region():
    with pytest.raises(ValueError, match="holiday region"):
        SchoolCalendar("oost")


@given(
    st.dates(dt.date(2025, 1, 1), dt.date(2028, 12, 31)),
    st.integers(0, 40),
    st.sets(st.dates(dt.date(2025, 1, 1), dt.date(2029, 6, 30)), max_size=30),
)
def test_a_deadline_never_falls_on_one_of_the_schools_own_days(start, days, closed):
    calendar = SchoolCalendar("zuid", frozenset(closed))
    due = add_school_days(start, days, calendar)
    assert due not in closed and is_school_day(due, calendar)
