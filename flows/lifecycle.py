"""One flow per professional action on a case. Thin: check the form, run one transaction, report codes.

Each flow is a deployment in `prefect.yaml`. A refusal by the engine (an illegal
transition, missing consent, an unknown code) fails the run with a message that
names the field and the rule; nothing is written then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.events import emit_event
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.runtime import flow_run
from prefect.states import Running
from sqlmodel import select

from flows import forms
from models.errors import ActionRefused, OjaError
from models.schooldays import today as amsterdam_today
from models.tables import Case
from oja import services as sv
from oja.config import get_policy, get_settings
from oja.db import get_engine, unit_of_work

# A run's result (the case reference, `joined`, the planned review date: codes only, never personal data)
# is kept as JSON where Prefect keeps results (PREFECT_HOME/storage, the same for the server and the workers
# that `oja start` starts; the stored key is an absolute path), so the UI and the API can read it back.
RESULTS = {"persist_result": True, "result_serializer": "json"}


def _run_name(prefix: str) -> Callable[[], str]:
    """A run name from the case or pupil reference in the form, never from personal data."""

    def name() -> str:
        form = flow_run.parameters.get("form", {})
        data = form if isinstance(form, dict) else form.model_dump()
        ref = data.get("case_ref") or data.get("pupil_ref") or data.get("request_ref") or ""
        return f"{prefix} {ref}".strip()

    return name


def run_use_case(action: str, use_case: Callable[..., Any], **kwargs: Any) -> Any:
    """One use case in one transaction; a refusal by the engine fails the run with its message."""
    try:
        with unit_of_work() as session:
            return use_case(session, **kwargs)
    except OjaError as exc:
        get_run_logger().error("%s geweigerd: %s", action, exc)
        raise ActionRefused(str(exc)) from None


@task(name="wijziging-vastleggen", cache_policy=NO_CACHE)
def commit(action: str, use_case: Callable[..., sv.CaseOutcome], **kwargs: Any) -> dict:
    """Run one use case in one transaction: the change and its audit record commit together or not at all."""
    outcome = run_use_case(action, use_case, **kwargs)
    logger = get_run_logger()
    logger.info("%s: %s -> %s (niveau %s)", outcome.case_ref, outcome.action, outcome.state, outcome.level)
    emit_transition_event(outcome)
    return outcome.as_dict()


# Event names per action, for automations (e.g. tell a team lead about every escalation).
EVENT_NAMES = {
    "register_signal": "signalled",
    "join_signal": "signal-joined",
    "triage_basic": "triaged",
    "triage_oja": "triaged",
    "triage_specialised": "triaged",
    "triage_no_action": "triaged",
    "draft_plan": "plan-drafted",
    "record_consent": "consent-recorded",
    "consent_complete": "consented",
    "activate": "activated",
    "record_review": "reviewed",
    "record_measurement": "measured",
    "continue": "continued",
    "scale_up": "scaled-up",
    "scale_down": "scaled-down",
    "close": "closed",
    "escalate": "escalated",
    "referral_accepted": "referral-accepted",
    "return": "returned",
    "reopen": "reopened",
}


def emit_transition_event(outcome: sv.CaseOutcome) -> None:
    """A Prefect event per change, with the case reference and codes only (e.g. `oja.arrangement.escalated`)."""
    emit_event(
        event=f"oja.arrangement.{EVENT_NAMES.get(outcome.action, outcome.action)}",
        resource={"prefect.resource.id": f"oja.case.{outcome.case_ref}", "prefect.resource.name": outcome.case_ref},
        payload={"action": outcome.action, "state": outcome.state, "level": outcome.level},
    )


def _day(value: dt.date | None) -> dt.date:
    return value or amsterdam_today()


@flow(name="signaal-registreren", flow_run_name=_run_name("signaal"), log_prints=False, **RESULTS)
def register_signal(form: forms.RegisterSignal) -> dict:
    """Register a signal about a pupil; a pupil with an open case gets it joined, not a second intake."""
    return commit(
        "signaal-registreren",
        sv.register_signal,
        pupil_ref=form.pupil_ref,
        school_code=form.school_code,
        source=form.source,
        domains=form.domains,
        urgency=form.urgency,
        actor=form.actor,
        received_on=_day(form.received_on),
        today=amsterdam_today(),
        policy=get_policy(),
    )


@flow(name="triage", flow_run_name=_run_name("triage"), **RESULTS)
def triage(form: forms.Triage) -> dict:
    """Record the core team's triage outcome."""
    return commit(
        "triage",
        sv.triage,
        case_ref=form.case_ref,
        outcome=form.outcome,
        level=form.level,
        no_action_reason=form.no_action_reason,
        actor=form.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )


@flow(name="plan-opstellen", flow_run_name=_run_name("plan"), **RESULTS)
def draft_plan(form: forms.DraftPlan) -> dict:
    """Draft the joint plan: goals, interventions, regie holder, funding split, dates, review cadence."""
    return commit(
        "plan-opstellen",
        sv.draft_plan,
        case_ref=form.case_ref,
        goals=[sv.GoalSpec(g.domain, g.measure, g.baseline, g.target) for g in form.goals],
        interventions=[
            sv.InterventionSpec(i.provider_code, i.hours_per_week, i.setting, i.swv_share_pct, i.professional_code)
            for i in form.interventions
        ],
        regie_holder=form.regie_holder,
        start_on=form.start_on,
        planned_end_on=form.planned_end_on,
        review_cadence_weeks=form.review_cadence_weeks,
        actor=form.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )


@flow(name="toestemming-vastleggen", flow_run_name=_run_name("toestemming"), **RESULTS)
def record_consent(form: forms.RecordConsent) -> dict:
    """Record one party's consent (or refusal) to the current plan."""
    return commit(
        "toestemming-vastleggen",
        sv.record_consent,
        case_ref=form.case_ref,
        party=form.party,
        granted=form.granted,
        recorded_on=_day(form.recorded_on),
        actor=form.actor,
        today=amsterdam_today(),
    )


@flow(name="arrangement-starten", flow_run_name=_run_name("start"), **RESULTS)
def activate(form: forms.CaseAction) -> dict:
    """Start the arrangement once the consent the pupil's age requires is complete; plans the first review."""
    return commit("arrangement-starten", sv.activate, case_ref=form.case_ref, actor=form.actor, today=amsterdam_today())


@task(name="aanbeveling", cache_policy=NO_CACHE)
def recommend_decision(case_ref: str) -> dict:
    """The engine's recommendation at this review, with its reasons; published as an artifact."""
    with unit_of_work() as session:
        rec = sv.recommendation(session, case_ref=case_ref, policy=get_policy())
    markdown = "\n".join(
        [
            f"## Aanbeveling voor {case_ref}: **{rec.kind.value}**"
            + (f" (niveau {rec.new_level})" if rec.new_level else ""),
            "",
            *[f"- {r}" for r in rec.reasons],
        ]
    )
    create_markdown_artifact(
        key=f"aanbeveling-{case_ref.lower()}", markdown=markdown, description=f"Aanbeveling {case_ref}"
    )
    get_run_logger().info("%s: aanbeveling %s (regel %s)", case_ref, rec.kind.value, rec.rule)
    return {
        "kind": rec.kind.value,
        "new_level": rec.new_level,
        "rule": rec.rule,
        "reason_code": rec.reason_code,
        "reasons": list(rec.reasons),
        "markdown": markdown,
    }


@task(name="herinnering-besluit", cache_policy=NO_CACHE)
def remind_decision_due(case_ref: str, held_on: dt.date) -> int:
    """The wait for a decision timed out: the regie holder gets a reminder; the case stays as it was."""
    from notifications.render import render
    from oja.sweep import NoticeKind, queue_notice

    settings = get_settings()
    return queue_notice(
        get_engine(),
        case_ref=case_ref,
        kind=NoticeKind.DECISION_DUE,
        due_on=held_on,
        day=amsterdam_today(),
        render=render,
        language=settings.language,
        case_url=settings.case_url,
    )


@flow(name="evaluatie-vastleggen", flow_run_name=_run_name("evaluatie"), **RESULTS)
def record_review(form: forms.RecordReview) -> dict:
    """Record a review, show the engine's recommendation with its reasons, and wait for the decision."""
    held_on = _day(form.held_on)
    result = commit(
        "evaluatie-vastleggen",
        sv.record_review,
        case_ref=form.case_ref,
        held_on=held_on,
        gas_scores={s.goal_number: s.gas for s in form.gas_scores},
        attendance_pct=form.attendance_pct,
        wellbeing=form.wellbeing,
        satisfaction=form.satisfaction,
        pupil_view=form.pupil_view,
        parent_view=form.parent_view,
        safety_concern=form.safety_concern,
        delivered_as_planned=form.delivered_as_planned,
        actor=form.actor,
        today=amsterdam_today(),
    )
    review_id = result.pop("review_id")
    rec = recommend_decision(form.case_ref)
    result["recommendation"] = {k: rec[k] for k in ("kind", "new_level", "rule")}
    policy = get_policy()
    try:
        answer = pause_flow_run(
            wait_for_input=forms.ConfirmDecision.with_initial_data(
                description=rec["markdown"] + "\n\nNeem de aanbeveling over, of kies een ander besluit met een reden.",
                actor=form.actor,
            ),
            timeout=policy.decision_wait_seconds,
            poll_interval=max(1, min(3, policy.decision_wait_seconds // 10)),
        )
    except FlowPauseTimeout:
        _end_pause()
        if not _awaiting_decision(form.case_ref, review_id):  # decided meanwhile (besluit-nemen), or closed
            get_run_logger().info("%s: besluit al genomen; geen herinnering", form.case_ref)
            result["decision"] = "already_decided"
            return result
        remind_decision_due(form.case_ref, held_on)
        get_run_logger().warning("%s: geen besluit binnen de wachttijd; herinnering verstuurd", form.case_ref)
        result["decision"] = "open"
        return result
    result["decision"] = _decide(form.case_ref, answer, rec)
    return result


def _awaiting_decision(case_ref: str, review_id: int) -> bool:
    with unit_of_work() as session:
        return sv.awaiting_decision(session, case_ref=case_ref, review_id=review_id)


def _end_pause() -> None:
    """After a wait without an answer, the run goes on: back to Running, so that it completes with its result.

    Prefect's server refuses any move out of a timed-out pause (the run would end Failed, 'never resumed').
    """
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run.get_id(), Running(message="geen besluit binnen de wachttijd"), force=True)


def _decide(case_ref: str, answer: forms.ConfirmDecision, rec: dict) -> dict:
    kind = rec["kind"] if answer.confirm else answer.kind
    if kind is None:
        raise ActionRefused("kind: choose a decision when not taking over the recommendation")
    return commit(
        "besluit-nemen",
        _decide_with_recommendation,
        case_ref=case_ref,
        kind=kind,
        new_level=None if answer.confirm else answer.new_level,
        end_reason=None if answer.confirm else answer.end_reason,
        change_reason=None if answer.confirm else answer.change_reason,
        override_reason=None if answer.confirm else answer.override_reason,
        group_code=answer.group_code,
        actor=answer.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )


def _decide_with_recommendation(session, **kwargs) -> sv.CaseOutcome:
    """Decide on a reviewed case with the engine's recommendation in the same transaction."""
    rec = sv.recommendation(session, case_ref=kwargs["case_ref"], policy=get_policy(), for_update=True)
    return sv.decide(session, recommendation=rec, **kwargs)


@flow(name="besluit-nemen", flow_run_name=_run_name("besluit"), **RESULTS)
def take_decision(form: forms.TakeDecision) -> dict:
    """Carry out a decision: continue, scale up, scale down, close with a reason, or escalate.

    After a review the engine's recommendation applies: deciding otherwise needs a reason.
    """
    return commit(
        "besluit-nemen",
        _decide_after_review,
        case_ref=form.case_ref,
        kind=form.kind,
        new_level=form.new_level,
        end_reason=form.end_reason,
        change_reason=form.change_reason,
        override_reason=form.override_reason,
        group_code=form.group_code,
        actor=form.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )


def _decide_after_review(session, **kwargs) -> sv.CaseOutcome:
    case = session.exec(select(Case).where(Case.ref == kwargs["case_ref"])).first()
    if case is not None and case.state == "reviewed":
        return _decide_with_recommendation(session, **kwargs)
    return sv.decide(session, **kwargs)


@flow(name="meting-vastleggen", flow_run_name=_run_name("meting"), **RESULTS)
def record_measurement(form: forms.RecordMeasurement) -> dict:
    """Record a progress-monitoring measurement for a goal (compared with its aim line at reviews)."""
    return commit(
        "meting-vastleggen",
        sv.record_measurement,
        case_ref=form.case_ref,
        goal_number=form.goal_number,
        value=form.value,
        measured_on=_day(form.measured_on),
        actor=form.actor,
        today=amsterdam_today(),
    )


@flow(name="verwijzen-specialistische-zorg", flow_run_name=_run_name("verwijzing"), **RESULTS)
def refer(form: forms.CaseAction) -> dict:
    """Refer to specialised care (level 4) through the pupil's municipality, outside a review."""
    return commit("verwijzen", sv.refer, case_ref=form.case_ref, actor=form.actor, today=amsterdam_today())


@flow(name="terugkeer-uit-specialistische-zorg", flow_run_name=_run_name("terugkeer"), **RESULTS)
def return_from_specialised(form: forms.ReturnFromSpecialised) -> dict:
    """Return from specialised care into an in-school arrangement at a chosen level; a new plan follows."""
    return commit(
        "terugkeer",
        sv.return_from_specialised,
        case_ref=form.case_ref,
        level=form.level,
        actor=form.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )


@flow(name="verwijzing-beantwoorden", flow_run_name=_run_name("verwijzing-antwoord"), **RESULTS)
def respond_to_referral(form: forms.RespondToReferral) -> dict:
    """The district team accepts a referral, or declines it and the case returns to school at a chosen level."""
    return commit(
        "verwijzing-beantwoorden",
        sv.respond_to_referral,
        case_ref=form.case_ref,
        accepted=form.accepted,
        level_on_decline=form.level_on_decline,
        actor=form.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )


@flow(name="casus-heropenen", flow_run_name=_run_name("heropenen"), **RESULTS)
def reopen(form: forms.CaseAction) -> dict:
    """Reopen a closed case for a new triage."""
    return commit(
        "heropenen", sv.reopen, case_ref=form.case_ref, actor=form.actor, today=amsterdam_today(), policy=get_policy()
    )


ALL_FLOWS = (
    register_signal,
    triage,
    draft_plan,
    record_consent,
    activate,
    record_review,
    record_measurement,
    take_decision,
    refer,
    return_from_specialised,
    respond_to_referral,
    reopen,
)
