"""Issue 25: a word on consent nobody needs says so (4); after a start still to come, no step is offered that
would be refused until then, and the result says when it can be taken (5)."""

from __future__ import annotations

import datetime as dt

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentCreate

from flows import forms
from flows import intake as f_intake
from flows import planning as f_planning
from models.schooldays import today as amsterdam_today
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from tests.flows.test_run_results import _artifacts, _run, _words

pytestmark = pytest.mark.prefect


def _planned_case(url: str, bsn: str, age: int, start_on: dt.date) -> str:
    today = amsterdam_today()
    with unit_of_work(get_engine(url)) as s:
        pupil = sv.register_pupil(
            s,
            given_name="Noor",
            family_name="Notitie",
            birth_date=dt.date(today.year - age - 1, 12, 31) if today.month < 12 else dt.date(today.year - age, 1, 1),
            bsn=bsn,
            school_code="20XY",
            municipality_code="GM0164",
            parents=[sv.ParentSpec("Ouder 1")],
            today=today,
        )
    ref = f_intake.register_signal(
        form=forms.RegisterSignal(
            pupil_ref=pupil, school_code="20XY", source="school", domains=["leren"], actor="PRF-T1"
        )
    )["case_ref"]
    f_intake.triage(form=forms.Triage(case_ref=ref, outcome="oja", level=2, actor="PRF-T1"))
    f_planning.draft_plan(
        form=forms.DraftPlan(
            case_ref=ref,
            goals=[forms.GoalForm(domain="leren")],
            interventions=[forms.InterventionForm(provider_code="PRV-A", hours_per_week=2)],
            regie_holder="PRF-T1",
            start_on=start_on,
            planned_end_on=start_on + dt.timedelta(weeks=20),
            actor="PRF-T1",
        )
    )
    return ref


def test_a_parents_consent_for_a_seventeen_year_old_is_said_not_to_count(engine_url):
    ref = _planned_case(engine_url, "100000186", 17, amsterdam_today())
    state = f_planning.record_consent(
        form=forms.RecordConsent(case_ref=ref, party="ouder_1", actor="PRF-T1"), return_state=True
    )
    assert state.is_completed(), state.message
    assert state.result()["not_needed"] == "ouder_1"
    [shown] = _artifacts(_run(state).id)
    assert "| Vastgelegd | notitie: toestemming niet nodig bij deze leeftijd |" in shown
    assert "De toestemming van **ouder 1** is bij de leeftijd van de leerling niet nodig" in shown
    assert "vanaf 16 jaar geeft de leerling alleen toestemming" in shown
    assert "als notitie vastgelegd, niet als toestemming" in shown
    assert "Toestemming nog nodig van: **leerling**" in shown
    assert "niet nodig" in state.message  # the run's own line says it too


def _deployments(*flows: str) -> dict[str, str]:
    with get_client(sync_client=True) as client:
        return {
            flow: str(
                client.create_deployment(
                    **DeploymentCreate(flow_id=client.create_flow_from_name(flow), name=flow).model_dump(
                        exclude_unset=True
                    )
                )
            )
            for flow in flows
        }


def test_a_start_still_to_come_offers_no_review_and_says_when_it_can(engine_url):
    ids = _deployments("evaluatie-vastleggen", "meting-vastleggen", "verwijzen-specialistische-zorg")
    later = amsterdam_today() + dt.timedelta(days=21)
    ref = _planned_case(engine_url, "100000198", 17, later)
    f_planning.record_consent(form=forms.RecordConsent(case_ref=ref, party="leerling", actor="PRF-T1"))
    state = f_planning.activate(form=forms.CaseAction(case_ref=ref, actor="PRF-T1"), return_state=True)
    assert state.is_completed(), state.message
    [shown] = _artifacts(_run(state).id)
    with unit_of_work(get_engine(engine_url)) as s:
        from sqlmodel import select

        from models.tables import Case

        starts = s.exec(select(Case).where(Case.ref == ref)).one().activated_on
    assert f"Het arrangement start op {_words(starts)}, niet vandaag" in shown
    assert f"**06 Evaluatie vastleggen** kan vanaf {_words(starts)}" in shown
    assert f"**07 Meting vastleggen** kan vanaf {_words(starts)}" in shown
    links = shown.split("### Volgende stap", 1)[1]
    assert ids["verwijzen-specialistische-zorg"] in links  # the one step that can succeed now
    assert ids["evaluatie-vastleggen"] not in links and ids["meting-vastleggen"] not in links
