"""Decision support: each rule and its boundaries, and that every recommendation is a legal step."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.decisions import (
    DecisionPolicy,
    GoalSeries,
    PlannedEnd,
    RecommendationRule,
    ReviewFacts,
    four_point,
    recommend,
)
from models.lifecycle import CaseState, level_after, next_state
from models.vocabulary import DecisionKind
from oja.services import DECISION_ACTIONS

D1, D2, D3 = dt.date(2026, 10, 5), dt.date(2026, 11, 16), dt.date(2027, 1, 11)


def review(day, *scores, safety=False, delivered=True):
    return ReviewFacts(day, {i + 1: s for i, s in enumerate(scores) if s is not None}, safety, delivered)


def test_a_safety_concern_means_escalate_at_once_even_at_a_first_review():
    r = recommend(level=1, reviews=[review(D1, 2, 2, safety=True)])
    assert r.kind is DecisionKind.ESCALATE and r.rule is RecommendationRule.SAFETY and "veiligheid" in r.as_text()


def test_a_plan_not_delivered_as_agreed_is_fixed_before_anything_is_scaled():
    r = recommend(level=2, reviews=[review(D1, -2), review(D2, -2, delivered=False)])
    assert (
        r.kind is DecisionKind.CONTINUE
        and r.rule is RecommendationRule.DELIVERY
        and "uitvoering herstellen" in r.as_text()
    )


def test_a_first_review_continues():
    r = recommend(level=2, reviews=[review(D1, -2, -2)])
    assert r.kind is DecisionKind.CONTINUE and r.rule is RecommendationRule.FIRST_REVIEW and "doel 1: -2" in r.as_text()


def test_missing_scores_do_not_count_as_a_review():
    r = recommend(level=2, reviews=[review(D1, 0), review(D2)])
    assert r.kind is DecisionKind.CONTINUE and "nog geen GAS-scores" in r.as_text()


def test_a_review_without_scores_after_two_scored_ones_continues_and_asks_for_the_scores():
    r = recommend(level=1, reviews=[review(D1, 1), review(D2, 1), review(D3)])
    assert (
        r.kind is DecisionKind.CONTINUE and r.rule is RecommendationRule.NO_SCORES and "scores aanvullen" in r.as_text()
    )


def test_on_track_twice_scales_down_with_the_scores_named():
    r = recommend(level=3, reviews=[review(D1, 0, 1), review(D2, 0, 0)])
    assert (r.kind, r.new_level, r.reason_code) == (DecisionKind.SCALE_DOWN, 2, "herbeoordeling_verkorting")
    assert "doel 1: +0, doel 2: +1" in r.as_text() and "van niveau 3 naar 2" in r.as_text()


def test_on_track_twice_at_the_lowest_level_closes_to_basic_support():
    r = recommend(level=1, reviews=[review(D1, 0), review(D2, 0)])
    assert (r.kind, r.reason_code) == (DecisionKind.CLOSE, "naar_basisondersteuning")


def test_goals_met_close_as_planned_at_any_level():
    r = recommend(level=3, reviews=[review(D1, 1, 1), review(D2, 2, 1)], goal_count=2)
    assert (r.kind, r.reason_code) == (DecisionKind.CLOSE, "volgens_plan")


def test_a_goal_left_unscored_is_not_met():
    r = recommend(level=3, reviews=[review(D1, 1, 1), review(D2, 2, None)], goal_count=2)
    assert r.kind is DecisionKind.SCALE_DOWN


def test_no_progress_twice_scales_up_within_school():
    r = recommend(level=1, reviews=[review(D1, -1, -2), review(D2, -1, -1)])
    assert (r.kind, r.new_level, r.reason_code) == (DecisionKind.SCALE_UP, 2, "herbeoordeling_verlenging")


def test_no_progress_at_the_highest_school_level_escalates():
    r = recommend(level=3, reviews=[review(D1, -1), review(D2, -2)])
    assert r.kind is DecisionKind.ESCALATE and "hoogste op school" in r.as_text()


def test_no_progress_after_a_scale_up_escalates():
    r = recommend(level=2, reviews=[review(D1, -1), review(D2, -1)], scaled_up_on=D1)
    assert r.kind is DecisionKind.ESCALATE and "bracht geen vooruitgang" in r.as_text()


def test_an_older_scale_up_does_not_count_against_the_current_level():
    r = recommend(level=2, reviews=[review(D1, -1), review(D2, -1)], scaled_up_on=D1 - dt.timedelta(days=60))
    assert r.kind is DecisionKind.SCALE_UP


@pytest.mark.parametrize(("first", "second"), [((0, -1), (0, 0)), ((-1, 0), (-1, -1)), ((-1, 1), (-1, 0))])
def test_mixed_goals_continue(first, second):
    r = recommend(level=2, reviews=[review(D1, *first), review(D2, *second)])
    assert r.kind is DecisionKind.CONTINUE and r.rule is RecommendationRule.PARTIAL


def test_the_boundaries_of_on_track_and_no_progress():
    assert recommend(level=2, reviews=[review(D1, 0), review(D2, 0)]).kind is DecisionKind.SCALE_DOWN
    assert recommend(level=2, reviews=[review(D1, -1), review(D2, -1)]).kind is DecisionKind.SCALE_UP
    mean_just_above = recommend(level=2, reviews=[review(D1, -2, 0), review(D2, -1, -1)])
    assert mean_just_above.kind is DecisionKind.SCALE_UP  # mean -1 counts as little progress
    assert recommend(level=2, reviews=[review(D1, -2, 1), review(D2, -1, -1)]).kind is DecisionKind.CONTINUE


def series(values, *, baseline=0.0, target=10.0):
    start = dt.date(2026, 9, 1)
    return GoalSeries(
        1,
        baseline,
        target,
        start,
        start + dt.timedelta(days=100),
        tuple((start + dt.timedelta(days=10 * (i + 1)), v) for i, v in enumerate(values)),
    )


@pytest.mark.parametrize(
    ("values", "verdict"),
    [
        ([1, 2, 3, 4, 5], None),  # fewer than 6 points
        ([2, 3, 4, 5, 6, 7, 8, 9], "above"),  # the aim line rises 1 a point: these stay 1 above it
        ([1, 2, 1, 1, 1, 1], "below"),
        ([1, 2, 4, 3, 6, 5], "mixed"),
        ([1, 2, 3, 4, 5, 6], "mixed"),  # on the line is neither above nor below
    ],
)
def test_the_four_point_rule(values, verdict):
    assert four_point(series(values), DecisionPolicy()) == verdict


def test_measurements_below_the_aim_line_recommend_scaling_up_even_when_gas_looks_fine():
    r = recommend(level=1, reviews=[review(D1, 0), review(D2, 0)], series=[series([1, 2, 1, 1, 1, 1])])
    assert (
        r.kind is DecisionKind.SCALE_UP
        and r.rule is RecommendationRule.FOUR_POINT_BELOW
        and "onder de doellijn" in r.as_text()
    )


def test_measurements_above_the_aim_line_recommend_raising_the_goal_or_scaling_down():
    r = recommend(level=2, reviews=[review(D1, -1)], series=[series([2, 3, 4, 5, 6, 7])])
    assert r.kind is DecisionKind.SCALE_DOWN and r.rule is RecommendationRule.FOUR_POINT_ABOVE


@pytest.mark.parametrize(
    ("values", "words"),
    [([1, 2, 1, 1, 1, 1], "(doel 1: onder de doellijn)"), ([2, 3, 4, 5, 6, 7], "(doel 1: boven de doellijn)")],
)
def test_the_four_point_reason_names_each_goal_in_dutch(values, words):
    """Issue 23 (17): the reason read "(doel 1: below)", an English word in a Dutch text."""
    text = recommend(level=2, reviews=[review(D1, 0), review(D2, 0)], series=[series(values)]).as_text()
    assert words in text
    assert not re.search(r"\b(below|above|mixed)\b", text), text


scores = st.dictionaries(st.integers(1, 4), st.integers(-2, 2), max_size=4)
facts = st.builds(
    ReviewFacts, st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)), scores, st.booleans(), st.booleans()
)


@given(
    st.integers(1, 3), st.lists(facts, min_size=1, max_size=5), st.none() | st.dates(), st.none() | st.integers(1, 4)
)
def test_every_recommendation_is_a_legal_step_from_the_reviewed_state(level, reviews, scaled_up_on, goal_count):
    reviews = sorted(reviews, key=lambda r: r.held_on)
    r = recommend(level=level, reviews=reviews, scaled_up_on=scaled_up_on, goal_count=goal_count)
    action = DECISION_ACTIONS[r.kind.value]
    next_state(CaseState.REVIEWED, action)  # raises if illegal
    assert level_after(action, level, r.new_level) in range(0, 5)
    assert r.reasons and all(isinstance(x, str) and x for x in r.reasons)


@pytest.mark.parametrize(
    ("left", "said"),
    [
        (11, None),
        (10, "De geplande einddatum is 2027-04-12, over 10 schooldagen"),
        (0, "De geplande einddatum is vandaag (2027-04-12)"),
        (-3, "De geplande einddatum (2027-04-12) is 3 schooldagen voorbij"),
    ],
)
def test_a_planned_end_within_the_warning_term_is_among_the_reasons(left, said):
    end = PlannedEnd(dt.date(2027, 4, 12), left)
    rec = recommend(level=2, reviews=[review(D1, 0)], planned_end=end, policy=DecisionPolicy())
    plain = recommend(level=2, reviews=[review(D1, 0)])
    assert (rec.kind, rec.rule, rec.new_level) == (plain.kind, plain.rule, plain.new_level)  # a reason, not a rule
    extra = [r for r in rec.reasons if r not in plain.reasons]
    if said is None:
        assert extra == []
    else:
        assert (
            len(extra) == 1 and extra[0].startswith(said) and "(afsluiten of verlengen met een nieuw plan)" in extra[0]
        )


# Issue 25 (2): two reviews 3 minutes apart gave "2 opeenvolgende evaluaties" and a recommendation to scale down.
# Per day the latest review counts; reviews counted in a row are at least `min_days_between_reviews` apart.


def test_two_reviews_on_the_same_day_are_not_two_consecutive_reviews():
    r = recommend(level=2, reviews=[review(D1, 0), review(D1, 0)])
    assert (r.kind, r.rule) == (DecisionKind.CONTINUE, RecommendationRule.FIRST_REVIEW)
    assert "op verschillende dagen, minstens 14 dagen uit elkaar" in r.as_text(), r.as_text()
    assert f"Niet meegeteld: {D1.isoformat()} (een latere evaluatie op dezelfde dag telt)" in r.as_text()


def test_a_second_review_on_the_same_day_replaces_the_firsts_scores_for_the_trend():
    later = D2 + dt.timedelta(days=30)
    r = recommend(level=2, reviews=[review(D2, 0), review(later, -2), review(later, 0)])
    assert (r.kind, r.rule, r.new_level) == (DecisionKind.SCALE_DOWN, RecommendationRule.ON_TRACK, 1)
    assert (
        f"bij 2 opeenvolgende evaluaties, minstens 14 dagen uit elkaar ({D2.isoformat()}: doel 1: +0; "
        f"{later.isoformat()}: doel 1: +0)" in r.as_text()
    ), r.as_text()
    assert "-2" not in r.as_text().split("Niet meegeteld")[0]


def test_reviews_closer_than_the_minimum_do_not_count_as_consecutive():
    close = D1 + dt.timedelta(days=13)
    r = recommend(level=2, reviews=[review(D1, -2), review(close, -2)])
    assert r.rule is RecommendationRule.FIRST_REVIEW
    assert f"{D1.isoformat()} (minder dan 14 dagen voor de evaluatie van {close.isoformat()})" in r.as_text()
    apart = D1 + dt.timedelta(days=14)
    assert recommend(level=2, reviews=[review(D1, -2), review(apart, -2)]).kind is DecisionKind.SCALE_UP


def test_a_review_too_close_is_skipped_and_the_one_before_it_counts():
    close = D2 - dt.timedelta(days=3)
    r = recommend(level=2, reviews=[review(D1, 0), review(close, -2), review(D2, 0)])
    assert (r.kind, r.rule) == (DecisionKind.SCALE_DOWN, RecommendationRule.ON_TRACK)
    assert f"({D1.isoformat()}: doel 1: +0; {D2.isoformat()}: doel 1: +0)" in r.as_text()


def test_the_minimum_days_between_reviews_is_policy():
    close = D1 + dt.timedelta(days=7)
    policy = DecisionPolicy(min_days_between_reviews=7)
    r = recommend(level=2, reviews=[review(D1, 0), review(close, 0)], policy=policy)
    assert r.rule is RecommendationRule.ON_TRACK and "minstens 7 dagen uit elkaar" in r.as_text()
