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
    monkeypatch.setattr(flow_run, "scheduled_start_time", NOW, raising=False)  # a run started at once
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


def test_a_scheduled_run_is_named_by_its_scheduled_time_not_the_minute_a_worker_picked_it_up(run_at, monkeypatch):
    """Issue 23 (17): the 18:45 run was named "18:44", the minute the worker took it (workers take runs early)."""
    scheduled = dt.datetime(2026, 11, 25, 17, 45, tzinfo=dt.UTC)  # 18:45 in Amsterdam
    monkeypatch.setattr(run_names, "_now", lambda: scheduled - dt.timedelta(seconds=40))
    monkeypatch.setattr(flow_run, "scheduled_start_time", scheduled, raising=False)
    flows = _scheduled_flows()
    assert run_at(flows["berichten-versturen"], {}) == "berichten versturen 2026-11-25 18:45"
    late_at_night = dt.datetime(2026, 11, 25, 23, 0, tzinfo=dt.UTC)  # 00:00 on the 26th, picked up at 23:59:20
    monkeypatch.setattr(run_names, "_now", lambda: late_at_night - dt.timedelta(seconds=40))
    monkeypatch.setattr(flow_run, "scheduled_start_time", late_at_night, raising=False)
    assert run_at(flows["dagelijkse-herinneringen"], {}) == "herinneringsronde 2026-11-26"
