"""A review in the UI: the recommendation is shown, the run waits, and the professional confirms or overrides."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName, LogFilter
from prefect.flow_runs import resume_flow_run
from prefect.input.actions import read_flow_run_input
from prefect.logging.handlers import APILogHandler
from sqlmodel import Session, select

from flows import forms
from flows import review as f_review
from models.lifecycle import CaseState
from models.reminders import NoticeKind
from models.schooldays import today as amsterdam_today
from models.tables import Case, Decision, GroupMember, Notice, Outbox
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from oja.config import get_settings
from tests.factories import active_case

pytestmark = pytest.mark.prefect


@pytest.fixture
def long_wait(tmp_path, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text("[policy]\ndecision_wait_seconds = 120\n", encoding="utf-8")
    monkeypatch.setenv("OJA_POLICY_FILE", str(policy))
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _active_case(url: str, bsn: str) -> str:
    today = amsterdam_today()
    ref = active_case(
        get_engine(url), school="20XY", coordinator="PRF-T1", bsn=bsn, born=dt.date(2009, 4, 4), today=today
    )
    with unit_of_work(get_engine(url)) as s:  # it started two months ago, with an earlier review on track
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        case.activated_on = today - dt.timedelta(days=60)
        s.add(case)
    with unit_of_work(get_engine(url)) as s:
        sv.record_review(
            s, case_ref=ref, held_on=today - dt.timedelta(days=30), actor="PRF-T2", today=today, gas_scores={1: 0}
        )
        sv.decide(s, case_ref=ref, kind="voortzetten", actor="PRF-T1", today=today, policy=sv.DEFAULT_POLICY)
    return ref


def _review_in_background(ref: str, gas: int) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def run():
        box["state"] = f_review.record_review(
            form=forms.RecordReview(
                case_ref=ref, gas_scores=[forms.GoalScoreForm(goal_number=1, gas=gas)], actor="PRF-T2"
            ),
            return_state=True,
        )

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def _paused_run_id(ref: str, attempt: int = 1):
    """The review run of `ref`, once it waits for its `attempt`-th answer."""
    return _pause(ref, attempt)[0]


def _pause(ref: str, attempt: int = 1):
    """The review run waiting for its `attempt`-th answer, and the text shown above its form."""
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"evaluatie {ref}"]))
            )
            for run in runs:
                details = run.state.state_details if run.state else None
                if run.state.is_paused() and details.pause_key == f"besluit-{attempt}":
                    key = details.run_input_keyset["description"]
                    return run.id, read_flow_run_input(key, flow_run_id=run.id)
            time.sleep(0.5)
    raise AssertionError(f"the review run did not wait for answer {attempt}")


def test_the_professional_confirms_the_recommendation_and_it_is_carried_out(engine_url, long_wait):
    ref = _active_case(engine_url, "100000022")
    thread, box = _review_in_background(ref, gas=0)  # on track twice at level 2: scale down to 1
    run_id = _paused_run_id(ref)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
    shown = [a for a in artifacts if a.key == f"aanbeveling-{ref.lower()}"]
    assert shown and "afschalen" in shown[0].data and "doel 1: +0" in shown[0].data

    resume_flow_run(run_id, run_input={"kind": "afschalen", "new_level": 1, "actor": "PRF-T1"})
    thread.join(timeout=120)
    result = box["state"].result()
    assert result["recommendation"]["kind"] == "afschalen" and result["decision"]["state"] == CaseState.ACTIVE
    with Session(get_engine(engine_url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        decision = s.exec(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id.desc())).first()
    assert case.level == 1
    assert (decision.kind, decision.recommended_kind, decision.override_reason) == ("afschalen", "afschalen", None)
    assert decision.decided_by == "PRF-T1"


def test_the_decision_form_is_preset_to_the_recommendation_with_its_reasons_first(engine_url, long_wait):
    ref = _active_case(engine_url, "100000058")
    thread, box = _review_in_background(ref, gas=0)
    run_id, text = _pause(ref)
    assert text.startswith("**Aanbeveling: afschalen** naar niveau 1") and "doel 1: +0" in text
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
    schema = read_flow_run_input(run.state.state_details.run_input_keyset["schema"], flow_run_id=run_id)
    props = schema["properties"]
    assert (props["kind"]["default"], props["actor"]["default"]) == ("afschalen", "PRF-T2")
    assert "default" not in props["new_level"]
    assert props["actor"]["title"] == "Uitgevoerd door" and props["actor"]["pattern"]  # checked like every actor
    assert {"kind", "actor"} <= set(schema["required"]) and "confirm" not in props
    resume_flow_run(run_id, run_input={"kind": "afschalen", "actor": "PRF-T1"})  # as preset
    thread.join(timeout=120)
    assert box["state"].is_completed() and box["state"].result()["decision"]["level"] == 1


def test_an_override_without_a_reason_is_refused_in_dutch_and_the_review_waits_again(engine_url, long_wait):
    ref = _active_case(engine_url, "100000034")
    thread, box = _review_in_background(ref, gas=0)
    resume_flow_run(_paused_run_id(ref), run_input={"kind": "voortzetten", "actor": "PRF-T1"})
    run_id, text = _pause(ref, attempt=2)  # never silently replaced by the recommendation: asked again
    assert text.startswith("**Niet vastgelegd:** Reden om af te wijken (override_reason):")
    assert _state(engine_url, ref) == (CaseState.REVIEWED, 2)  # nothing changed
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
    schema = read_flow_run_input(run.state.state_details.run_input_keyset["schema"], flow_run_id=run_id)
    assert schema["properties"]["kind"]["default"] == "voortzetten"  # the answer as given, to complete

    resume_flow_run(
        run_id, run_input={"kind": "voortzetten", "override_reason": "wens_leerling_ouders", "actor": "PRF-T1"}
    )
    thread.join(timeout=120)
    assert box["state"].is_completed(), box["state"].message
    assert box["state"].result()["decision"]["state"] == CaseState.ACTIVE
    with Session(get_engine(engine_url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        decision = s.exec(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id.desc())).first()
    assert (decision.kind, decision.recommended_kind, decision.override_reason) == (
        "voortzetten",
        "afschalen",
        "wens_leerling_ouders",
    )


def test_an_unknown_actor_in_the_answer_is_refused_by_the_server(engine_url, long_wait):
    ref = _active_case(engine_url, "100000071")
    thread, box = _review_in_background(ref, gas=0)
    run_id = _paused_run_id(ref)
    with pytest.raises(RuntimeError, match="does not match"):
        resume_flow_run(run_id, run_input={"kind": "afschalen", "actor": "piet"})
    resume_flow_run(run_id, run_input={"kind": "afschalen", "new_level": 1, "actor": "PRF-T1"})
    thread.join(timeout=120)
    assert box["state"].is_completed()


def test_a_wait_that_times_out_reminds_the_regie_holder_and_leaves_the_case(engine_url):
    ref = _active_case(engine_url, "100000046")  # the session policy waits 2 s
    result = f_review.record_review(
        form=forms.RecordReview(case_ref=ref, gas_scores=[forms.GoalScoreForm(goal_number=1, gas=-2)], actor="PRF-T2")
    )
    assert result["decision"] == "open"
    assert _state(engine_url, ref) == (CaseState.REVIEWED, 2)
    with Session(get_engine(engine_url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        notices = s.exec(
            select(Notice).where(Notice.case_id == case.id, Notice.kind == NoticeKind.DECISION_DUE.value)
        ).all()
        assert [n.recipient_code for n in notices] == ["PRF-T1"]
        outbox = s.get(Outbox, notices[0].outbox_id)
    assert ref in outbox.text and "Besluit na evaluatie nog niet genomen" in outbox.text


def _state(url: str, ref: str) -> tuple[str, int]:
    with Session(get_engine(url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        return case.state, case.level


@pytest.fixture
def short_wait(tmp_path, monkeypatch):
    """A review waits 20 s: long enough to decide through besluit-nemen meanwhile, even on a busy machine."""
    policy = tmp_path / "policy.toml"
    policy.write_text("[policy]\ndecision_wait_seconds = 20\n", encoding="utf-8")
    monkeypatch.setenv("OJA_POLICY_FILE", str(policy))
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _decision_due_notices(url: str, ref: str) -> list:
    with Session(get_engine(url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        return s.exec(
            select(Notice).where(Notice.case_id == case.id, Notice.kind == NoticeKind.DECISION_DUE.value)
        ).all()


def _run_logs(run_id, containing: str) -> list[str]:
    """The run's log lines with `containing`, once the log handler has sent them (it sends in batches)."""
    APILogHandler().flush()
    deadline = time.monotonic() + 30
    while True:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(log_filter=LogFilter(flow_run_id={"any_": [run_id]}))
        found = [log.message for log in logs if containing in log.message]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_a_case_decided_and_closed_during_the_wait_gets_no_reminder(engine_url, short_wait):
    ref = _active_case(engine_url, "100000101")
    thread, box = _review_in_background(ref, gas=-2)
    run_id = _paused_run_id(ref)
    f_review.take_decision(
        form=forms.TakeDecision(
            case_ref=ref,
            kind="afsluiten",
            end_reason="voortijdig_in_overleg",
            override_reason="wens_leerling_ouders",
            actor="PRF-T1",
        )
    )
    thread.join(timeout=120)
    assert box["state"].is_completed(), box["state"].message
    assert box["state"].result()["decision"] == "al_genomen"
    assert _state(engine_url, ref)[0] == CaseState.CLOSED
    assert _decision_due_notices(engine_url, ref) == []
    assert _run_logs(run_id, "besluit al genomen")


def test_a_case_decided_and_reviewed_again_during_the_wait_gets_no_reminder_from_the_old_run(engine_url, short_wait):
    ref = _active_case(engine_url, "100000113")
    thread, box = _review_in_background(ref, gas=-2)
    _paused_run_id(ref)
    f_review.take_decision(
        form=forms.TakeDecision(
            case_ref=ref, kind="voortzetten", override_reason="wens_leerling_ouders", actor="PRF-T1"
        )
    )
    with unit_of_work(get_engine(engine_url)) as s:  # a newer review waits for its own decision
        sv.record_review(s, case_ref=ref, held_on=amsterdam_today(), actor="PRF-T2", today=amsterdam_today())
    thread.join(timeout=120)
    assert box["state"].is_completed() and box["state"].result()["decision"] == "al_genomen"
    assert _state(engine_url, ref)[0] == CaseState.REVIEWED
    assert _decision_due_notices(engine_url, ref) == []


def test_closing_without_an_ending_reason_names_the_form_field(engine_url):
    ref = _active_case(engine_url, "100000125")
    state = f_review.take_decision(
        form=forms.TakeDecision(case_ref=ref, kind="afsluiten", override_reason="wens_leerling_ouders", actor="PRF-T1"),
        return_state=True,
    )
    assert state.is_failed()
    assert "Reden beëindiging (bij afsluiten) (end_reason):" in state.message and "reason_code" not in state.message
    assert _state(engine_url, ref) == (CaseState.ACTIVE, 2)


def test_the_review_decision_can_scale_down_into_a_group(engine_url, long_wait):
    ref = _active_case(engine_url, "100000137")
    with unit_of_work(get_engine(engine_url)) as s:
        sv.upsert_group(
            s, code="GRP-REVIEW", provider_code="PRV-A", professional_code="PRF-T2", capacity=4, hours_per_week=2
        )
    thread, box = _review_in_background(ref, gas=0)  # on track twice at level 2: scale down to 1
    resume_flow_run(
        _paused_run_id(ref),
        run_input={"kind": "afschalen", "new_level": 1, "group_code": "GRP-REVIEW", "actor": "PRF-T1"},
    )
    thread.join(timeout=120)
    assert box["state"].is_completed(), box["state"].message
    assert box["state"].result()["decision"]["level"] == 1
    with Session(get_engine(engine_url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        members = s.exec(select(GroupMember).where(GroupMember.case_id == case.id)).all()
    assert [(m.group_code, m.left_on) for m in members] == [("GRP-REVIEW", None)]


def test_the_review_decision_refuses_a_group_when_not_scaling_down_to_level_1(engine_url, short_wait):
    ref = _active_case(engine_url, "100000149")
    thread, box = _review_in_background(ref, gas=0)
    resume_flow_run(
        _paused_run_id(ref),
        run_input={
            "kind": "voortzetten",
            "override_reason": "wens_leerling_ouders",
            "group_code": "GRP-REVIEW",
            "actor": "PRF-T1",
        },
    )
    _, text = _pause(ref, attempt=2)
    assert "group_code" in text
    thread.join(timeout=120)  # no valid answer within the wait: the regie holder is reminded
    assert box["state"].is_completed() and box["state"].result()["decision"] == "open"
    assert _state(engine_url, ref) == (CaseState.REVIEWED, 2)
