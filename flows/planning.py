"""Planning flows: the joint plan, consent, the start. Services: `oja/services/planning.py`."""

from __future__ import annotations

from flows import forms
from flows.common import Result, case_flow, commit, day
from models.errors import ActionRefused
from models.family import PARTIES as FAMILY_PARTIES
from models.schooldays import today as amsterdam_today
from oja.adapters.db import unit_of_work
from oja.config import get_policy
from oja.services import consent, family_consent
from oja.services import planning as service


@case_flow("plan-opstellen", "plan")
def draft_plan(form: forms.DraftPlan) -> Result:
    """Draft the joint plan: goals, interventions, regie holder, funding split, dates, review cadence; at level 1
    optionally a place in a group arrangement."""
    return commit(
        "plan-opstellen",
        service.draft_plan,
        case_ref=form.case_ref,
        goals=[service.GoalSpec(g.domain, g.measure, g.baseline, g.target) for g in form.goals],
        interventions=[
            service.InterventionSpec(i.provider_code, i.hours_per_week, i.setting, i.swv_share_pct, i.professional_code)
            for i in form.interventions
        ],
        regie_holder=form.regie_holder,
        start_on=form.start_on,
        planned_end_on=form.planned_end_on,
        review_cadence_weeks=form.review_cadence_weeks,
        group_code=form.group_code,
        actor=form.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )


@case_flow("toestemming-vastleggen", "toestemming")
def record_consent(form: forms.RecordConsent) -> Result:
    """Record one party's consent (or refusal) to the current plan; a refusal after consent was complete withdraws
    it and pauses the arrangement. A parent's or the pupil's own word, given on their page, comes as a run with the
    party as actor and the id of their request (`family_request`)."""
    try:
        return record(form)
    except ActionRefused:
        if form.family_request and form.actor in FAMILY_PARTIES:  # the family's page says it did not go through
            with unit_of_work() as session:
                family_consent.refused(session, form.family_request, form.actor)
        raise


def record(form: forms.RecordConsent) -> Result:
    return commit(
        "toestemming-vastleggen",
        consent.record_consent,
        case_ref=form.case_ref,
        party=form.party,
        granted=form.granted,
        recorded_on=day(form.recorded_on),
        actor=form.actor,
        today=amsterdam_today(),
        family_request=form.family_request,
        policy=get_policy(),
    )


@case_flow("arrangement-starten", "start")
def activate(form: forms.CaseAction) -> Result:
    """Start the arrangement once the consent the pupil's age requires is complete; plans the first review."""
    return commit(
        "arrangement-starten", service.activate, case_ref=form.case_ref, actor=form.actor, today=amsterdam_today()
    )
