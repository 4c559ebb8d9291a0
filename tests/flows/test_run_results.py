"""Every lifecycle run ends with a Dutch result on itself: what changed, what comes next, links; runs are tagged."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentCreate
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterTags,
)
from sqlmodel import select

from flows import forms
from flows import intake as f_intake
from flows import planning as f_planning
from flows import review as f_review
from models.schooldays import today as amsterdam_today
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work

pytestmark = pytest.mark.prefect


def _artifacts(run_id) -> list[str]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    return [a.data for a in found if a.type == "markdown" and not a.key]  # the worklists have keys


def _run(state):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id)


def _pupil(url: str, bsn: str, parents: int) -> str:
    today = amsterdam_today()
    with unit_of_work(get_engine(url)) as s:
        return sv.register_pupil(
            s,
            given_name="Sem",
            family_name="Resultaat",
            birth_date=dt.date(today.year - 9, 2, 2),
            bsn=bsn,
            school_code="20XY",
            municipality_code="GM0164",
            parents=[sv.ParentSpec(f"Ouder {i}") for i in range(1, parents + 1)],
            today=today,
        )


def _triage_deployment() -> str:
    """A deployment of the triage flow on the test server, as `oja start` makes one per step."""
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("triage")
        return str(
            client.create_deployment(
                **DeploymentCreate(flow_id=flow_id, name="02 Triage").model_dump(exclude_unset=True)
            )
        )


def test_each_step_says_what_changed_and_what_comes_next_and_tags_the_run(engine_url):
    pupil = _pupil(engine_url, "100000174", parents=2)
    deployment_id = _triage_deployment()

    state = f_intake.register_signal(
        form=forms.RegisterSignal(
            pupil_ref=pupil, school_code="20XY", source="school", domains=["leren"], actor="PRF-T1"
        ),
        return_state=True,
    )
    ref = state.result()["case_ref"]
    run = _run(state)
    assert {f"casus:{ref}", "school:20XY"} <= set(run.tags)
    [shown] = _artifacts(run.id)
    assert shown.startswith(f"## Signaal registreren: {ref}")
    # words, not codes (issue 23): the state, the action and the level as a person reads them
    assert "| Status nu | wacht op triage |" in shown and "wacht_op_triage" not in shown
    assert "| Vastgelegd | signaal registreren |" in shown and "| Niveau | 0 (basisondersteuning" in shown
    # the result is found from the run itself: its state message says what changed and where the result is
    assert state.message.startswith(f"{ref}: signaal registreren, nu wacht op triage.")
    assert "Artifacts" in state.message and "Resultaat Signaal registreren" in state.message
    assert "Triage: uiterlijk" in shown
    link = f"/deployments/deployment/{deployment_id}/run?parameters="
    assert link in shown  # opens the triage form
    query = shown.split(link, 1)[1].split(")", 1)[0]
    assert json.loads(urllib.parse.unquote(query)) == {"form": {"case_ref": ref}}  # whoever follows it acts

    f_intake.triage(form=forms.Triage(case_ref=ref, outcome="oja", level=2, actor="PRF-T1"))
    today = amsterdam_today()
    state = f_planning.draft_plan(
        form=forms.DraftPlan(
            case_ref=ref,
            goals=[forms.GoalForm(domain="leren"), forms.GoalForm(domain="gedrag", baseline=-2)],
            interventions=[forms.InterventionForm(provider_code="PRV-A", hours_per_week=2)],
            regie_holder="PRF-T1",
            start_on=today,
            planned_end_on=today + dt.timedelta(weeks=20),
            actor="PRF-T1",
        ),
        return_state=True,
    )
    [shown] = _artifacts(_run(state).id)
    assert "Toestemming nog nodig van: **ouder_1, ouder_2**" in shown
    assert "| 1 | leren | gas | -1 | 0 |" in shown and "| 2 | gedrag | gas | -2 | 0 |" in shown
    assert "Sem" not in shown and "Resultaat" not in shown and "Ouder 1" not in shown  # codes only

    state = f_planning.record_consent(
        form=forms.RecordConsent(case_ref=ref, party="ouder_1", actor="PRF-T1"), return_state=True
    )
    [shown] = _artifacts(_run(state).id)
    assert "Toestemming nog nodig van: **ouder_2**" in shown

    f_planning.record_consent(form=forms.RecordConsent(case_ref=ref, party="ouder_2", actor="PRF-T1"))
    state = f_planning.activate(form=forms.CaseAction(case_ref=ref, actor="PRF-T1"), return_state=True)
    [shown] = _artifacts(_run(state).id)
    review_on = state.result()["next_review_on"]
    assert f"Het arrangement is gestart op {_words(today)}" in shown
    assert "Volgende evaluatie: uiterlijk" in shown and f"({review_on})" in shown
    assert "Evaluatie vastleggen" in shown

    with get_client(sync_client=True) as client:  # the Runs page filters one case's history
        history = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"casus:{ref}"])))
    names = sorted(r.name for r in history if "school:20XY" in r.tags)
    assert names == sorted(
        [f"signaal {pupil}", f"triage {ref}", f"plan {ref}", f"toestemming {ref}", f"toestemming {ref}", f"start {ref}"]
    )
    with get_client(sync_client=True) as client:  # the school's worklist was refreshed by the step
        worklist = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=["werklijst-20xy"]))
        )
    assert worklist and ref in worklist[0].data and "06 Evaluatie vastleggen" in worklist[0].data


def _words(day: dt.date) -> str:
    from notifications.render import long_date

    return f"{long_date(day, 'nl')} ({day.isoformat()})"


def test_an_arrangement_planned_to_start_later_says_the_day_it_starts(engine_url):
    """Issue 23: step 05's result did not say that the arrangement starts on a later day."""
    pupil = _pupil(engine_url, "100000101", parents=1)
    ref = f_intake.register_signal(
        form=forms.RegisterSignal(
            pupil_ref=pupil, school_code="20XY", source="school", domains=["leren"], actor="PRF-T1"
        )
    )["case_ref"]
    f_intake.triage(form=forms.Triage(case_ref=ref, outcome="oja", level=2, actor="PRF-T1"))
    today = amsterdam_today()
    later = today + dt.timedelta(days=14)
    f_planning.draft_plan(
        form=forms.DraftPlan(
            case_ref=ref,
            goals=[forms.GoalForm(domain="leren")],
            interventions=[forms.InterventionForm(provider_code="PRV-A", hours_per_week=2)],
            regie_holder="PRF-T1",
            start_on=later,
            planned_end_on=later + dt.timedelta(weeks=20),
            actor="PRF-T1",
        )
    )
    f_planning.record_consent(form=forms.RecordConsent(case_ref=ref, party="ouder_1", actor="PRF-T1"))
    state = f_planning.activate(form=forms.CaseAction(case_ref=ref, actor="PRF-T1"), return_state=True)
    assert state.is_completed(), state.message
    [shown] = _artifacts(_run(state).id)
    with unit_of_work(get_engine(engine_url)) as s:
        from models.tables import Case

        starts = s.exec(select(Case).where(Case.ref == ref)).one().activated_on
    assert starts >= later
    assert f"Het arrangement start op {_words(starts)}, niet vandaag" in shown
    assert f"start op {starts.isoformat()}" in state.message


def test_a_refused_step_says_nothing_was_recorded_and_why(engine_url):
    state = f_review.take_decision(
        form=forms.TakeDecision(case_ref="OJA-2026-999999", kind="voortzetten", actor="PRF-T1"), return_state=True
    )
    assert state.is_failed() and state.message.startswith("Casusreferentie (case_ref)")  # the Dutch message alone
    run = _run(state)
    assert "casus:OJA-2026-999999" in run.tags
    [shown] = _artifacts(run.id)
    assert shown.startswith("## Besluit nemen: niet vastgelegd (OJA-2026-999999)")
    assert "Er is niets gewijzigd" in shown
    # the run's log says it once, in Dutch with the field's title: no untitled line of the task before it
    import time

    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    time.sleep(3)  # the run's log lines reach the API in a batch
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    said = [log.message for log in logs if "is niet bekend" in log.message and not log.message.startswith("Finished")]
    assert said == [f"Niet vastgelegd (Besluit nemen):\n{state.message}"], [log.message for log in logs]


def test_a_name_typed_into_a_reference_field_names_no_run_tag_or_result(engine_url):
    # the UI's check can be switched off per run: the engine's own check must not echo what was typed
    state = f_review.take_decision(
        form={"case_ref": "Pieter Typfout", "kind": "voortzetten", "actor": "PRF-T1"}, return_state=True
    )
    assert state.is_failed() and "Casusreferentie (case_ref): heeft niet de juiste vorm" in state.message
    run = _run(state)
    shown = " ".join([run.name, *run.tags, state.message, *_artifacts(run.id)])
    assert "Pieter" not in shown and "Typfout" not in shown
    assert run.name == "besluit"
