"""What follows an accepted referral and what the planned end of a plan brings: a deadline the sweep reminds on,
the worklist shows, the result names; and the next steps a result offers after a referral."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from models.reminders import NoticeKind
from models.schooldays import SchoolCalendar, add_school_days, is_school_day
from models.tables import Case
from models.tables_outbox import Notice
from models.vocabulary import ReferralStatus
from notifications.render import render
from oja import services as sv
from oja.config import Policy
from oja.services import sweep
from oja.services.status import case_status, next_steps
from oja.services.worklist import Due, worklist
from tests.integration.test_referrals_and_groups import region  # noqa: F401 - the fixture
from tests.integration.test_services import TODAY, _active_case, do

NOORD = SchoolCalendar("noord")
K = NoticeKind


def _accepted(engine, on: dt.date = TODAY) -> str:
    ref = _active_case(engine)
    do(engine, sv.refer, case_ref=ref, actor="PRF-1", today=on)
    do(engine, sv.respond_to_referral, case_ref=ref, accepted=True, actor="PRF-WT", today=on, policy=sv.DEFAULT_POLICY)
    return ref


def _notices(engine, ref: str) -> list[tuple[str, str, dt.date]]:
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        found = s.exec(select(Notice).where(Notice.case_id == case.id)).all()
    return sorted((n.kind, n.recipient_code, n.due_on) for n in found)


def test_an_accepted_referral_is_checked_with_the_district_team_after_the_policy_term(region):  # noqa: F811
    """Accepted on Monday 23 November: 10 school days on (policy) the regie holder checks with the district team
    whether the pupil can come back; reminded before, on the day, and once late past the escalation term."""
    ref = _accepted(region)
    policy = Policy(referral_check_school_days=10)
    due = add_school_days(TODAY, 10, NOORD)
    assert due == dt.date(2026, 12, 7)
    for day in (dt.date(2026, 11, 27), dt.date(2026, 11, 30), dt.date(2026, 12, 4), due, dt.date(2026, 12, 14)):
        sweep.plan_notices(region, day=day, policy=policy, render=render)
    followups = [n for n in _notices(region, ref) if n[0].startswith("opvolging")]
    assert followups == sorted(
        [
            (K.REFERRAL_CHECK_REMINDER.value, "PRF-1", due),  # 30 Nov: 5 school days before
            (K.REFERRAL_CHECK_REMINDER.value, "PRF-1", due),  # 4 Dec: 1 school day before
            (K.REFERRAL_CHECK_DUE.value, "PRF-1", due),
            (K.REFERRAL_CHECK_OVERDUE.value, "PRF-1", due),  # 5 school days late: the team leads too (none here)
        ]
    )
    with Session(region) as s:
        row = next(r for r in worklist(s, school_code="40AB", today=TODAY, policy=policy) if r.case_ref == ref)
    assert (row.due, row.due_on, row.next_step) == (Due.REFERRAL_CHECK, due, "terugkeer-uit-specialistische-zorg")


def test_a_returned_or_declined_referral_has_no_follow_up(region):  # noqa: F811
    ref = _accepted(region)
    do(region, sv.return_from_specialised, case_ref=ref, level=2, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    sweep.plan_notices(region, day=dt.date(2027, 1, 20), policy=Policy(), render=render)
    assert not [n for n in _notices(region, ref) if n[0].startswith("opvolging")]


def test_after_the_answer_the_result_offers_the_return_not_the_answer_again(region):  # noqa: F811
    ref = _active_case(region)
    do(region, sv.refer, case_ref=ref, actor="PRF-1", today=TODAY)
    with Session(region) as s:
        waiting = case_status(s, case_ref=ref, today=TODAY, policy=sv.DEFAULT_POLICY)
    assert next_steps(waiting) == ("verwijzing-beantwoorden",)
    assert waiting.referral is not None and waiting.referral.status == ReferralStatus.SENT
    assert waiting.referral.district_team == ("PRF-WT",)  # who answers: the team of the pupil's municipality
    do(
        region,
        sv.respond_to_referral,
        case_ref=ref,
        accepted=True,
        actor="PRF-WT",
        today=TODAY,
        policy=sv.DEFAULT_POLICY,
    )
    with Session(region) as s:
        accepted = case_status(s, case_ref=ref, today=TODAY, policy=sv.DEFAULT_POLICY)
    assert next_steps(accepted) == ("terugkeer-uit-specialistische-zorg",)
    assert accepted.referral is not None and accepted.referral.status == ReferralStatus.ACCEPTED
    assert accepted.row is not None and accepted.row.due is Due.REFERRAL_CHECK


def test_an_active_arrangement_offers_a_referral_outside_a_review(region):  # noqa: F811
    ref = _active_case(region)
    with Session(region) as s:
        status = case_status(s, case_ref=ref, today=TODAY, policy=sv.DEFAULT_POLICY)
    assert "verwijzen-specialistische-zorg" in next_steps(status)


def _school_days_before(day: dt.date, n: int) -> dt.date:
    d = day
    while n:
        d -= dt.timedelta(days=1)
        n -= is_school_day(d, NOORD)
    return d


@pytest.mark.parametrize("warn", [10, 3])
def test_the_regie_holder_is_warned_before_the_planned_end_and_the_worklist_says_it(region, warn):  # noqa: F811
    """The factory's plan ends 20 weeks after 23 November 2026: Monday 12 April 2027."""
    ref = _active_case(region)
    end = TODAY + dt.timedelta(weeks=20)
    policy = Policy(planned_end_warning_school_days=warn)
    first = _school_days_before(end, warn)
    days = [_school_days_before(first, 1), first, end, add_school_days(end, 1, NOORD)]
    reports = [sweep.plan_notices(region, day=day, policy=policy, render=render).by_kind for day in days]
    ends = [{k: v for k, v in r.items() if k.startswith("einde")} for r in reports]
    assert ends == [{}, {K.PLANNED_END_REMINDER: 1}, {K.PLANNED_END_DUE: 1}, {K.PLANNED_END_PASSED: 1}]
    assert {n[1] for n in _notices(region, ref) if n[0] == K.PLANNED_END_REMINDER} == {"PRF-1"}  # the regie holder
    with Session(region) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        case.next_review_on = None  # reviewed and continued: the planned end is the nearest deadline
        s.add(case)
        s.commit()
        row = next(r for r in worklist(s, school_code="40AB", today=end, policy=policy) if r.case_ref == ref)
    assert (row.due, row.due_on) == (Due.PLANNED_END, end)


def test_a_review_near_the_planned_end_names_it_among_the_recommendations_reasons(region):  # noqa: F811
    ref = _active_case(region)
    held_on = dt.date(2027, 4, 6)  # the plan ends Monday 12 April 2027: 4 school days on
    do(region, sv.record_review, case_ref=ref, held_on=held_on, actor="PRF-1", today=held_on, gas_scores={1: 0})
    with Session(region) as s:
        status = case_status(s, case_ref=ref, today=held_on, policy=sv.DEFAULT_POLICY)
    assert status.recommendation is not None
    assert any(
        r.startswith("De geplande einddatum is 2027-04-12, over 4 schooldagen") for r in status.recommendation.reasons
    )
