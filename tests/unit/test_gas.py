"""Issue 26, item 7: the GAS T-score (Kiresuk and Sherman), against examples worked out by hand.

T = 50 + 10·Σwᵢxᵢ / √((1−ρ)·Σwᵢ² + ρ·(Σwᵢ)²), ρ = 0.3. The square roots below were taken by hand (checked to
four decimals: 2.1909² = 4.8000, 1.6125² = 2.6002, 2.4900² = 6.2001, 2.7568² = 7.5999)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.gas import INFORMANTS, PROFESSIONAL, RHO, shown_t, t_score


def test_three_goals_at_the_expected_level_give_50():
    # Σwx = 0 + 0 + 0 = 0: T = 50 + 0, whatever the denominator
    assert t_score({1: 0, 2: 0, 3: 0}) == 50


def test_three_goals_somewhat_better_than_expected():
    # w = 1, 1, 1; x = +1, +1, +1: Σwx = 3, Σw² = 3, (Σw)² = 9
    # denominator √(0.7·3 + 0.3·9) = √(2.1 + 2.7) = √4.8 = 2.1909
    # T = 50 + 10·3 / 2.1909 = 50 + 13.693 = 63.693
    assert t_score({1: 1, 2: 1, 3: 1}) == pytest.approx(63.693, abs=1e-3)
    assert shown_t(t_score({1: 1, 2: 1, 3: 1})) == 63.7


def test_a_single_goal_much_better_or_much_worse():
    # one goal, w = 1: denominator √(0.7·1 + 0.3·1) = √1 = 1; T = 50 ± 10·2 = 70 or 30
    assert t_score({1: 2}) == pytest.approx(70)
    assert t_score({1: -2}) == pytest.approx(30)


def test_two_goals_mixed_scores():
    # w = 1, 1; x = +2, -1: Σwx = 1, Σw² = 2, (Σw)² = 4
    # denominator √(0.7·2 + 0.3·4) = √(1.4 + 1.2) = √2.6 = 1.6125; T = 50 + 10/1.6125 = 56.202
    assert t_score({1: 2, 2: -1}) == pytest.approx(56.202, abs=1e-3)


def test_four_goals_all_much_worse():
    # w = 1 (4x); x = -2 (4x): Σwx = -8, Σw² = 4, (Σw)² = 16
    # denominator √(0.7·4 + 0.3·16) = √(2.8 + 4.8) = √7.6 = 2.7568; T = 50 - 80/2.7568 = 50 - 29.019 = 20.981
    assert t_score({1: -2, 2: -2, 3: -2, 4: -2}) == pytest.approx(20.981, abs=1e-3)


def test_weighted_goals():
    # w = 2, 1; x = +2, 0: Σwx = 4, Σw² = 4 + 1 = 5, (Σw)² = 9
    # denominator √(0.7·5 + 0.3·9) = √(3.5 + 2.7) = √6.2 = 2.4900; T = 50 + 40/2.4900 = 66.064
    assert t_score({1: 2, 2: 0}, {1: 2.0, 2: 1.0}) == pytest.approx(66.064, abs=1e-3)
    # equal weights on the same scores: Σwx = 2, denominator √2.6 = 1.6125; T = 50 + 20/1.6125 = 62.403
    assert t_score({1: 2, 2: 0}) == pytest.approx(62.403, abs=1e-3)
    # w = 2, 1; x = +1, -2: Σwx = 2 - 2 = 0: T = 50, the heavier goal's +1 outweighs the lighter one's -2
    assert t_score({1: 1, 2: -2}, {1: 2.0, 2: 1.0}) == 50


def test_only_the_scored_goals_count_and_no_scores_give_no_t():
    assert t_score({}) is None
    assert shown_t(None) is None
    # a weight for a goal not scored is not used: as test_a_single_goal_much_better_or_much_worse
    assert t_score({1: 2}, {1: 3.0, 2: 1.0}) == pytest.approx(70)


@pytest.mark.parametrize(
    ("scores", "weights", "rho"),
    [
        ({1: 3}, None, RHO),
        ({1: -3}, None, RHO),
        ({1: 1}, {1: 0.0}, RHO),
        ({1: 1, 2: 1}, {1: 1.0}, RHO),
        ({1: 1}, None, 1.0),
    ],
)
def test_scores_weights_and_rho_out_of_range_are_refused(scores, weights, rho):
    with pytest.raises(ValueError):
        t_score(scores, weights, rho)


def test_the_informants_are_the_professional_the_pupil_and_the_parents():
    assert INFORMANTS == (PROFESSIONAL, "pupil", "parents")


score = st.integers(min_value=-2, max_value=2)
scores = st.dictionaries(st.integers(min_value=1, max_value=8), score, min_size=1, max_size=8)
weight = st.floats(min_value=0.1, max_value=10, allow_nan=False)


@given(st.integers(min_value=1, max_value=8))
def test_every_goal_at_the_expected_level_gives_50(n):
    assert t_score(dict.fromkeys(range(1, n + 1), 0)) == 50


@given(scores, st.data())
def test_the_opposite_scores_mirror_around_50(goals, data):
    weights = data.draw(st.one_of(st.none(), st.fixed_dictionaries({g: weight for g in goals})))
    t, mirrored = t_score(goals, weights), t_score({g: -x for g, x in goals.items()}, weights)
    assert t is not None and mirrored is not None
    assert t - 50 == pytest.approx(50 - mirrored)


@given(scores, st.data())
def test_a_better_score_on_one_goal_never_lowers_t(goals, data):
    weights = data.draw(st.one_of(st.none(), st.fixed_dictionaries({g: weight for g in goals})))
    goal = data.draw(st.sampled_from(sorted(goals)))
    if goals[goal] == 2:
        return
    better = goals | {goal: goals[goal] + 1}
    assert t_score(better, weights) > t_score(goals, weights)  # type: ignore[operator]


@given(scores, st.floats(min_value=0.5, max_value=20))
def test_equal_weights_of_any_size_are_equal_weights(goals, size):
    assert t_score(goals, dict.fromkeys(goals, size)) == pytest.approx(t_score(goals))


@given(scores)
def test_t_stays_within_50_plus_or_minus_20_over_the_root_of_rho(goals):
    # all +2 on n goals: 50 + 20n/√(0.7n + 0.3n²), which grows towards 50 + 20/√0.3 = 86.51 with n
    t = t_score(goals)
    assert t is not None and 50 - 36.6 <= t <= 50 + 36.6
