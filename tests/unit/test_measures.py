"""Each way of measuring a goal has its range (issue 25, item 1): a GAS measurement of 5 was stored as 5.0."""

from __future__ import annotations

import math

import pytest

from flows import forms
from models.measures import RANGES, goal_value_rule, measurement_rule
from models.vocabulary import Measure


def test_every_measure_has_a_range():
    assert set(RANGES) == set(Measure)


@pytest.mark.parametrize(
    ("measure", "inside", "outside"),
    [
        ("gas", [-2, -1, 0, 1, 2, 2.0], [5, -3, 2.5, 0.5, -2.01]),
        ("aanwezigheid_pct", [0, 87.5, 100], [-1, 100.5, 120]),
        ("welbevinden", [1, 6.5, 10], [0, 0.9, 11]),
        ("anders", [-1000, 0, 3.25, 1000], [-1000.5, 1001]),
    ],
)
def test_a_measurement_inside_its_range_passes_and_outside_it_is_refused(measure, inside, outside):
    assert [measurement_rule(measure, 2, v) for v in inside] == [None] * len(inside)
    for value in outside:
        assert measurement_rule(measure, 2, value) is not None, value


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_not_a_number_is_refused_whatever_the_measure(value):
    assert all(measurement_rule(m.value, 1, value) for m in Measure)


def test_the_rule_names_the_goal_its_measure_and_the_range_in_dutch():
    assert measurement_rule("gas", 2, 5) == (
        "doel 2 wordt gemeten met GAS: een meting moet een geheel getal van -2 tot en met +2 zijn"
    )
    assert measurement_rule("aanwezigheid_pct", 1, 120) == (
        "doel 1 wordt gemeten met aanwezigheid (%): een meting moet van 0 tot en met 100 zijn"
    )


def test_a_goals_baseline_and_target_keep_to_the_range_of_its_measure():
    assert goal_value_rule("gas", -1) is None and goal_value_rule("aanwezigheid_pct", 80) is None
    assert goal_value_rule("gas", 5) == "bij GAS moet dit een geheel getal van -2 tot en met +2 zijn"
    assert goal_value_rule("aanwezigheid_pct", -1) == "bij aanwezigheid (%) moet dit van 0 tot en met 100 zijn"


def test_the_measurement_form_shows_every_range_and_keeps_to_the_widest():
    """The form cannot know the goal's measure before the run: its help text names each range, and its limits
    are the widest (the engine refuses what is outside the goal's own range, naming it)."""
    schema = forms.RecordMeasurement.model_json_schema()["properties"]["value"]
    assert (schema["minimum"], schema["maximum"]) == (-1000, 1000)
    for words in ("GAS: een geheel getal van -2 tot en met +2", "aanwezigheid (%): 0 tot en met 100",
                  "welbevinden: 1 tot en met 10", "anders: -1000 tot en met 1000"):  # fmt: skip
        assert words in schema["description"], schema["description"]
    goal = forms.GoalForm.model_json_schema()["properties"]
    assert "GAS: een geheel getal van -2 tot en met +2" in goal["baseline"]["description"]
