"""Review flows: a review with the engine's recommendation, a measurement, a decision.

Services: `oja/services/review.py`.
"""

from __future__ import annotations

from prefect import get_run_logger

from flows import forms
from flows.common import Result, case_flow, commit, day
from models.schooldays import today as amsterdam_today
from oja.config import get_policy
from oja.services import review as service


@case_flow("evaluatie-vastleggen", "evaluatie")
def record_review(form: forms.RecordReview) -> Result:
    """Record a review; the run's result shows the engine's recommendation with its reasons and a link to
    **08 Besluit nemen** preset to it. The run ends there: the decision still to take holds no process (the
    daily sweep reminds the regie holder when it is due, policy `decision_due_school_days`)."""
    result = commit(
        "evaluatie-vastleggen",
        service.record_review,
        case_ref=form.case_ref,
        held_on=day(form.held_on),
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
    result.pop("review_id", None)
    rec = result.get("recommendation")
    if rec:
        get_run_logger().info("%s: aanbeveling %s (regel %s)", form.case_ref, rec["kind"], rec["rule"])
    return result


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
