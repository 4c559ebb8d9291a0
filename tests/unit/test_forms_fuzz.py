"""Arbitrary values into every flow's parameter model: a clean validation error naming a field, or a form."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prefect import Flow
from pydantic import BaseModel, ValidationError

import flows
from flows import forms

# every flow of every module in flows/ that takes a form: a new flow is fuzzed without being listed here
FLOWS = [
    obj
    for module in pkgutil.iter_modules(flows.__path__)
    for obj in vars(importlib.import_module(f"flows.{module.name}")).values()
    if isinstance(obj, Flow) and "form" in inspect.signature(obj.fn).parameters
]
FORMS = sorted(
    {
        p.annotation if isinstance(p.annotation, type) else getattr(forms, p.annotation.split(".")[-1])
        for f in FLOWS
        for p in inspect.signature(f.fn).parameters.values()
    },
    key=lambda m: m.__name__,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=2000),
    st.sampled_from(
        [
            "OJA-2026-000001",
            "LL-000001",
            "PRF-1",
            "PRV-A",
            "40AB",
            "2026-11-23",
            "2099-01-01",
            "leren",
            "oja",
            "opschalen",
            "ouder_1",
            "'; DROP TABLE pupil;--",
            "\x00\x1b[2J",
            "VV-2026-000001",
            "-1",
            "1e309",
        ]
    ),  # fmt: skip
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)  # noqa: E501


def test_every_flow_form_is_covered():
    assert len(FORMS) == 12 and forms.RegisterSignal in FORMS and forms.DecideErasure in FORMS


@pytest.mark.parametrize("model", FORMS, ids=lambda m: m.__name__)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_arbitrary_values_give_a_clean_validation_error_or_a_valid_form(model: type[BaseModel], data):
    names = list(model.model_fields)
    raw = data.draw(st.dictionaries(st.sampled_from([*names, "onbekend_veld"]), values, max_size=len(names) + 1))
    try:
        form = model.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            assert error["loc"] and error["msg"], error  # every complaint names where and what
            assert error["loc"][0] in names or error["loc"][0] == "onbekend_veld" or error["type"] == "model_type"
        return
    assert isinstance(form, model)
    form.model_dump_json()  # what Prefect stores: it serialises
