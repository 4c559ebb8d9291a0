"""A scheduled run is named by what it is and the day it is for, in Amsterdam: never `monitoring None`.

The scheduler starts these flows without parameters; Prefect names the run when it starts, through the
flow's `flow_run_name`. Resolved here as Prefect resolves it, at a moment that is still the previous day
in UTC, for every deployment that prefect.yaml schedules.
"""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
import yaml
from prefect._internal.engine import resolve_custom_flow_run_name
from prefect.runtime import flow_run
from prefect.utilities.callables import get_call_parameters

from flows import run_names
from oja.config import PROJECT_DIR

# 00:30 on 25 November 2026 in Amsterdam, still the 24th in UTC
NOW = dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC)


def _scheduled_flows() -> dict[str, object]:
    spec = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text(encoding="utf-8"))
    flows = {}
    for deployment in spec["deployments"]:
        if deployment.get("schedules"):
            path, func = deployment["entrypoint"].split(":")
            flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), func)
            flows[flow.name] = flow
    return flows


@pytest.fixture
def run_at(monkeypatch):
    """Name a run at NOW, given these parameters (what prefect.runtime tells a run about itself)."""

    def name(flow, given: dict[str, object]) -> str:
        parameters = get_call_parameters(flow.fn, (), given)  # with the defaults, as the engine fills them in
        monkeypatch.setattr(flow_run, "parameters", parameters, raising=False)
        return resolve_custom_flow_run_name(flow, parameters)

    monkeypatch.setattr(run_names, "_now", lambda: NOW)
    return name


def test_every_scheduled_run_is_named_with_the_amsterdam_date(run_at):
    names = {flow_name: run_at(flow, {}) for flow_name, flow in _scheduled_flows().items()}
    assert names == {
        "bewaartermijn": "bewaartermijn 2026-11-25",
        "dagelijkse-monitoring": "monitoring 2026-11-25",
        "dagelijkse-herinneringen": "herinneringsronde 2026-11-25",
        "berichten-versturen": "berichten versturen 2026-11-25 00:30",  # every 15 minutes: the time tells them apart
    }


@pytest.mark.parametrize("given", [dt.date(2027, 1, 4), "2027-01-04"])
def test_a_run_for_another_day_is_named_after_that_day(run_at, given):
    flows = _scheduled_flows()
    assert run_at(flows["dagelijkse-herinneringen"], {"sweep_date": given}) == "herinneringsronde 2027-01-04"
    assert run_at(flows["dagelijkse-monitoring"], {"day": given}) == "monitoring 2027-01-04"


def test_an_empty_day_is_today_not_none(run_at):
    flows = _scheduled_flows()
    assert run_at(flows["dagelijkse-herinneringen"], {"sweep_date": None, "send": False}) == (
        "herinneringsronde 2026-11-25"
    )
