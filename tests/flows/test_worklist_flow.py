"""The daily sweep publishes each school's worklist as a keyed artifact, `werklijst-<school>`, codes only."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    FlowFilter,
    FlowFilterName,
)
from sqlmodel import Session, select

from flows.sweep import daily_sweep
from flows.worklist import publish_all_worklists, refresh_worklists, worklist_key
from models.tables import Case, Pupil, School
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from oja.deployments import deployment_name
from tests.factories import active_case

pytestmark = pytest.mark.prefect
DAY = dt.date(2027, 3, 8)  # a Monday in school time (region noord)
NAMES, PARENT = ("Wietske", "Werklijstra"), "Ouder Werklijstra-Bos"


def _latest(key: str):
    with get_client(sync_client=True) as client:
        [artifact] = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=[key]))
        )
    return artifact


def test_the_key_takes_what_prefect_allows():
    assert worklist_key("20XY") == "werklijst-20xy"
    assert worklist_key(" 12 BK_x ") == "werklijst-12-bk-x"
    with pytest.raises(ValueError):
        worklist_key("__")


def test_the_sweep_publishes_the_worklist_of_each_school_with_open_cases(engine_url):
    engine = get_engine(engine_url)
    born = dt.date(2015, 6, 7)
    ref = active_case(
        engine,
        school="20XY",
        coordinator="PRF-T1",
        bsn="100000253",
        born=born,
        today=DAY,
        parents=(PARENT,),
        names=NAMES,
    )
    with unit_of_work(engine) as s:  # the review was due last week
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        case.next_review_on = dt.date(2027, 3, 1)
        s.add(case)
    state = daily_sweep(sweep_date=DAY, send=False, return_state=True)
    assert state.is_completed(), state.message
    assert "werklijst-20xy" in state.result()["worklists"]

    artifact = _latest("werklijst-20xy")
    assert artifact.type == "markdown" and artifact.description.startswith("Werklijst 20XY op 2027-03-08")
    assert artifact.data.startswith("# Werklijst 20XY, 2027-03-08")
    [line] = [line for line in artifact.data.splitlines() if ref in line]
    assert line.startswith(f"| {ref} | arrangement loopt | 2 | **te laat** 2027-03-01 | evaluatie | PRF-T1 | ")
    assert "evaluatie-vastleggen" not in line  # the step by its Dutch name (issue 25)
    with Session(engine) as s:
        pupil = s.exec(select(Pupil).join(Case, Case.pupil_id == Pupil.id).where(Case.ref == ref)).one()
    for secret in (*NAMES, PARENT, "100000253", pupil.ref, born.isoformat(), born.strftime("%d-%m-%Y")):
        assert secret not in artifact.data and secret not in artifact.description


def _deployment(flow_name: str) -> str:
    """The step's deployment on the test server, as `oja start` makes one per step: the only one of its flow (the
    server is shared, and another test may have deployed the flow under another name)."""
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name(flow_name)
        for other in client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name]))):
            client.delete_deployment(other.id)
        return str(client.create_deployment(flow_id=flow_id, name=deployment_name(flow_name)))


def test_the_next_step_is_named_in_dutch_and_links_to_its_form_with_the_case_filled_in(engine_url):
    """Issue 25: the worklist's `Volgende stap` named the flow; now the step's Dutch name, linked to its form."""
    engine = get_engine(engine_url)
    ref = active_case(
        engine,
        school="20XY",
        coordinator="PRF-T1",
        bsn="100000265",
        born=dt.date(2015, 2, 3),
        today=DAY,
        parents=(PARENT,),
    )
    deployment_id = _deployment("evaluatie-vastleggen")
    state = daily_sweep(sweep_date=DAY, send=False, return_state=True)
    assert state.is_completed(), state.message
    [line] = [line for line in _latest("werklijst-20xy").data.splitlines() if ref in line]
    step = line.rstrip(" |").rsplit(" | ", 1)[1]
    link = f"/deployments/deployment/{deployment_id}/run?parameters="
    assert step.startswith("[06 Evaluatie vastleggen](http") and link in step and step.endswith(")")
    query = step.split(link, 1)[1].removesuffix(")")
    assert json.loads(urllib.parse.unquote(query)) == {"form": {"case_ref": ref}}  # whoever follows it acts
    with get_client(sync_client=True) as client:
        client.delete_deployment(deployment_id)
    state = daily_sweep(sweep_date=DAY, send=False, return_state=True)  # no deployment: the name, no link
    [line] = [line for line in _latest("werklijst-20xy").data.splitlines() if ref in line]
    assert line.endswith(" | 06 Evaluatie vastleggen |")


def test_a_lifecycle_step_refreshes_its_own_school_in_one_task_run(engine_url):
    @flow
    def step() -> list[str]:  # as the flow of a lifecycle step calls it, after its change
        return refresh_worklists(["20xy"], dt.date(2027, 3, 9))

    assert step() == ["werklijst-20xy"]
    assert _latest("werklijst-20xy").data.startswith("# Werklijst 20XY, 2027-03-09")


def _school_without_cases(engine_url) -> None:
    with unit_of_work(get_engine(engine_url)) as s:
        sv.upsert_school(s, code="29LG", name="Lege School", holiday_region="noord", municipality_code="GM0164")


def test_the_sweep_publishes_every_schools_worklist_also_one_without_open_cases(engine_url):
    """Issue 23: only schools touched by a step or a sweep had a worklist on the Artifacts page."""
    _school_without_cases(engine_url)
    state = daily_sweep(sweep_date=DAY, send=False, return_state=True)
    assert state.is_completed(), state.message
    assert "werklijst-29lg" in state.result()["worklists"]
    artifact = _latest("werklijst-29lg")
    assert artifact.description == "Werklijst 29LG op 2027-03-08: 0 open casussen, 0 te laat"


def test_the_start_publishes_every_schools_worklist_in_one_flow_run(engine_url):
    _school_without_cases(engine_url)
    state = publish_all_worklists(day=DAY, return_state=True)
    assert state.is_completed(), state.message
    keys = state.result()
    with Session(get_engine(engine_url)) as s:
        schools = s.exec(select(School.code)).all()
    assert sorted(keys) == sorted(worklist_key(code) for code in schools) and "werklijst-29lg" in keys
    assert _latest("werklijst-29lg").description.startswith("Werklijst 29LG op 2027-03-08")
