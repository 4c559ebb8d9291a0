"""Intake: a signal about a pupil opens a case (or joins the open one), the core team triages it; a closed
case can be reopened.

Flows: `flows/intake.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, select

from models import access
from models import lifecycle as lc
from models.errors import AccessDenied, FormCheck, InvalidInput
from models.lifecycle import Action, AuditAction, CaseState
from models.schooldays import add_school_days, next_school_day
from models.tables import (
    Case,
    Plan,
    School,
    Signal,
)
from models.vocabulary import (
    Domain,
    EndReason,
    NoActionReason,
    Source,
    TriageOutcome,
    Urgency,
)
from oja.config import Policy
from oja.services import audit
from oja.services.calendar import school_calendar
from oja.services.kernel import (
    CaseOutcome,
    access_actor,
    case_calendar,
    case_outcome,
    case_scope,
    choice,
    clean_code,
    load,
    load_actor,
    load_case,
    load_pupil,
    not_future,
    transition,
)
from oja.services.reads import key
from oja.services.referral import open_referral

URGENCY_RANK = {Urgency.NORMAL.value: 0, Urgency.HIGH.value: 1, Urgency.ACUTE.value: 2}


def register_signal(
    session: Session,
    *,
    pupil_ref: str,
    school_code: str,
    source: str,
    domains: Sequence[str],
    urgency: str,
    actor: str,
    received_on: dt.date,
    today: dt.date,
    policy: Policy,
) -> CaseOutcome:
    """Register a signal. For a pupil with an open case it joins that case: no double intake."""
    who = load_actor(session, actor)
    pupil = load_pupil(session, pupil_ref)
    school = load(session, School, clean_code(school_code, "school_code"), "school_code", "school")
    source = choice(source, Source, "source")
    urgency = choice(urgency, Urgency, "urgency")
    if not domains:
        raise InvalidInput("domains", "kies minstens één zorgdomein")
    codes = sorted({choice(d, Domain, "domains") for d in domains})
    not_future(received_on, today, "received_on")
    if received_on < today - dt.timedelta(days=366):
        raise InvalidInput(
            "received_on", "mag hoogstens een jaar geleden zijn: registreer een signaal binnen een jaar na ontvangst"
        )

    signal = Signal(  # joins the open case, or opens a new one
        case_id=0,
        source=source,
        domains=",".join(codes),
        urgency=urgency,
        received_on=received_on,
        registered_by=who.code,
    )
    open_case = session.exec(
        select(Case).where(Case.pupil_id == pupil.id, Case.state != CaseState.CLOSED.value).with_for_update()
    ).first()
    scope = (  # a signal belongs to the pupil's school, whatever school the form names
        case_scope(session, open_case)
        if open_case is not None
        else access.CaseScope(pupil.ref, pupil.school_code, pupil.municipality_code)
    )
    try:
        access.check(access_actor(who), scope, "register_signal")
    except AccessDenied as refused:  # about the pupil the form named: an outsider learns nothing of an open case
        raise AccessDenied(refused.actor, refused.action, pupil.ref, refused.scope) from None
    if school.code != pupil.school_code:
        raise InvalidInput(
            "school_code",
            f"een signaal hoort bij de school van de leerling: {pupil.ref} staat ingeschreven op {pupil.school_code}",
        )
    if open_case is not None:
        transition(session, open_case, Action.JOIN_SIGNAL, who, reason=f"source={source};urgency={urgency}")
        if URGENCY_RANK[urgency] > URGENCY_RANK[open_case.urgency]:
            open_case.urgency = urgency
        at_once = urgency == Urgency.ACUTE.value or Domain.SAFETY.value in codes  # as for a new case, below
        if open_case.state == CaseState.AWAITING_TRIAGE.value and at_once:
            due = next_school_day(received_on, school_calendar(session, school.code))
            open_case.triage_due_on = min(open_case.triage_due_on or due, due)
        signal.case_id = key(open_case)
        session.add(signal)
        return case_outcome(open_case, Action.JOIN_SIGNAL, joined=True)

    calendar = school_calendar(session, school.code)
    if urgency == Urgency.ACUTE.value or Domain.SAFETY.value in codes:
        due = next_school_day(received_on, calendar)  # routed at once: the same school day
    else:
        due = add_school_days(received_on, policy.triage_norm_school_days, calendar)
    case = Case(
        pupil_id=key(pupil),
        school_code=school.code,
        state=CaseState.AWAITING_TRIAGE.value,
        level=lc.BASIC_LEVEL,
        urgency=urgency,
        opened_on=received_on,
        triage_due_on=due,
    )
    session.add(case)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # a concurrent signal opened a case first
        raise InvalidInput(
            "pupil_ref",
            "er wordt op dit moment een ander signaal voor deze leerling geregistreerd; probeer het opnieuw",
        ) from None
    case.ref = f"OJA-{received_on.year}-{case.id:06d}"
    signal.case_id = key(case)
    session.add(signal)
    audit.record(
        session,
        case_ref=case.ref,
        actor=who.code,
        action=AuditAction.REGISTER_SIGNAL,
        from_state=None,
        to_state=case.state,
        reason=f"source={source};urgency={urgency}",
    )
    session.flush()
    return case_outcome(case, AuditAction.REGISTER_SIGNAL)


TRIAGE_ACTIONS = {
    TriageOutcome.BASIC.value: Action.TRIAGE_BASIC,
    TriageOutcome.OJA.value: Action.TRIAGE_OJA,
    TriageOutcome.SPECIALISED.value: Action.TRIAGE_SPECIALISED,
    TriageOutcome.NO_ACTION.value: Action.TRIAGE_NO_ACTION,
}


def triage(
    session: Session,
    *,
    case_ref: str,
    outcome: str,
    actor: str,
    today: dt.date,
    level: int | None = None,
    no_action_reason: str | None = None,
    policy: Policy,
) -> CaseOutcome:
    """The core team's triage: the school's own support, an OJA at level 1-3, specialised care, or no action."""
    who = load_actor(session, actor)
    case = load_case(session, case_ref, who=who, action="triage")
    outcome = choice(outcome, TriageOutcome, "outcome")
    action = TRIAGE_ACTIONS[outcome]
    lc.next_state(CaseState(case.state), action, case_ref=case.ref)  # refuse before any check of detail
    check = FormCheck()  # every wrong field of the form at once
    reason = None
    if action is Action.TRIAGE_NO_ACTION:
        if not no_action_reason:
            check.fail("no_action_reason", "uitkomst 'geen_actie' vraagt een reden")
        else:
            with check.field():
                reason = choice(no_action_reason, NoActionReason, "no_action_reason")
    elif no_action_reason:
        check.fail("no_action_reason", "een reden hoort alleen bij uitkomst 'geen_actie'")
    if action is not Action.TRIAGE_OJA and level is not None:
        check.fail("level", "kies alleen een niveau bij uitkomst 'oja'")
    new_level = case.level
    with check.field():
        new_level = lc.level_after(action, case.level, level, field="level")
    check.done()
    if action is Action.TRIAGE_NO_ACTION:
        case.no_action_reason = reason
    case.level = new_level
    case.triage_outcome = outcome
    transition(session, case, action, who, reason=reason or outcome)
    if action in (Action.TRIAGE_BASIC, Action.TRIAGE_NO_ACTION):
        case.closed_on = today
        case.end_reason = EndReason.BASIC_SUPPORT.value if action is Action.TRIAGE_BASIC else reason
    if action is Action.TRIAGE_SPECIALISED:
        open_referral(session, case, who, today)
    if action is Action.TRIAGE_OJA:
        case.plan_due_on = add_school_days(today, policy.plan_deadline_school_days, case_calendar(session, case))
    return case_outcome(case, action)


def reopen(session: Session, *, case_ref: str, actor: str, today: dt.date, policy: Policy) -> CaseOutcome:
    """Open a closed case again for triage, unless the pupil has another open case."""
    who = load_actor(session, actor)
    case = load_case(session, case_ref, who=who, action="reopen")
    lc.next_state(CaseState(case.state), Action.REOPEN, case_ref=case.ref)
    other = session.exec(
        select(Case.ref).where(Case.pupil_id == case.pupil_id, Case.state != CaseState.CLOSED.value)
    ).first()
    if other:
        raise InvalidInput("case_ref", f"de leerling heeft al een open casus {other}: voeg het signaal daaraan toe")
    region = case_calendar(session, case)
    case.closed_on = None
    case.end_reason = None
    case.level = lc.BASIC_LEVEL
    # a new episode: the plans so far no longer give access nor regie; until a new plan names a regie holder, the
    # school's coordinators are reminded (`models.recipients`)
    case.reopened_after_plan = max(session.exec(select(Plan.version).where(Plan.case_id == case.id)).all(), default=0)
    case.regie_holder_code = None
    case.triage_due_on = add_school_days(today, policy.triage_norm_school_days, region)
    transition(session, case, Action.REOPEN, who)
    return case_outcome(case, Action.REOPEN)
