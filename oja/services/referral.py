"""Referral to specialised care through the district team of the pupil's municipality, its answer, and the
return to school.

Flows: `flows/referral.py`.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from models import lifecycle as lc
from models import recipients
from models.errors import AccessDenied, IllegalTransition, InvalidInput
from models.lifecycle import Action, AuditAction, CaseState
from models.recipients import CaseParties, Staff, Staffing
from models.reminders import NoticeKind
from models.schooldays import add_school_days
from models.tables import (
    Case,
    Decision,
    Professional,
    Referral,
)
from models.vocabulary import (
    DecisionKind,
    OtherDecision,
    ReferralStatus,
    ReturnReason,
    Role,
)
from oja.adapters.messages import message_options
from oja.config import Policy, get_settings
from oja.services import audit
from oja.services.groups import leave_groups, left_text, place_text
from oja.services.kernel import (
    CaseOutcome,
    case_calendar,
    case_outcome,
    load_actor,
    load_case,
    transition,
)
from oja.services.planning import end_delivery
from oja.services.reads import key, pupil_of, ref_of
from oja.services.sweep import queue_in_session


def open_referral(session: Session, case: Case, who: Professional, today: dt.date) -> None:
    """A referral to the district team of the pupil's municipality, which is told in the same transaction."""
    pupil = pupil_of(session, case)
    case.next_review_on = None
    leave_groups(session, case, today)
    session.add(
        Referral(
            case_id=key(case),
            municipality_code=pupil.municipality_code,
            status=ReferralStatus.SENT.value,
            referred_on=today,
            referred_by=who.code,
        )
    )
    session.flush()
    tell_district_team(session, case, pupil.municipality_code, NoticeKind.REFERRAL_SENT, today, today)


def respond_to_referral(
    session: Session,
    *,
    case_ref: str,
    accepted: bool,
    actor: str,
    today: dt.date,
    level_on_decline: int | None = None,
    policy: Policy,
) -> CaseOutcome:
    """The district team accepts or declines a referral; a declined one brings the case back to school, at
    `level_on_decline` (none given: the highest in school). A level given with an acceptance is refused."""
    who = load_actor(session, actor)
    case = load_case(session, case_ref, who=who, action="respond_to_referral")
    referral = session.exec(
        select(Referral)
        .where(Referral.case_id == case.id, Referral.status == ReferralStatus.SENT.value)
        .order_by(col(Referral.id).desc())
    ).first()
    if case.state != CaseState.ESCALATED.value or referral is None:
        allowed = tuple(a.value for a in lc.allowed_actions(CaseState(case.state)))
        raise IllegalTransition(case.state, "respond_to_referral", allowed, case.ref)
    if who.role != Role.DISTRICT_TEAM.value or who.municipality_code != referral.municipality_code:
        raise AccessDenied(
            who.code,
            "respond_to_referral",
            ref_of(case),
            f"alleen het wijkteam van {referral.municipality_code} beantwoordt deze verwijzing",
        )
    if accepted and level_on_decline is not None:  # nothing to apply it to: refused, never dropped (issue 25)
        raise InvalidInput(
            "level_on_decline",
            "een niveau op school hoort alleen bij afwijzen: bij aanvaarden blijft de leerling in specialistische"
            " zorg; laat het veld leeg",
        )
    referral.status = (ReferralStatus.ACCEPTED if accepted else ReferralStatus.DECLINED).value
    referral.responded_on, referral.responded_by = today, who.code
    session.add(referral)
    if accepted:
        audit.record(
            session,
            case_ref=ref_of(case),
            actor=who.code,
            action=AuditAction.REFERRAL_ACCEPTED,
            from_state=case.state,
            to_state=case.state,
            reason=referral.municipality_code,
        )
        return case_outcome(case, AuditAction.REFERRAL_ACCEPTED)
    return return_to_school(
        session,
        case,
        who,
        lc.HIGHEST_IN_SCHOOL if level_on_decline is None else level_on_decline,
        today,
        policy,
        field="level_on_decline",
        reason_code=ReturnReason.REFERRAL_DECLINED,
    )


def _on_record(
    session: Session,
    case: Case,
    who: Professional,
    kind: str,
    before_level: int,
    today: dt.date,
    reason: ReturnReason | None = None,
) -> None:
    """A referral or a return outside a review is a decision on record too (from which level to which)."""
    session.add(
        Decision(
            case_id=key(case),
            kind=kind,
            from_level=before_level,
            to_level=case.level,
            decided_on=today,
            decided_by=who.code,
            reason_code=reason.value if reason else None,
        )
    )


def return_to_school(
    session: Session,
    case: Case,
    who: Professional,
    level: int,
    today: dt.date,
    policy: Policy,
    *,
    field: str,
    reason_code: ReturnReason | None = None,
) -> CaseOutcome:
    """Back into an in-school arrangement at `level`: a new plan is due; the return is a decision on record."""
    before_level = case.level
    case.level = lc.level_after(Action.RETURN, case.level, level, field=field)
    case.plan_due_on = add_school_days(today, policy.plan_deadline_school_days, case_calendar(session, case))
    transition(session, case, Action.RETURN, who, reason=reason_code.value if reason_code else f"level {case.level}")
    _on_record(session, case, who, OtherDecision.RETURN.value, before_level, today, reason_code)
    return case_outcome(case, Action.RETURN)


def refer(session: Session, *, case_ref: str, actor: str, today: dt.date) -> CaseOutcome:
    """Refer to specialised care outside a review (for instance an acute safety concern)."""
    who = load_actor(session, actor)
    case = load_case(session, case_ref, who=who, action="refer")
    lc.next_state(CaseState(case.state), Action.ESCALATE, case_ref=case.ref)
    before_level = case.level
    case.level = lc.SPECIALISED_LEVEL
    end_delivery(session, case, today)
    left = left_text(leave_groups(session, case, today))
    transition(session, case, Action.ESCALATE, who, reason=place_text("referral", *left))
    _on_record(session, case, who, DecisionKind.ESCALATE.value, before_level, today)
    open_referral(session, case, who, today)
    return case_outcome(case, Action.ESCALATE)


def return_from_specialised(
    session: Session, *, case_ref: str, level: int, actor: str, today: dt.date, policy: Policy
) -> CaseOutcome:
    """Back from specialised care into an in-school arrangement at a chosen level; a new plan follows."""
    who = load_actor(session, actor)
    case = load_case(session, case_ref, who=who, action="return_from_specialised")
    lc.next_state(CaseState(case.state), Action.RETURN, case_ref=case.ref)
    lc.level_after(Action.RETURN, case.level, level, field="level")  # refuse a wrong level before any change
    referral = session.exec(
        select(Referral)
        .where(
            Referral.case_id == case.id,
            col(Referral.status).in_((ReferralStatus.SENT.value, ReferralStatus.ACCEPTED.value)),
        )
        .order_by(col(Referral.id).desc())
    ).first()
    if referral is not None:
        referral.status = ReferralStatus.RETURNED.value
        referral.returned_on = today
        session.add(referral)
    return return_to_school(session, case, who, level, today, policy, field="level")


def tell_district_team(
    session: Session,
    case: Case,
    municipality_code: str,
    kind: NoticeKind,
    due_on: dt.date,
    day: dt.date,
    *,
    school_days: int = 0,
) -> int:
    """Tell the district team of a municipality about a referral, once, in the caller's transaction.

    Who is told is the rule of `models.recipients` for the notice's kind.
    """
    settings = get_settings()
    team = session.exec(select(Professional).where(Professional.municipality_code == municipality_code)).all()
    staffing = Staffing(Staff(p.code, p.role, p.school_code, p.municipality_code) for p in team)
    parties = CaseParties(case.school_code, case.regie_holder_code, municipality_code=municipality_code)
    return queue_in_session(
        session,
        case,
        list(recipients.for_notice(kind, parties, staffing)),
        kind,
        due_on,
        day,
        **message_options(settings),
        school_days=school_days,
    )
