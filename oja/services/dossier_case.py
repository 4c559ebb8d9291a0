"""The dossier's case page: everything about one case, with its personal side (`case_view`).

It checks access first (`oja.services.dossier.case_in_scope`: the rule of `models.access`) and only reads: the web
layer logs the view. The one change made on the page, the goals' texts, is `oja.services.dossier.describe_goals`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.access import Actor
from models.errors import InvalidInput
from models.identity import age_on, required_consent
from models.lifecycle import CaseState
from models.tables import (
    AuditRecord,
    Case,
    Decision,
    Goal,
    Intervention,
    Municipality,
    Parent,
    Plan,
    Pupil,
    Referral,
    School,
    Signal,
)
from oja.config import Policy
from oja.services.calendar import school_calendar
from oja.services.consent import consent_records, latest_words
from oja.services.dossier import case_in_scope
from oja.services.dossier_reviews import FamilyViewLine, ReviewView, family_views, reviews
from oja.services.dossier_reviews import GasScore as GasScore  # re-exported: the case page's reviews
from oja.services.pupils import PARENT_PARTIES, parents_with_authority
from oja.services.reads import born, current_group, current_plan, key, pupil_of, ref_of
from oja.services.worklist import NEXT_STEPS, Due, worklists


@dataclasses.dataclass(frozen=True)
class PupilDetails:
    ref: str
    given_name: str
    family_name: str
    bsn: str | None
    onderwijsnummer: str | None  # a pupil without a BSN has one
    birth_date: dt.date
    age: int  # on `today`
    school_code: str
    school_name: str
    municipality_code: str  # of residence
    municipality_name: str


@dataclasses.dataclass(frozen=True)
class ParentLine:
    position: int  # 1 or 2
    party: str  # models.vocabulary.ConsentParty: ouder_1, ouder_2
    name: str
    has_authority: bool  # gezag: only then a consent party


@dataclasses.dataclass(frozen=True)
class SignalLine:
    received_on: dt.date
    source: str  # models.vocabulary.Source
    domains: tuple[str, ...]  # models.vocabulary.Domain
    urgency: str  # models.vocabulary.Urgency
    registered_by: str  # professional code


@dataclasses.dataclass(frozen=True)
class GoalView:
    number: int
    domain: str  # models.vocabulary.Domain
    measure: str  # models.vocabulary.Measure
    baseline: float
    target: float
    description: str | None  # the goal in words (personal data: the dossier only); None until described


@dataclasses.dataclass(frozen=True)
class InterventionLine:
    number: int
    provider_code: str
    professional_code: str | None
    hours_per_week: float
    setting: str  # models.vocabulary.Setting
    swv_share_pct: int  # the SWV's share; the rest the municipality of residence


@dataclasses.dataclass(frozen=True)
class PlanView:
    """The current plan: the newest version."""

    version: int
    start_on: dt.date
    planned_end_on: dt.date
    review_cadence_weeks: int
    regie_holder: str  # professional code
    drafted_by: str
    drafted_on: dt.date | None
    goals: tuple[GoalView, ...]
    interventions: tuple[InterventionLine, ...]


@dataclasses.dataclass(frozen=True)
class ConsentLine:
    party: str  # models.vocabulary.ConsentParty
    granted: bool
    recorded_on: dt.date
    recorded_by: str


@dataclasses.dataclass(frozen=True)
class ConsentView:
    """Consent to the current plan: by the pupil's age today (`models.identity.required_consent`), each party's
    latest word. `needed` and `missing` are empty once the case is closed."""

    needed: tuple[str, ...]
    granted: tuple[str, ...]
    refused: tuple[str, ...]
    missing: tuple[str, ...]  # needed, not (yet) granted: refused or not asked
    records: tuple[ConsentLine, ...]  # every word on this plan version, oldest first
    problem: str | None = None  # why `needed` cannot be told (Dutch): under 16 without a parent with authority


@dataclasses.dataclass(frozen=True)
class DecisionLine:
    decided_on: dt.date
    decided_by: str
    kind: str  # models.vocabulary.DecisionKind or OtherDecision
    from_level: int
    to_level: int
    reason_code: str | None  # EndReason, ChangeReason or ReturnReason
    recommended_kind: str | None  # what the engine recommended (after a review)
    recommendation_rule: str | None  # models.decisions.RecommendationRule
    override_reason: str | None  # why the professional chose otherwise: models.vocabulary.OverrideReason


@dataclasses.dataclass(frozen=True)
class ReferralLine:
    status: str  # models.vocabulary.ReferralStatus
    municipality_code: str
    referred_on: dt.date
    referred_by: str
    responded_on: dt.date | None
    responded_by: str | None
    returned_on: dt.date | None


@dataclasses.dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    actor: str  # professional code
    action: str  # models.lifecycle.AuditAction
    from_state: str | None
    to_state: str
    reason: str | None


@dataclasses.dataclass(frozen=True)
class CaseView:
    """Everything the case page shows, oldest first in every list."""

    case_ref: str
    school_code: str
    state: str  # models.lifecycle.CaseState
    level: int
    urgency: str  # models.vocabulary.Urgency
    opened_on: dt.date
    closed_on: dt.date | None
    end_reason: str | None
    regie_holder: str | None
    group_code: str | None  # the group arrangement the pupil has a place in now
    next_review_on: dt.date | None
    due_on: dt.date | None  # the next deadline, by the worklist's rules; None when there is none (closed)
    due: Due | None
    overdue: bool
    next_step: str  # the flow of the next step (`worklist.NEXT_STEPS`), e.g. "triage"
    pupil: PupilDetails
    parents: tuple[ParentLine, ...]
    signals: tuple[SignalLine, ...]
    plan: PlanView | None  # None before the first plan
    consent: ConsentView | None  # None without a plan
    reviews: tuple[ReviewView, ...]
    family_views: tuple[FamilyViewLine, ...]  # the pupil's and the parents' own views, for every review (issue 26)
    decisions: tuple[DecisionLine, ...]
    referrals: tuple[ReferralLine, ...]
    timeline: tuple[TimelineEntry, ...]  # the case's audit records
    activated_on: dt.date | None = None  # the day the arrangement starts (or started): maybe after today


def case_view(session: Session, actor: Actor, case_ref: str, *, today: dt.date, policy: Policy) -> CaseView:
    """The case page, after the access check (`AccessDenied` outside the actor's scope; `InvalidInput` for a
    malformed, unknown or destroyed one). Reads only."""
    case = case_in_scope(session, actor, case_ref, "case_view")
    ref = ref_of(case)
    pupil = pupil_of(session, case)
    school = session.exec(_query("school"), params={"code": pupil.school_code}).first()
    municipality = session.exec(_query("municipality"), params={"code": pupil.municipality_code}).first()
    parents = session.exec(_query("parents"), params={"pupil_id": pupil.id}).all()
    plan = current_plan(session, case)
    # the school worklist's row of this case, its deadlines read for this case only (not the school's every case)
    calendars = {case.school_code: school_calendar(session, case.school_code)}
    rows = worklists(
        session,
        school_codes=[case.school_code],
        today=today,
        policy=policy,
        calendars=calendars,
        case_ids=[key(case)],
    )
    row = next((r for r in rows[case.school_code] if r.case_ref == ref), None)
    return CaseView(
        case_ref=ref,
        school_code=case.school_code,
        state=case.state,
        level=case.level,
        urgency=case.urgency,
        opened_on=case.opened_on,
        closed_on=case.closed_on,
        end_reason=case.end_reason,
        regie_holder=case.regie_holder_code,
        group_code=current_group(session, case),
        next_review_on=case.next_review_on,
        due_on=row.due_on if row else None,
        due=row.due if row else None,
        overdue=row.overdue if row else False,
        next_step=row.next_step if row else NEXT_STEPS[CaseState(case.state)][0],
        activated_on=case.activated_on,
        pupil=PupilDetails(
            ref=pupil.ref,
            given_name=pupil.given_name,
            family_name=pupil.family_name,
            bsn=pupil.bsn,
            onderwijsnummer=pupil.onderwijsnummer,
            birth_date=born(pupil),
            age=age_on(born(pupil), today),
            school_code=pupil.school_code,
            school_name=school or "",
            municipality_code=pupil.municipality_code,
            municipality_name=municipality or "",
        ),
        parents=tuple(ParentLine(p.position, PARENT_PARTIES[p.position - 1], p.name, p.has_authority) for p in parents),
        signals=_signals(session, case),
        plan=_plan(session, plan) if plan is not None else None,
        consent=_consent(session, case, pupil, plan, today) if plan is not None else None,
        reviews=reviews(session, case),
        family_views=family_views(session, case),
        decisions=_decisions(session, case),
        referrals=_referrals(session, case),
        timeline=_timeline(session, ref),
    )


def _signals(session: Session, case: Case) -> tuple[SignalLine, ...]:
    return tuple(
        SignalLine(s.received_on, s.source, tuple(s.domains.split(",")), s.urgency, s.registered_by)
        for s in session.exec(_query("signals"), params={"case_id": case.id}).all()
    )


def _plan(session: Session, plan: Plan) -> PlanView:
    goals = session.exec(_query("goals"), params={"plan_id": plan.id}).all()
    helps = session.exec(_query("interventions"), params={"plan_id": plan.id})
    return PlanView(
        version=plan.version,
        start_on=plan.start_on,
        planned_end_on=plan.planned_end_on,
        review_cadence_weeks=plan.review_cadence_weeks,
        regie_holder=plan.regie_holder_code,
        drafted_by=plan.drafted_by,
        drafted_on=plan.drafted_on,
        goals=tuple(GoalView(g.number, g.domain, g.measure, g.baseline, g.target, g.description) for g in goals),
        interventions=tuple(
            InterventionLine(
                i.number, i.provider_code, i.professional_code, i.hours_per_week, i.setting, i.swv_share_pct
            )
            for i in helps.all()
        ),
    )


def _consent(session: Session, case: Case, pupil: Pupil, plan: Plan, today: dt.date) -> ConsentView:
    """Consent to the plan as `oja.services.status.case_status` tells it, with who refused and every record."""
    records = consent_records(session, plan)
    latest = latest_words(records)
    needed: frozenset[str] = frozenset()
    problem = None
    if case.state != CaseState.CLOSED.value:
        try:
            needed = required_consent(age_on(born(pupil), today), parents_with_authority(session, pupil))
        except InvalidInput as no_parent:
            problem = no_parent.rule
    granted = {party for party, word in latest.items() if word}
    return ConsentView(
        needed=tuple(sorted(needed)),
        granted=tuple(sorted(granted)),
        refused=tuple(sorted(party for party, word in latest.items() if not word)),
        missing=tuple(sorted(needed - granted)),
        records=tuple(ConsentLine(r.party, r.granted, r.recorded_on, r.recorded_by) for r in records),
        problem=problem,
    )


def _decisions(session: Session, case: Case) -> tuple[DecisionLine, ...]:
    return tuple(
        DecisionLine(
            d.decided_on,
            d.decided_by,
            d.kind,
            d.from_level,
            d.to_level,
            d.reason_code,
            d.recommended_kind,
            d.recommendation_rule,
            d.override_reason,
        )
        for d in session.exec(_query("decisions"), params={"case_id": case.id}).all()
    )


def _referrals(session: Session, case: Case) -> tuple[ReferralLine, ...]:
    return tuple(
        ReferralLine(
            r.status, r.municipality_code, r.referred_on, r.referred_by, r.responded_on, r.responded_by, r.returned_on
        )
        for r in session.exec(_query("referrals"), params={"case_id": case.id}).all()
    )


def _timeline(session: Session, case_ref: str) -> tuple[TimelineEntry, ...]:
    found = session.exec(_query("timeline"), params={"case_ref": case_ref}).all()
    return tuple(TimelineEntry(a.at, a.actor, a.action, a.from_state, a.to_state, a.reason) for a in found)


@functools.cache
def _query(name: str) -> Any:
    """The page's queries of the rows of one case, pupil or plan, each made once per process, the key a parameter
    (`oja.services.reads` tells why)."""
    case_id: sa.BindParameter[int] = sa.bindparam("case_id")
    plan_id: sa.BindParameter[int] = sa.bindparam("plan_id")
    queries: dict[str, Any] = {
        "parents": lambda: (
            select(Parent).where(Parent.pupil_id == sa.bindparam("pupil_id")).order_by(col(Parent.position))
        ),
        "signals": lambda: (
            select(Signal).where(Signal.case_id == case_id).order_by(col(Signal.received_on), col(Signal.id))
        ),
        "school": lambda: select(School.name).where(School.code == sa.bindparam("code")),
        "municipality": lambda: select(Municipality.name).where(Municipality.code == sa.bindparam("code")),
        "goals": lambda: select(Goal).where(Goal.plan_id == plan_id).order_by(col(Goal.number)),
        "interventions": lambda: (
            select(Intervention).where(Intervention.plan_id == plan_id).order_by(col(Intervention.number))
        ),
        "decisions": lambda: (
            select(Decision).where(Decision.case_id == case_id).order_by(col(Decision.decided_on), col(Decision.id))
        ),
        "referrals": lambda: (
            select(Referral).where(Referral.case_id == case_id).order_by(col(Referral.referred_on), col(Referral.id))
        ),
        "timeline": lambda: (
            select(AuditRecord)
            .where(AuditRecord.case_ref == sa.bindparam("case_ref"))
            .order_by(col(AuditRecord.at), col(AuditRecord.id))
        ),
    }
    return queries[name]()
