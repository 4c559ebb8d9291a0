"""Step 07 Meting: a measurement outside its goal's range ends the run Failed in Dutch, nothing stored (issue 25, 1)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from flows import forms
from flows import review as f_review
from models.schooldays import today as amsterdam_today
from models.tables import Measurement
from oja.adapters.db import get_engine
from tests.factories import active_case

pytestmark = pytest.mark.prefect


def _measurements(url: str) -> int:
    with Session(get_engine(url)) as s:
        return len(s.exec(select(Measurement)).all())


def test_a_gas_measurement_of_five_is_refused_naming_the_field_and_the_range(engine_url):
    today = amsterdam_today()
    ref = active_case(
        get_engine(engine_url), school="20XY", coordinator="PRF-T1", bsn="100000216", born=dt.date(2010, 2, 2),
        today=today,
    )  # fmt: skip
    before = _measurements(engine_url)
    state = f_review.record_measurement(
        form=forms.RecordMeasurement(case_ref=ref, goal_number=1, value=5, actor="PRF-T1"), return_state=True
    )
    assert state.is_failed()
    assert state.message == (
        "Waarde (value): doel 1 wordt gemeten met GAS: een meting moet een geheel getal van -2 tot en met +2 zijn"
    )
    assert _measurements(engine_url) == before

    state = f_review.record_measurement(
        form=forms.RecordMeasurement(
            case_ref=ref, goal_number=1, value=5, measured_on=today + dt.timedelta(days=3), actor="PRF-T1"
        ),
        return_state=True,
    )
    assert state.is_failed()
    assert "Gemeten op (measured_on):" in state.message and "Waarde (value): doel 1" in state.message, state.message
    assert _measurements(engine_url) == before

    state = f_review.record_measurement(
        form=forms.RecordMeasurement(case_ref=ref, goal_number=1, value=2, actor="PRF-T1"), return_state=True
    )
    assert state.is_completed(), state.message
    assert _measurements(engine_url) == before + 1


def test_the_published_form_names_the_range_of_every_measure():
    """What `prefect deploy` stores as the deployment's form (its parameter schema): the UI shows the help text."""
    schema = f_review.record_measurement.parameters.model_dump_for_openapi()
    value = schema["definitions"]["RecordMeasurement"]["properties"]["value"]
    assert (value["minimum"], value["maximum"]) == (-1000, 1000)
    assert "GAS: een geheel getal van -2 tot en met +2" in value["description"]
