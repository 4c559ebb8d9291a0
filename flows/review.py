"""Review flows: a review with the engine's recommendation and a wait for the decision, a measurement, a decision.

Services: `oja/services/review.py`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.runtime import flow_run
from prefect.states import Running

from flows import forms
from flows.common import Result, case_flow, commit, day
from flows.form_errors import titled
from models.errors import ActionRefused
from models.schooldays import today as amsterdam_today
from oja.adapters.db import get_engine, unit_of_work
from oja.adapters.messages import message_options
from oja.config import get_policy, get_settings
from oja.services import review as service


@task(name="aanbeveling", cache_policy=NO_CACHE)
def recommend_decision(case_ref: str) -> Result:
    """The engine's recommendation at this review, with its reasons; published as an artifact."""
    with unit_of_work() as session:
        rec = service.recommendation(session, case_ref=case_ref, policy=get_policy())
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
    get_run_logger().info("%s: aanbeveling %s (regel %s)", case_ref, rec.kind.value, rec.rule.value)
    return {
        "kind": rec.kind.value,
        "new_level": rec.new_level,
        "rule": rec.rule.value,
        "reason_code": rec.reason_code,
        "reasons": list(rec.reasons),
        "markdown": markdown,
    }


@task(name="herinnering-besluit", cache_policy=NO_CACHE)
def remind_decision_due(case_ref: str, held_on: dt.date) -> int:
    """The wait for a decision timed out: the regie holder gets a reminder; the case stays as it was."""
    from oja.services.sweep import NoticeKind, queue_notice

    settings = get_settings()
    return queue_notice(
        get_engine(),
        case_ref=case_ref,
        kind=NoticeKind.DECISION_DUE,
        due_on=held_on,
        day=amsterdam_today(),
        **message_options(settings),
    )


@case_flow("evaluatie-vastleggen", "evaluatie")
def record_review(form: forms.RecordReview) -> Result:
    """Record a review, show the engine's recommendation with its reasons, and wait for the decision."""
    held_on = day(form.held_on)
    result = commit(
        "evaluatie-vastleggen",
        service.record_review,
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
    result["decision"] = _await_decision(form.case_ref, review_id, held_on, rec, form.actor)
    return result


def _await_decision(case_ref: str, review_id: int, held_on: dt.date, rec: Result, actor: str) -> Result | str:
    """Wait for the professional's decision (Resume): preset to the recommendation, checked by the engine.

    An answer the engine refuses (a different decision without a reason to deviate, a level that does not
    fit) is never replaced by the recommendation: the run waits again, with the refusal in Dutch above the
    form and the answer filled in as given. Without an answer in time the regie holder is reminded.
    """
    policy = get_policy()
    deadline = time.monotonic() + policy.decision_wait_seconds
    # the level is not preset: kept empty with the recommended kind it means the recommended level, and it
    # cannot linger when the professional picks another kind
    values: dict[str, Any] = {"kind": rec["kind"], "actor": actor}
    problem = None
    for attempt in itertools.count(1):
        remaining = int(deadline - time.monotonic())
        if remaining < 1:  # the last answer was refused and the wait is over
            return _no_decision(case_ref, review_id, held_on, paused=False)
        try:
            answer = pause_flow_run(
                wait_for_input=forms.prefilled(
                    forms.ConfirmDecision,
                    decision_prompt(rec, problem),
                    required=("kind", "actor"),
                    **{k: v for k, v in values.items() if v is not None},
                ),
                timeout=remaining,
                poll_interval=max(1, min(3, policy.decision_wait_seconds // 10)),
                key=f"besluit-{attempt}",
            )
        except FlowPauseTimeout:
            return _no_decision(case_ref, review_id, held_on, paused=True)
        values = answer.model_dump(exclude={"metadata"})
        try:
            return commit(
                "besluit-nemen",
                service.decide,
                case_ref=case_ref,
                kind=answer.kind,
                new_level=answer.new_level,
                end_reason=answer.end_reason,
                override_reason=answer.override_reason,
                group_code=answer.group_code,
                actor=answer.actor,
                today=amsterdam_today(),
                policy=policy,
            )
        except ActionRefused as refusal:
            problem = titled(str(refusal), forms.ConfirmDecision)
            get_run_logger().warning("%s: besluit niet vastgelegd, wacht op een nieuw antwoord: %s", case_ref, problem)
    raise AssertionError("unreachable")


def decision_prompt(rec: Result, problem: str | None) -> str:
    """The text above the decision form: a refusal first, then the recommendation with its reasons."""
    lines = []
    if problem:
        lines += [f"**Niet vastgelegd:** {problem}", "", "Pas het besluit aan en verstuur opnieuw.", ""]
    lines += [
        f"**Aanbeveling: {rec['kind']}**" + (f" naar niveau {rec['new_level']}" if rec.get("new_level") else ""),
        "",
        *[f"- {reason}" for reason in rec["reasons"]],
        "",
        "Het besluit staat op de aanbeveling. Een ander besluit vraagt een reden om af te wijken.",
    ]
    return "\n".join(lines)


def _no_decision(case_ref: str, review_id: int, held_on: dt.date, *, paused: bool) -> str:
    """No (valid) answer in time: the regie holder is reminded, unless the case was decided meanwhile."""
    if paused:
        _end_pause()
    if not _awaiting_decision(case_ref, review_id):  # decided meanwhile (besluit-nemen), or closed
        get_run_logger().info("%s: besluit al genomen; geen herinnering", case_ref)
        return "al_genomen"
    remind_decision_due(case_ref, held_on)
    get_run_logger().warning("%s: geen besluit binnen de wachttijd; herinnering verstuurd", case_ref)
    return "open"


def _awaiting_decision(case_ref: str, review_id: int) -> bool:
    with unit_of_work() as session:
        return service.awaiting_decision(session, case_ref=case_ref, review_id=review_id)


def _end_pause() -> None:
    """After a wait without an answer, the run goes on: back to Running, so that it completes with its result.

    Prefect's server refuses any move out of a timed-out pause (the run would end Failed, 'never resumed').
    """
    run_id = flow_run.get_id()
    assert run_id is not None, "called inside a flow run"
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, Running(message="geen besluit binnen de wachttijd"), force=True)


@case_flow("meting-vastleggen", "meting")
def record_measurement(form: forms.RecordMeasurement) -> Result:
    """Record a progress-monitoring measurement for a goal (compared with its aim line at reviews)."""
    return commit(
        "meting-vastleggen",
        service.record_measurement,
        case_ref=form.case_ref,
        goal_number=form.goal_number,
        value=form.value,
        measured_on=day(form.measured_on),
        actor=form.actor,
        today=amsterdam_today(),
    )


@case_flow("besluit-nemen", "besluit")
def take_decision(form: forms.TakeDecision) -> Result:
    """Carry out a decision: continue, scale up, scale down, close with a reason, or escalate.

    After a review the engine's recommendation applies: deciding otherwise needs a reason.
    """
    return commit(
        "besluit-nemen",
        service.decide,
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
