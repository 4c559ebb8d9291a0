"""Cases driven through real flow runs on a Prefect test server, checked in the database after each step.

The tests in this module run in order: the last one scans everything Prefect
stored after the others ran for the pupils' names, BSNs and birth dates.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogHandler
from prefect.settings import PREFECT_API_URL
from sqlmodel import Session, select

from flows import forms
from flows import intake as f_intake
from flows import planning as f_planning
from flows import referral as f_referral
from flows import retention as fr
from flows import review as f_review
from models.lifecycle import Action, AuditAction, CaseState
from models.schooldays import is_school_day
from models.schooldays import today as amsterdam_today
from models.tables import AuditRecord, Case, ConsentRecord, Decision, Plan, Referral, Review, Signal
from models.vocabulary import ReferralStatus
from models.words import action_word, state_word
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work

pytestmark = pytest.mark.prefect

SEEN_CASE_REFS: list[str] = []


def _case(url: str, ref: str) -> Case:
    with Session(get_engine(url)) as s:
        return s.exec(select(Case).where(Case.ref == ref)).one()


def _audit(url: str, ref: str) -> list[AuditRecord]:
    with Session(get_engine(url)) as s:
        return list(s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref).order_by(AuditRecord.id)).all())


def _count(url: str, model, case_id: int) -> int:
    with Session(get_engine(url)) as s:
        return len(s.exec(select(model).where(model.case_id == case_id)).all())


class Step:
    """Runs one flow and checks the state, level and the audit record it must have written."""

    def __init__(self, url: str, ref: str | None = None):
        self.url = url
        self.ref = ref

    def __call__(
        self, flow, form, *, state: CaseState, level: int | None = None, audit: list[tuple[AuditAction, CaseState]]
    ):
        before = len(_audit(self.url, self.ref)) if self.ref else 0
        result = flow(form=form)
        self.ref = self.ref or result["case_ref"]
        assert result["case_ref"] == self.ref
        assert result["state"] == state
        case = _case(self.url, self.ref)
        assert case.state == state
        if level is not None:
            assert case.level == level
        written = _audit(self.url, self.ref)[before:]
        assert [(r.action, r.to_state) for r in written] == audit
        assert all(r.actor.startswith("PRF-") and r.at is not None for r in written)
        return case


def test_a_case_goes_from_signal_to_closure(engine_url, pupils):
    teen = pupils["teen"]  # 14: the pupil and both parents consent
    today = amsterdam_today()
    step = Step(engine_url)
    signal = dict(pupil_ref=teen["ref"], school_code="20XY", source="school", domains=["gedrag"], actor="PRF-T1")

    case = step(
        f_intake.register_signal,
        forms.RegisterSignal(**signal),
        state=CaseState.AWAITING_TRIAGE,
        audit=[(AuditAction.REGISTER_SIGNAL, CaseState.AWAITING_TRIAGE)],
    )
    SEEN_CASE_REFS.append(step.ref)
    assert case.triage_due_on > today and is_school_day(case.triage_due_on, "noord")

    # a second signal joins the open case: no double intake
    joined = f_intake.register_signal(form=forms.RegisterSignal(**{**signal, "source": "ouder", "domains": ["leren"]}))
    assert joined["case_ref"] == step.ref and joined["joined"] is True
    assert _count(engine_url, Signal, case.id) == 2

    step(
        f_intake.triage,
        forms.Triage(case_ref=step.ref, outcome="oja", level=2, actor="PRF-T1"),
        state=CaseState.PLANNING,
        level=2,
        audit=[(AuditAction.TRIAGE_OJA, CaseState.PLANNING)],
    )
    plan = forms.DraftPlan(
        case_ref=step.ref,
        goals=[forms.GoalForm(domain="gedrag"), forms.GoalForm(domain="leren", baseline=-2, target=0)],
        interventions=[forms.InterventionForm(provider_code="PRV-A", professional_code="PRF-T2", hours_per_week=3)],
        regie_holder="PRF-T1",
        start_on=today,
        planned_end_on=today + dt.timedelta(weeks=26),
        actor="PRF-T1",
    )
    step(
        f_planning.draft_plan,
        plan,
        state=CaseState.PLAN_DRAFTED,
        audit=[(AuditAction.DRAFT_PLAN, CaseState.PLAN_DRAFTED)],
    )

    for party in ("ouder_1", "leerling"):
        step(
            f_planning.record_consent,
            forms.RecordConsent(case_ref=step.ref, party=party, actor="PRF-T1"),
            state=CaseState.PLAN_DRAFTED,
            audit=[(AuditAction.RECORD_CONSENT, CaseState.PLAN_DRAFTED)],
        )
    step(
        f_planning.record_consent,
        forms.RecordConsent(case_ref=step.ref, party="ouder_2", actor="PRF-T1"),
        state=CaseState.CONSENTED,
        audit=[(AuditAction.CONSENT_COMPLETE, CaseState.CONSENTED)],  # the last consent: one record
    )
    assert _count(engine_url, ConsentRecord, case.id) == 3

    case = step(
        f_planning.activate,
        forms.CaseAction(case_ref=step.ref, actor="PRF-T1"),
        state=CaseState.ACTIVE,
        audit=[(AuditAction.ACTIVATE, CaseState.ACTIVE)],
    )
    assert case.next_review_on > today and is_school_day(case.next_review_on, "noord")

    review = forms.RecordReview(
        case_ref=step.ref,
        gas_scores=[forms.GoalScoreForm(goal_number=1, gas=-1)],
        attendance_pct=80,
        wellbeing=5,
        actor="PRF-T2",
    )
    step(
        f_review.record_review,
        review,
        state=CaseState.REVIEWED,
        audit=[(AuditAction.RECORD_REVIEW, CaseState.REVIEWED)],
    )
    step(
        f_review.take_decision,
        forms.TakeDecision(
            case_ref=step.ref, kind="opschalen", new_level=3, override_reason="professioneel_oordeel", actor="PRF-T1"
        ),
        state=CaseState.ACTIVE,
        level=3,
        audit=[(AuditAction.SCALE_UP, CaseState.ACTIVE)],
    )
    step(
        f_review.record_review,
        review,
        state=CaseState.REVIEWED,
        audit=[(AuditAction.RECORD_REVIEW, CaseState.REVIEWED)],
    )
    step(
        f_review.take_decision,
        forms.TakeDecision(
            case_ref=step.ref, kind="afschalen", new_level=1, override_reason="nieuwe_informatie", actor="PRF-T1"
        ),
        state=CaseState.ACTIVE,
        level=1,
        audit=[(AuditAction.SCALE_DOWN, CaseState.ACTIVE)],
    )
    step(
        f_review.record_review,
        review,
        state=CaseState.REVIEWED,
        audit=[(AuditAction.RECORD_REVIEW, CaseState.REVIEWED)],
    )
    case = step(
        f_review.take_decision,
        forms.TakeDecision(
            case_ref=step.ref,
            kind="afsluiten",
            end_reason="volgens_plan",
            override_reason="wens_leerling_ouders",
            actor="PRF-T1",
        ),
        state=CaseState.CLOSED,
        audit=[(AuditAction.CLOSE, CaseState.CLOSED)],
    )
    assert case.end_reason == "volgens_plan" and case.closed_on == today
    assert _count(engine_url, Review, case.id) == 3
    with Session(get_engine(engine_url)) as s:
        kinds = [d.kind for d in s.exec(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id))]
    assert kinds == ["opschalen", "afschalen", "afsluiten"]

    trail = _audit(engine_url, step.ref)
    assert [r.from_state for r in trail[1:]] == [r.to_state for r in trail[:-1]]  # an unbroken chain


def test_a_case_escalates_to_specialised_care_and_returns(engine_url, pupils):
    child = pupils["child"]  # 10: both parents consent, the pupil does not have to
    today = amsterdam_today()
    step = Step(engine_url)
    step(
        f_intake.register_signal,
        forms.RegisterSignal(
            pupil_ref=child["ref"],
            school_code="20XY",
            source="ouder",
            domains=["emotioneel", "thuissituatie"],
            urgency="hoog",
            actor="PRF-T1",
        ),
        state=CaseState.AWAITING_TRIAGE,
        audit=[(AuditAction.REGISTER_SIGNAL, CaseState.AWAITING_TRIAGE)],
    )
    SEEN_CASE_REFS.append(step.ref)
    step(
        f_intake.triage,
        forms.Triage(case_ref=step.ref, outcome="oja", level=1, actor="PRF-T1"),
        state=CaseState.PLANNING,
        level=1,
        audit=[(AuditAction.TRIAGE_OJA, CaseState.PLANNING)],
    )
    step(
        f_planning.draft_plan,
        forms.DraftPlan(
            case_ref=step.ref,
            goals=[forms.GoalForm(domain="emotioneel")],
            interventions=[
                forms.InterventionForm(provider_code="PRV-A", hours_per_week=1.5, setting="groep", swv_share_pct=30)
            ],
            regie_holder="PRF-T1",
            start_on=today,
            planned_end_on=today + dt.timedelta(weeks=12),
            review_cadence_weeks=4,
            actor="PRF-T1",
        ),
        state=CaseState.PLAN_DRAFTED,
        audit=[(AuditAction.DRAFT_PLAN, CaseState.PLAN_DRAFTED)],
    )
    step(
        f_planning.record_consent,
        forms.RecordConsent(case_ref=step.ref, party="ouder_1", actor="PRF-T1"),
        state=CaseState.PLAN_DRAFTED,
        audit=[(AuditAction.RECORD_CONSENT, CaseState.PLAN_DRAFTED)],
    )
    step(
        f_planning.record_consent,
        forms.RecordConsent(case_ref=step.ref, party="ouder_2", actor="PRF-T1"),
        state=CaseState.CONSENTED,
        audit=[(AuditAction.CONSENT_COMPLETE, CaseState.CONSENTED)],  # the last consent: one record
    )
    step(
        f_planning.activate,
        forms.CaseAction(case_ref=step.ref, actor="PRF-T1"),
        state=CaseState.ACTIVE,
        audit=[(AuditAction.ACTIVATE, CaseState.ACTIVE)],
    )
    step(
        f_review.record_review,
        forms.RecordReview(
            case_ref=step.ref,
            gas_scores=[forms.GoalScoreForm(goal_number=1, gas=-2)],
            safety_concern=True,
            pupil_view="negatief",
            actor="PRF-T2",
        ),
        state=CaseState.REVIEWED,
        audit=[(AuditAction.RECORD_REVIEW, CaseState.REVIEWED)],
    )
    case = step(
        f_review.take_decision,
        forms.TakeDecision(case_ref=step.ref, kind="specialistische_zorg", actor="PRF-T1"),
        state=CaseState.ESCALATED,
        level=4,
        audit=[(AuditAction.ESCALATE, CaseState.ESCALATED)],
    )
    with Session(get_engine(engine_url)) as s:
        referral = s.exec(select(Referral).where(Referral.case_id == case.id)).one()
    assert referral.municipality_code == "GM0147" and referral.status == ReferralStatus.SENT  # the pupil's municipality
    assert case.next_review_on is None

    case = step(
        f_referral.return_from_specialised,
        forms.ReturnFromSpecialised(case_ref=step.ref, level=2, actor="PRF-T3"),
        state=CaseState.PLANNING,
        level=2,
        audit=[(AuditAction.RETURN, CaseState.PLANNING)],
    )
    with Session(get_engine(engine_url)) as s:
        referral = s.exec(select(Referral).where(Referral.case_id == case.id)).one()
    assert referral.status == ReferralStatus.RETURNED and referral.returned_on == today

    # back in school: a new plan version; consent for the first version does not carry over
    step(
        f_planning.draft_plan,
        forms.DraftPlan(
            case_ref=step.ref,
            goals=[forms.GoalForm(domain="emotioneel")],
            interventions=[forms.InterventionForm(provider_code="PRV-A", hours_per_week=2)],
            regie_holder="PRF-T1",
            start_on=today,
            planned_end_on=today + dt.timedelta(weeks=12),
            actor="PRF-T1",
        ),
        state=CaseState.PLAN_DRAFTED,
        audit=[(AuditAction.DRAFT_PLAN, CaseState.PLAN_DRAFTED)],
    )
    assert _count(engine_url, Plan, case.id) == 2
    refused = f_planning.activate(form=forms.CaseAction(case_ref=step.ref, actor="PRF-T1"), return_state=True)
    assert refused.is_failed() and "toestemming van ouder_1, ouder_2 ontbreekt" in refused.message

    step(
        f_review.take_decision,
        forms.TakeDecision(case_ref=step.ref, kind="afsluiten", end_reason="voortijdig_door_client", actor="PRF-T1"),
        state=CaseState.CLOSED,
        audit=[(AuditAction.CLOSE, CaseState.CLOSED)],
    )
    step(
        f_intake.reopen,
        forms.CaseAction(case_ref=step.ref, actor="PRF-T1"),
        state=CaseState.AWAITING_TRIAGE,
        level=0,
        audit=[(AuditAction.REOPEN, CaseState.AWAITING_TRIAGE)],
    )


def test_an_illegal_step_fails_the_run_with_the_allowed_ones_and_writes_nothing(engine_url, pupils):
    ref = SEEN_CASE_REFS[1]  # awaiting triage again after the reopen above
    before = _audit(engine_url, ref)
    state = f_planning.activate(form=forms.CaseAction(case_ref=ref, actor="PRF-T1"), return_state=True)
    assert state.is_failed()
    assert f"stap '{action_word(Action.ACTIVATE)}' kan niet in status '{state_word(CaseState.AWAITING_TRIAGE)}'" in (
        state.message
    )
    assert action_word(Action.TRIAGE_OJA) in state.message
    assert _audit(engine_url, ref) == before
    assert _case(engine_url, ref).state == CaseState.AWAITING_TRIAGE


def test_an_unknown_code_in_a_form_fails_naming_the_field(engine_url, pupils):
    state = f_intake.register_signal(
        form=forms.RegisterSignal(
            pupil_ref=pupils["teen"]["ref"], school_code="99ZZ", source="school", domains=["leren"], actor="PRF-T1"
        ),
        return_state=True,
    )
    assert state.is_failed() and "school_code" in state.message and "99ZZ" in state.message


def test_a_wrong_form_ends_the_run_with_every_error_in_dutch_and_nothing_written(prefect_server):
    state = f_planning.draft_plan(
        form={
            "case_ref": "12345",
            "goals": [{"domain": "gedrag", "baseline": 5}],
            "interventions": [{"provider_code": "PRV-A", "hours_per_week": 2}],
            "regie_holder": "PRF-T1",
            "start_on": "2026-12-01",
            "planned_end_on": "2026-11-01",
            "actor": "PRF-T1",
        },
        return_state=True,
    )
    assert state.is_failed()
    assert "Casusreferentie (case_ref): heeft niet de juiste vorm (bijvoorbeeld OJA-2026-000123)" in state.message
    assert "Geplande einddatum (planned_end_on): moet na de startdatum liggen" in state.message
    assert "Traceback" not in state.message and "pattern" not in state.message


def test_run_results_are_kept_as_json_and_read_back_by_another_process(engine_url, tmp_path):
    today = amsterdam_today()
    birth = dt.date(today.year - 9, 6, 2)
    with unit_of_work(get_engine(engine_url)) as s:
        pupil = sv.register_pupil(
            s, given_name="Roos", family_name="Terhorst-Bolhuis", birth_date=birth, bsn="100000162",
            school_code="20XY", municipality_code="GM0147", parents=[sv.ParentSpec("Gerda Terhorst")], today=today,
        )  # fmt: skip
    signal = dict(pupil_ref=pupil, school_code="20XY", source="ouder", domains=["thuissituatie"], actor="PRF-T1")
    states = [
        f_intake.register_signal(form=forms.RegisterSignal(**signal), return_state=True),
        f_intake.register_signal(form=forms.RegisterSignal(**signal), return_state=True),  # joins the open case
        fr.request_erasure(
            form=forms.RequestErasure(pupil_ref=pupil, requested_by="ouder_1", actor="PRF-T1"), return_state=True
        ),
    ]
    ids = [str(state.state_details.flow_run_id) for state in states]
    with get_client(sync_client=True) as client:  # a fresh client reads what the API holds
        runs = [client.read_flow_run(run_id) for run_id in ids]
        opened, joined, request = [run.state.result() for run in runs]
    assert opened["case_ref"].startswith("OJA-") and opened["joined"] is False
    assert joined["case_ref"] == opened["case_ref"] and joined["joined"] is True
    assert request["request_ref"].startswith("VV-") and request["pupil_ref"] == pupil

    # another process, with another PREFECT_HOME, as the UI's user or `oja` on the same machine would
    code = (
        "import json, sys\n"
        "from prefect.client.orchestration import get_client\n"
        "with get_client(sync_client=True) as c:\n"
        "    print(json.dumps([c.read_flow_run(i).state.result() for i in sys.argv[1:]]))\n"
    )
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-c", code, *ids], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [opened, joined, request]

    for run in runs:  # stored as JSON, codes and references only
        assert run.state.data.serializer.type == "json"
        stored = Path(run.state.data.storage_key).read_text(encoding="utf-8")
        json.loads(stored)
        for personal in ("Roos", "Terhorst", "Bolhuis", "Gerda", "100000162", birth.isoformat()):
            assert personal not in stored


@flow(name="canary")
def _canary(marker: str) -> None:
    get_run_logger().info("canary %s", marker)


def test_no_personal_data_reaches_prefect(prefect_server, pupils):
    _canary("CANARY-4711")  # proves the scan below would find a leak through parameters or logs
    APILogHandler().flush()
    EventsWorker.drain_all()
    needles: dict[str, str] = {}
    for p in pupils.values():
        birth: dt.date = p["birth_date"]
        needles.update(
            {
                p["given_name"]: "given name",
                p["family_name"]: "family name",
                p["bsn"]: "BSN",
                birth.isoformat(): "birth date",
                birth.strftime("%d-%m-%Y"): "birth date",
            }
        )
    needles["Wijnbergen-Haaksbergen"] = "parent name"
    needles["CANARY-4711"] = "canary"

    con = sqlite3.connect(prefect_server)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        dump: list[tuple[str, str]] = []
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - table names from sqlite_master
                dump.append((table, " ".join(str(v) for v in row)))
    finally:
        con.close()

    hits = {(table, label) for table, text in dump for needle, label in needles.items() if needle in text}
    assert ("log", "canary") in hits and ("flow_run", "canary") in hits, "the scan must find the planted canary"
    leaks = sorted(hit for hit in hits if hit[1] != "canary")
    assert not leaks, f"personal data found in the Prefect database (table, kind): {leaks}"
    # the scan looked at the right place: the runs, their parameters and their logs are there
    everything = "\n".join(text for _, text in dump)
    assert all(ref in everything for ref in SEEN_CASE_REFS) and len(SEEN_CASE_REFS) == 2
    assert pupils["teen"]["ref"] in everything
    assert any(table == "log" for table, _ in dump)
    # every change is an event with the case reference and codes: managers build automations on them
    events = "\n".join(text for table, text in dump if table == "events")
    for name in (
        "signalled",
        "triaged",
        "consented",
        "activated",
        "reviewed",
        "scaled-up",
        "escalated",
        "returned",
        "closed",
        "reopened",
    ):
        assert f"oja.arrangement.{name}" in events
    assert f"oja.case.{SEEN_CASE_REFS[1]}" in events
