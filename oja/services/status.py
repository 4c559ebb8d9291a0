"""Where one case stands after a step, in codes: what the step's result on the run says comes next.

Read by the lifecycle flows after each change (`flows/result.py`): the consents still missing and from
whom, the goals with the numbers the review form asks for, after a review the engine's recommendation for
the decision still to take, the latest referral (its answer, who answers, the follow-up date), the steps that
can follow (`next_steps`), and the case's row of its school's worklist
(`oja.services.worklist`: the next deadline by the sweep's own rules). Codes and dates only, never
personal data: it is shown in Prefect.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import Session, col, select

from models.decisions import Recommendation
from models.identity import age_on, required_consent
from models.lifecycle import CaseState
from models.schooldays import add_school_days
from models.tables import Goal, Professional, Referral
from models.vocabulary import ReferralStatus, Role
from oja.config import Policy
from oja.services.calendar import school_calendar
from oja.services.consent import granted_parties
from oja.services.pupils import parents_with_authority
from oja.services.reads import born, current_group, current_plan, find_case, pupil_of
from oja.services.review import recommendation
from oja.services.worklist import NEXT_STEPS, WorklistRow, steps_now, worklist


@dataclasses.dataclass(frozen=True)
class GoalLine:
    number: int
    domain: str  # models.vocabulary.Domain
    measure: str  # models.vocabulary.Measure
    baseline: float
    target: float


@dataclasses.dataclass(frozen=True)
class ReferralLine:
    """The case's latest referral to specialised care, in codes and dates."""

    status: ReferralStatus
    municipality_code: str  # whose district team answers it
    referred_on: dt.date
    responded_on: dt.date | None
    check_on: dt.date | None  # accepted: when the regie holder checks with the district team (policy)
    district_team: tuple[str, ...]  # the professional codes of that district team


@dataclasses.dataclass(frozen=True)
class CaseStatus:
    """A case after a step: its state and what its next step needs, in codes and dates."""

    case_ref: str
    school_code: str
    state: str  # models.lifecycle.CaseState
    level: int
    regie_holder: str | None
    group_code: str | None  # the group arrangement the pupil has a place in now
    planned_end_on: dt.date | None
    consent_needed: tuple[str, ...]  # models.vocabulary.ConsentParty, every party the plan needs today
    consent_missing: tuple[str, ...]  # of those, the ones whose consent is not (yet) on record
    goals: tuple[GoalLine, ...]
    worklist: tuple[WorklistRow, ...]  # the school's worklist after the step
    row: WorklistRow | None  # this case's row in it: its next deadline (None once closed)
    recommendation: Recommendation | None = None  # reviewed: what the engine recommends deciding
    referral: ReferralLine | None = None  # the latest referral, if the case was ever referred
    activated_on: dt.date | None = None  # the day the arrangement starts (or started): a school day, maybe later
    as_of: dt.date | None = None  # the day this status is told for


def _steps(status: CaseStatus) -> tuple[tuple[str, ...], dict[str, dt.date]]:
    state = CaseState(status.state)
    next_step = status.row.next_step if status.row is not None else NEXT_STEPS.get(state, ("",))[0]
    return steps_now(state, next_step, starts_on=status.activated_on, today=status.as_of or dt.date.max)


def next_steps(status: CaseStatus) -> tuple[str, ...]:
    """The flows of the steps that can follow and succeed now, the usual one first: escalated, the district team's
    answer while the referral waits for it, else (accepted) the return to school; never the answer twice. A review
    or a measurement of an arrangement that starts later is not among them (`later_steps`)."""
    return _steps(status)[0]


def later_steps(status: CaseStatus) -> dict[str, dt.date]:
    """The steps that follow but cannot succeed yet, each with the day from which they can."""
    return _steps(status)[1]


def _referral(session: Session, case_id: int | None, school_code: str, policy: Policy) -> ReferralLine | None:
    latest = session.exec(select(Referral).where(Referral.case_id == case_id).order_by(col(Referral.id).desc())).first()
    if latest is None:
        return None
    check_on = None
    if latest.status == ReferralStatus.ACCEPTED.value and latest.responded_on is not None:
        calendar = school_calendar(session, school_code)
        check_on = add_school_days(latest.responded_on, policy.referral_check_school_days, calendar)
    team = session.exec(
        select(Professional.code).where(
            Professional.role == Role.DISTRICT_TEAM.value, Professional.municipality_code == latest.municipality_code
        )
    ).all()
    return ReferralLine(
        ReferralStatus(latest.status),
        latest.municipality_code,
        latest.referred_on,
        latest.responded_on,
        check_on,
        tuple(sorted(team)),
    )


def case_status(session: Session, *, case_ref: str, today: dt.date, policy: Policy) -> CaseStatus:
    """Where the case stands now: consent and goals from its current plan, its school's worklist."""
    case = find_case(session, case_ref)
    plan = current_plan(session, case)
    needed: frozenset[str] = frozenset()
    missing: set[str] = set()
    goals: tuple[GoalLine, ...] = ()
    if plan is not None and case.state != CaseState.CLOSED.value:
        pupil = pupil_of(session, case)
        if pupil.birth_date is not None:  # a destroyed dossier has no one left to ask
            needed = required_consent(age_on(born(pupil), today), parents_with_authority(session, pupil))
            missing = set(needed) - granted_parties(session, plan)
        stored = session.exec(select(Goal).where(Goal.plan_id == plan.id).order_by(col(Goal.number))).all()
        goals = tuple(GoalLine(g.number, g.domain, g.measure, g.baseline, g.target) for g in stored)
    rows = tuple(worklist(session, school_code=case.school_code, today=today, policy=policy))
    return CaseStatus(
        case_ref=case_ref,
        school_code=case.school_code,
        state=case.state,
        level=case.level,
        regie_holder=case.regie_holder_code,
        group_code=current_group(session, case),
        planned_end_on=plan.planned_end_on if plan is not None else None,
        consent_needed=tuple(sorted(needed)),
        consent_missing=tuple(sorted(missing)),
        goals=goals,
        worklist=rows,
        row=next((r for r in rows if r.case_ref == case_ref), None),
        recommendation=(
            recommendation(session, case_ref=case_ref, policy=policy)
            if case.state == CaseState.REVIEWED.value
            else None
        ),
        referral=_referral(session, case.id, case.school_code, policy),
        activated_on=case.activated_on,
        as_of=today,
    )
