"""A measurement keeps to the range of its goal's measure (issue 25, item 1): a GAS measurement of 5 was stored
as 5.0 and fed the four-point rule. Refused in Dutch, naming the field and the range, with every other wrong
field of the form; nothing is stored."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from models.errors import InvalidInput, InvalidInputs
from models.tables import Case, Goal, Measurement, Plan
from oja import services as sv
from oja.adapters.db import unit_of_work
from tests.integration import test_bad_input as bad
from tests.integration.test_bad_input import World, plan_with
from tests.integration.test_services import TODAY, counts, do

world = bad.world  # an active case (goal 1 measured with GAS), a case in planning, a pupil


def _measure(w: World, value: float, **changes):
    base = dict(case_ref=w.active, goal_number=1, value=value, measured_on=TODAY, actor="PRF-1", today=TODAY)
    return do(w.engine, sv.record_measurement, **{**base, **changes})


def _measured_with(w: World, measure: str) -> None:
    with unit_of_work(w.engine) as s:  # the active case's goal 1 measured another way
        case = s.exec(select(Case).where(Case.ref == w.active)).one()
        goal = s.exec(select(Goal).join(Plan).where(Plan.case_id == case.id, Goal.number == 1)).one()
        goal.measure = measure
        s.add(goal)


def _stored(w: World) -> list[float]:
    with Session(w.engine) as s:
        return [m.value for m in s.exec(select(Measurement)).all()]


@pytest.mark.parametrize("value", [5, -3, 0.5])
def test_a_gas_measurement_outside_minus_two_to_plus_two_is_refused_naming_the_range(world, value):
    before = counts(world.engine)
    with pytest.raises(InvalidInput) as refused:
        _measure(world, value)
    assert (refused.value.field, refused.value.rule) == (
        "value",
        "doel 1 wordt gemeten met GAS: een meting moet een geheel getal van -2 tot en met +2 zijn",
    )
    assert counts(world.engine) == before and _stored(world) == []


def test_a_gas_measurement_within_its_range_is_stored(world):
    _measure(world, 2)
    _measure(world, -2)
    assert _stored(world) == [2.0, -2.0]


@pytest.mark.parametrize(
    ("measure", "good", "bad", "range_words"),
    [
        ("aanwezigheid_pct", 87.5, 120, "aanwezigheid (%): een meting moet van 0 tot en met 100 zijn"),
        ("welbevinden", 6.5, 0, "welbevinden: een meting moet van 1 tot en met 10 zijn"),
        ("anders", 250, 1001, "anders: een meting moet van -1000 tot en met 1000 zijn"),
    ],
)
def test_each_measure_keeps_to_its_own_range(world, measure, good, bad, range_words):
    _measured_with(world, measure)
    with pytest.raises(InvalidInput) as refused:
        _measure(world, bad)
    assert refused.value.field == "value" and refused.value.rule.endswith(range_words)
    _measure(world, good)
    assert _stored(world) == [good]


def test_a_measurement_names_every_wrong_field_at_once(world):
    before = counts(world.engine)
    with pytest.raises(InvalidInputs) as refused:
        _measure(world, 5, measured_on=TODAY + dt.timedelta(days=2))
    assert [e.field for e in refused.value.errors] == ["measured_on", "value"], str(refused.value)
    with pytest.raises(InvalidInputs) as refused:
        _measure(world, 5, goal_number=7, measured_on=TODAY + dt.timedelta(days=2))
    assert [e.field for e in refused.value.errors] == ["measured_on", "goal_number"], str(refused.value)
    assert counts(world.engine) == before


def test_a_plan_keeps_each_goals_baseline_and_target_to_its_measure(world):
    before = counts(world.engine)
    with pytest.raises(InvalidInputs) as refused:
        plan_with(
            goals=[
                sv.GoalSpec("leren", "gas", baseline=-1.5, target=0),
                sv.GoalSpec("verzuim", "aanwezigheid_pct", baseline=-1, target=120),
                sv.GoalSpec("emotioneel", "welbevinden", baseline=5, target=7.5),  # within its range
            ]
        )(world)
    assert [(e.field, e.rule) for e in refused.value.errors] == [
        ("goals[1].baseline", "bij GAS moet dit een geheel getal van -2 tot en met +2 zijn"),
        ("goals[2].baseline", "bij aanwezigheid (%) moet dit van 0 tot en met 100 zijn"),
        ("goals[2].target", "bij aanwezigheid (%) moet dit van 0 tot en met 100 zijn"),
    ]
    assert counts(world.engine) == before
