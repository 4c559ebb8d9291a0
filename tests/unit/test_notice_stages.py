"""The order of notice kinds in a message, the weekly overview's stage and an open referral's stage: pure rules."""

from __future__ import annotations

import datetime as dt

import pytest

from models.reminders import (
    KIND_PRIORITY,
    UPCOMING_SCHOOL_DAYS,
    NoticeKey,
    NoticeKind,
    Stage,
    referral_open_stage,
    upcoming_stage,
)
from notifications.render import KIND_ORDER


def test_every_kind_has_one_place_in_a_message_late_first_the_coming_week_last():
    assert sorted(KIND_PRIORITY) == sorted(NoticeKind)
    assert len(set(KIND_PRIORITY)) == len(KIND_PRIORITY)
    assert KIND_PRIORITY[-1] is NoticeKind.UPCOMING
    assert KIND_PRIORITY.index(NoticeKind.REVIEW_OVERDUE) < KIND_PRIORITY.index(NoticeKind.REVIEW_DUE)
    assert KIND_PRIORITY.index(NoticeKind.REVIEW_DUE) < KIND_PRIORITY.index(NoticeKind.REVIEW_REMINDER)


def test_the_rendered_order_is_the_codes_of_the_priority():
    assert KIND_ORDER == tuple(kind.value for kind in KIND_PRIORITY)


MONDAY = dt.date(2027, 1, 4)  # ISO week 2027-01


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (-1, None),  # late: not in the overview of what is coming
        (0, Stage(NoticeKind.UPCOMING, 202701, 0)),
        (UPCOMING_SCHOOL_DAYS, Stage(NoticeKind.UPCOMING, 202701, UPCOMING_SCHOOL_DAYS)),
        (UPCOMING_SCHOOL_DAYS + 1, None),
    ],
)
def test_the_weekly_overview_shows_the_coming_school_week_once_per_week(left, expected):
    assert upcoming_stage(left, MONDAY) == expected


def test_the_weekly_overview_stage_is_the_iso_week_also_across_the_new_year():
    assert upcoming_stage(2, dt.date(2026, 12, 28)) == Stage(NoticeKind.UPCOMING, 202653, 2)
    assert upcoming_stage(2, dt.date(2027, 12, 31)) == Stage(NoticeKind.UPCOMING, 202752, 2)


def test_an_unanswered_referral_is_told_once_with_the_school_days_it_is_open():
    assert referral_open_stage(0, open_days=5) is None  # the follow-up term ends today: not yet
    assert referral_open_stage(-1, open_days=6) == Stage(NoticeKind.REFERRAL_OPEN, -1, -6)
    assert referral_open_stage(-4, open_days=9) == Stage(NoticeKind.REFERRAL_OPEN, -1, -9)  # same stage


def test_a_notice_key_sorts_by_recipient_first():
    keys = [
        NoticeKey("PRF-B", 1, NoticeKind.REVIEW_DUE.value, MONDAY, 0),
        NoticeKey("PRF-A", 2, NoticeKind.REVIEW_DUE.value, MONDAY, 0),
    ]
    assert [k.recipient_code for k in sorted(keys)] == ["PRF-A", "PRF-B"]
