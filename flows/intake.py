"""Intake flows: register a signal, triage, reopen a closed case. Services: `oja/services/intake.py`."""

from __future__ import annotations

from flows import forms
from flows.common import Result, case_flow, commit, day
from models.schooldays import today as amsterdam_today
from oja.config import get_policy
from oja.services import intake as service


@case_flow("signaal-registreren", "signaal")
def register_signal(form: forms.RegisterSignal) -> Result:
    """Register a signal about a pupil; a pupil with an open case gets it joined, not a second intake."""
    return commit(
        "signaal-registreren",
        service.register_signal,
        pupil_ref=form.pupil_ref,
        school_code=form.school_code,
        source=form.source,
        domains=form.domains,
        urgency=form.urgency,
        actor=form.actor,
        received_on=day(form.received_on),
        today=amsterdam_today(),
        policy=get_policy(),
    )


@case_flow("triage", "triage")
def triage(form: forms.Triage) -> Result:
    """Record the core team's triage outcome."""
    return commit(
        "triage",
        service.triage,
        case_ref=form.case_ref,
        outcome=form.outcome,
        level=form.level,
        no_action_reason=form.no_action_reason,
        actor=form.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )


@case_flow("casus-heropenen", "heropenen")
def reopen(form: forms.CaseAction) -> Result:
    """Reopen a closed case for a new triage."""
    return commit(
        "casus-heropenen",
        service.reopen,
        case_ref=form.case_ref,
        actor=form.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )
