"""The stage of a deadline on a sweep day: pure rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.reminders import NoticeKind, late_stage, review_stage, triage_stage


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (9, None),
        (6, None),
        (5, (NoticeKind.REVIEW_REMINDER, 5)),
        (4, (NoticeKind.REVIEW_REMINDER, 5)),  # a missed sweep catches up with the stage reached
        (2, (NoticeKind.REVIEW_REMINDER, 5)),
        (1, (NoticeKind.REVIEW_REMINDER, 1)),
        (0, (NoticeKind.REVIEW_DUE, 0)),
        (-1, None),
        (-4, None),
        (-5, (NoticeKind.REVIEW_OVERDUE, -5)),
        (-30, (NoticeKind.REVIEW_OVERDUE, -5)),
    ],
)
def test_a_review_deadline_passes_through_reminders_the_due_day_and_escalation(left, expected):
    stage = review_stage(left, before=(5, 1), escalate_after=5)
    assert (None if stage is None else (stage.kind, stage.stage)) == expected


def test_the_review_reminder_offsets_come_from_policy():
    assert review_stage(3, before=(3,), escalate_after=2).stage == 3
    assert review_stage(4, before=(3,), escalate_after=2) is None
    assert review_stage(-2, before=(3,), escalate_after=2).kind is NoticeKind.REVIEW_OVERDUE


def test_triage_reminds_two_school_days_before_on_the_day_and_once_late():
    assert triage_stage(3) is None
    assert triage_stage(2).kind is NoticeKind.TRIAGE_REMINDER
    assert triage_stage(0).kind is NoticeKind.TRIAGE_DUE
    assert triage_stage(-1).kind is NoticeKind.TRIAGE_OVERDUE
    assert triage_stage(-7).stage == triage_stage(-1).stage  # one overdue notice, not one a day


def test_a_late_plan_or_consent_is_noticed_once_the_deadline_has_passed():
    assert late_stage(0, NoticeKind.PLAN_LATE) is None
    assert late_stage(-1, NoticeKind.PLAN_LATE).kind is NoticeKind.PLAN_LATE
    assert late_stage(-9, NoticeKind.CONSENT_LATE).stage == -1


@given(st.integers(-400, 400), st.lists(st.integers(1, 30), min_size=1, max_size=4), st.integers(1, 20))
def test_every_review_stage_is_keyed_so_that_each_goes_out_once(left, before, escalate_after):
    before = tuple(sorted(set(before), reverse=True))
    stage = review_stage(left, before=before, escalate_after=escalate_after)
    if stage is None:
        return
    assert stage.school_days == left
    if stage.kind is NoticeKind.REVIEW_REMINDER:
        assert stage.stage in before and stage.stage >= left > 0
    elif stage.kind is NoticeKind.REVIEW_DUE:
        assert left == 0
    else:
        assert stage.stage == -escalate_after and -left >= escalate_after


def test_every_kind_of_notice_says_in_which_case_states_it_still_holds():
    """Issue 23, item 12: the dispatch checks each message against this just before sending it."""
    from models.lifecycle import CaseState
    from models.reminders import HOLDS_IN, NoticeKind, still_holds

    assert set(HOLDS_IN) == set(NoticeKind)
    assert still_holds(NoticeKind.REFERRAL_SENT, CaseState.ESCALATED, request_open=False)
    assert not still_holds(NoticeKind.REFERRAL_SENT, CaseState.PLANNING, request_open=False)
    assert not still_holds(NoticeKind.REVIEW_DUE, CaseState.CLOSED, request_open=False)
    assert not still_holds(NoticeKind.UPCOMING, CaseState.CLOSED, request_open=False)
    assert still_holds(NoticeKind.ERASURE_DUE, None, request_open=True)  # a pupil without a case
    assert not still_holds(NoticeKind.ERASURE_DUE, CaseState.CLOSED, request_open=False)
    assert not still_holds("onbekend", CaseState.ACTIVE, request_open=True)


def test_an_accepted_referral_is_checked_like_a_review_and_escalates_once_late():
    from models.reminders import referral_check_stage

    kinds = {n: referral_check_stage(n, before=(5, 1), escalate_after=5) for n in (6, 5, 1, 0, -4, -5)}
    assert {n: (s.kind, s.stage) if s else None for n, s in kinds.items()} == {
        6: None,
        5: (NoticeKind.REFERRAL_CHECK_REMINDER, 5),
        1: (NoticeKind.REFERRAL_CHECK_REMINDER, 1),
        0: (NoticeKind.REFERRAL_CHECK_DUE, 0),
        -4: None,
        -5: (NoticeKind.REFERRAL_CHECK_OVERDUE, -5),
    }


def test_the_planned_end_warns_on_the_policy_day_on_the_day_and_once_past():
    from models.reminders import planned_end_stage

    stages = {n: planned_end_stage(n, before=10) for n in (11, 10, 3, 0, -1, -20)}
    assert {n: (s.kind, s.stage) if s else None for n, s in stages.items()} == {
        11: None,
        10: (NoticeKind.PLANNED_END_REMINDER, 10),
        3: (NoticeKind.PLANNED_END_REMINDER, 10),
        0: (NoticeKind.PLANNED_END_DUE, 0),
        -1: (NoticeKind.PLANNED_END_PASSED, -1),
        -20: (NoticeKind.PLANNED_END_PASSED, -1),
    }
