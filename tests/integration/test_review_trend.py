"""Consecutive reviews are counted on different days, a minimum apart (issue 25, item 2): two reviews 3 minutes
apart gave "2 opeenvolgende evaluaties" and a recommendation to scale down."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from models.decisions import RecommendationRule
from models.tables import Case
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy
from tests.factories import active_case
from tests.integration.test_services import TODAY, do


def _case(engine, *, started_days_ago: int = 60, cadence: int | None = None) -> str:
    ref = active_case(engine, school="40AB", coordinator="PRF-1", bsn="111222333", born=dt.date(2012, 1, 1),
                      parents=("Ouder A",), today=TODAY)  # fmt: skip
    with unit_of_work(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        case.activated_on = TODAY - dt.timedelta(days=started_days_ago)
        case.review_cadence_weeks = cadence
        s.add(case)
    return ref


def _review(engine, ref: str, on: dt.date, gas: int) -> None:
    do(engine, sv.record_review, case_ref=ref, held_on=on, actor="PRF-2", today=TODAY, gas_scores={1: gas})


def _advice(engine, ref: str, policy: Policy = sv.DEFAULT_POLICY):
    with Session(engine) as s:
        return sv.recommendation(s, case_ref=ref, policy=policy)


def test_two_reviews_on_one_day_are_one_review_for_the_trend(engine):
    ref = _case(engine)
    _review(engine, ref, TODAY, 0)
    do(engine, sv.decide, case_ref=ref, kind="voortzetten", actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    _review(engine, ref, TODAY, 0)  # three minutes later, the same scores
    advice = _advice(engine, ref)
    assert (advice.kind.value, advice.rule) == ("voortzetten", RecommendationRule.FIRST_REVIEW), advice.as_text()
    assert f"Niet meegeteld: {TODAY.isoformat()} (een latere evaluatie op dezelfde dag telt)" in advice.as_text()
    do(engine, sv.decide, case_ref=ref, kind="voortzetten", actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)


def test_the_latest_review_of_a_day_replaces_the_firsts_scores(engine):
    ref = _case(engine)
    _review(engine, ref, TODAY - dt.timedelta(days=30), 0)
    sv.execute(sv.decide, engine, case_ref=ref, kind="voortzetten", actor="PRF-1", today=TODAY,
               policy=sv.DEFAULT_POLICY)  # fmt: skip
    _review(engine, ref, TODAY, -2)
    sv.execute(
        sv.decide, engine, case_ref=ref, kind="voortzetten", actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY
    )  # fmt: skip  (partial progress: as recommended)
    _review(engine, ref, TODAY, 0)  # scored again the same day: the trend takes these scores
    advice = _advice(engine, ref)
    assert (advice.kind.value, advice.new_level, advice.rule) == ("afschalen", 1, RecommendationRule.ON_TRACK)
    assert "minstens 14 dagen uit elkaar" in advice.as_text()


def test_the_minimum_is_policy_and_at_most_half_the_cases_review_period(engine):
    ref = _case(engine, cadence=2)  # reviews every 2 school weeks: half the period is 7 days
    _review(engine, ref, TODAY - dt.timedelta(days=7), 0)
    sv.execute(sv.decide, engine, case_ref=ref, kind="voortzetten", actor="PRF-1", today=TODAY,
               policy=sv.DEFAULT_POLICY)  # fmt: skip
    _review(engine, ref, TODAY, 0)
    advice = _advice(engine, ref)
    assert advice.rule is RecommendationRule.ON_TRACK and "minstens 7 dagen uit elkaar" in advice.as_text()
    stricter = _advice(engine, ref, Policy(min_days_between_reviews=5))
    assert stricter.rule is RecommendationRule.ON_TRACK and "minstens 5 dagen uit elkaar" in stricter.as_text()
