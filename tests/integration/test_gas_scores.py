"""Issue 26, item 7: the GAS T-score in the managers' outcome table and the evaluation report, on SQLite and
PostgreSQL. An average T-score is a statistic about its pupils: shown only over 6 or more distinct pupils, beside
a count that is shown.

Every plan here has one goal (tests/factories.py active_case), so a review's T is 50 + 10·x (one goal: the
denominator is √(0.7 + 0.3) = 1): +2 -> 70, +1 -> 60, 0 -> 50, -1 -> 40."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select

from models.suppression import HIDDEN
from models.tables import Case, Goal, Review
from models.tables_family_opinion import FamilyOpinion, FamilyOpinionScore
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services import monitoring
from oja.services.report import Period, figures, t_shown
from tests.integration.test_region_small_numbers import POLICY, _published, _pupils, _report_totals, _tables
from tests.integration.test_services import TODAY, do

AVERAGE = "GAS T-score professional (gemiddeld per evaluatie)"
COUNT = "GAS T-score professional: aantal evaluaties"
REPORT_AVERAGE = "GAS T-score professional"
REPORT_COUNT = "GAS-evaluaties professional"


def _score(engine, ref: str, gas: int, day: dt.date = TODAY) -> None:
    do(engine, sv.record_review, case_ref=ref, held_on=day, actor="PRF-1", today=day, gas_scores={1: gas})


def _six_scored(engine, day: dt.date = TODAY) -> list[str]:
    # T = 70, 70, 60, 50, 40, 50: their mean is 340 / 6 = 56.67, shown 56.7
    refs = _pupils(engine, 6, satisfaction=None)
    for ref, gas in zip(refs, [2, 2, 1, 0, -1, 0], strict=True):
        _score(engine, ref, gas, day)
    return refs


def test_the_outcome_table_shows_the_average_t_score_of_six_pupils_beside_its_count(engine):
    _six_scored(engine)
    tables = _tables(engine)
    assert tables.refused == []
    outcomes = dict(tables[monitoring.OUTCOMES].rows)
    assert outcomes[AVERAGE] == 56.7
    assert outcomes[COUNT] == 6


def test_one_pupils_t_score_is_not_published_nor_its_count(engine):
    (ref,) = _pupils(engine, 1, satisfaction=None)
    _score(engine, ref, 2)  # T = 70: that family's own outcome
    tables = _tables(engine)
    outcomes = dict(_published(tables[monitoring.OUTCOMES]))
    assert outcomes[AVERAGE] == HIDDEN and outcomes[COUNT] == HIDDEN  # not 70.0, not 1
    published = [v for t in tables.publishable for row in _published(t) for v in row[1:]]
    assert "70.0" not in published and "70" not in published


def test_six_reviews_of_three_pupils_show_their_count_but_not_their_average(engine):
    refs = _pupils(engine, 3, satisfaction=None)
    for ref in refs:  # two reviews each: the first decided on (continue), then the next
        _score(engine, ref, 2)
        # the first review's advice is to continue: followed, so without a reason to differ
        do(engine, sv.decide, case_ref=ref, kind="voortzetten", actor="PRF-1", today=TODAY, policy=POLICY)
        _score(engine, ref, 1)
    outcomes = dict(_tables(engine)[monitoring.OUTCOMES].rows)
    assert outcomes[COUNT] == 6  # six reviews: a count of reviews, shown
    assert outcomes[AVERAGE] is None  # (70 + 60) / 2 = 65.0, but over three pupils: hidden


def test_reviews_without_gas_scores_do_not_count_and_the_average_does_not_apply(engine):
    _pupils(engine, 6, satisfaction=8)  # reviewed, no goal scored
    outcomes = dict(_tables(engine)[monitoring.OUTCOMES].rows)
    assert outcomes[COUNT] == 0 and outcomes[AVERAGE] == "–"


def test_the_report_shows_the_average_t_score_over_six_pupils_and_hides_it_over_one(engine):
    later = TODAY + dt.timedelta(days=7)
    (first,) = _pupils(engine, 1, satisfaction=None)
    _score(engine, first, 2, later)
    totals = _report_totals(engine, later)
    assert totals[REPORT_COUNT] == HIDDEN  # not 1
    assert totals[REPORT_AVERAGE] == f"{HIDDEN} (1 tot 5 leerlingen)"  # not 70.0
    refs = _pupils(engine, 5, satisfaction=None, first=1)
    for ref, gas in zip(refs, [2, 1, 0, -1, 0], strict=True):
        _score(engine, ref, gas, later)
    # T = 70 (the first), 70, 60, 50, 40, 50: 340 / 6 = 56.67
    totals = _report_totals(engine, later)
    assert totals[REPORT_COUNT] == "6" and totals[REPORT_AVERAGE] == "56.7"


def test_the_reports_t_score_counts_only_the_reviews_held_in_its_period(engine):
    _six_scored(engine)  # held on TODAY
    with unit_of_work(engine) as s:
        before = figures(
            s, Period(TODAY - dt.timedelta(days=30), TODAY - dt.timedelta(days=1)), rate=100.0, today=TODAY
        )
        after = figures(s, Period(TODAY, TODAY), rate=100.0, today=TODAY)
    assert before.gas_reviews == {"professional": 0, "pupil": 0, "parents": 0}
    assert t_shown(before, "professional") == "–"
    assert after.gas_reviews == {"professional": 6, "pupil": 0, "parents": 0}
    assert after.gas_t == {"professional": 56.7, "pupil": None, "parents": None}


def _family_scored(engine, ref: str, party: str, gas: int | None) -> None:
    """`party`'s own score of the plan's one goal for the case's latest review (as if given before it)."""
    with unit_of_work(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        review = s.exec(select(Review).where(Review.case_id == case.id).order_by(col(Review.id).desc())).first()
        goal = s.exec(select(Goal).where(Goal.plan_id == review.plan_id)).one()
        opinion = s.exec(
            select(FamilyOpinion).where(FamilyOpinion.review_id == review.id, FamilyOpinion.party == party)
        ).first() or FamilyOpinion(
            case_id=case.id, plan_id=review.plan_id, party=party, due_on=review.held_on, review_id=review.id
        )
        s.add(opinion)
        s.flush()
        s.add(FamilyOpinionScore(opinion_id=opinion.id, goal_id=goal.id, gas=gas))


def test_the_pupils_and_the_parents_t_apart_from_the_professionals_with_the_same_small_number_rule(engine):
    refs = _six_scored(engine)  # the professional: 56.7 (above)
    # the pupils: -1, -1, 0, 0, +1, -2 -> T 40, 40, 50, 50, 60, 30: 270 / 6 = 45.0 over six pupils, shown
    for ref, gas in zip(refs, [-1, -1, 0, 0, 1, -2], strict=True):
        _family_scored(engine, ref, "leerling", gas)
    # the parents of three pupils: +2; +1 and -1 (the review's parents' T: (60 + 40) / 2 = 50); "weet ik niet" and 0
    _family_scored(engine, refs[0], "ouder_1", 2)
    _family_scored(engine, refs[1], "ouder_1", 1)
    _family_scored(engine, refs[1], "ouder_2", -1)
    _family_scored(engine, refs[2], "ouder_1", None)
    _family_scored(engine, refs[2], "ouder_2", 0)
    tables = _tables(engine)
    assert tables.refused == []
    outcomes = dict(_published(tables[monitoring.OUTCOMES]))
    assert outcomes["GAS T-score professional (gemiddeld per evaluatie)"] == "56.7"
    assert outcomes["GAS T-score leerling (gemiddeld per evaluatie)"] == "45.0"
    assert outcomes["GAS T-score leerling: aantal evaluaties"] == "6"
    # (70 + 50 + 50) / 3 = 56.7, but over three pupils: hidden, and so is its count of 3
    assert outcomes["GAS T-score ouders (gemiddeld per evaluatie)"] == HIDDEN
    assert outcomes["GAS T-score ouders: aantal evaluaties"] == HIDDEN
    with unit_of_work(engine) as s:
        found = figures(s, Period(TODAY, TODAY), rate=100.0, today=TODAY)
    assert found.gas_t["pupil"] == 45.0 and found.gas_reviews["pupil"] == 6
    assert t_shown(found, "parents") is None and found.gas_reviews["parents"] is None
