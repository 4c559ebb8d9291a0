"""Use cases: one function per professional action, plain values in, a session last.

Each function checks everything before it writes, then changes the case, writes
its audit record and any related rows in the caller's transaction
(`oja.db.unit_of_work`), so a refusal leaves nothing behind. The functions
return `CaseOutcome`: case reference and codes only, safe to show in Prefect.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, func, select

from models import access
from models import lifecycle as lc
from models.decisions import DecisionPolicy, GoalSeries, Recommendation, ReviewFacts, recommend
from models.errors import AccessDenied, IllegalTransition, InvalidInput, UnknownReference
from models.identity import (
    PUPIL,
    age_on,
    check_consent,
    required_consent,
    validate_birth_date,
    validate_bsn,
    validate_onderwijsnummer,
)
from models.lifecycle import Action, CaseState
from models.schooldays import SchoolCalendar, add_school_days, add_school_weeks, next_school_day
from models.tables import (
    AuditRecord,
    Case,
    ConsentRecord,
    Decision,
    Goal,
    GoalScore,
    GroupArrangement,
    GroupMember,
    Intervention,
    Measurement,
    Municipality,
    Parent,
    Plan,
    Professional,
    Provider,
    Pupil,
    Referral,
    Review,
    School,
    Signal,
    utcnow,
)
from models.vocabulary import (
    ChangeReason,
    ConsentParty,
    DecisionKind,
    Domain,
    EndReason,
    HolidayRegion,
    Measure,
    NoActionReason,
    OverrideReason,
    Role,
    Setting,
    Source,
    TriageOutcome,
    Urgency,
    View,
)
from oja.calendar import school_calendar
from oja.config import Policy

CASE_REF = re.compile(r"^OJA-\d{4}-\d{6}$")
PUPIL_REF = re.compile(r"^LL-\d{6}$")
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,11}$")
DEFAULT_POLICY = Policy()
URGENCY_RANK = {Urgency.NORMAL.value: 0, Urgency.HIGH.value: 1, Urgency.ACUTE.value: 2}


@dataclasses.dataclass(frozen=True)
class CaseOutcome:
    """What a use case did, in codes only: safe for Prefect run results and logs."""

    case_ref: str
    state: str
    level: int
    action: str
    next_review_on: dt.date | None = None
    joined: bool = False
    review_id: int | None = None  # the review recorded (record_review only): its decision is awaited

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["next_review_on"] = self.next_review_on.isoformat() if self.next_review_on else None
        if self.review_id is None:
            del d["review_id"]
        return d


@dataclasses.dataclass(frozen=True)
class GoalSpec:
    domain: str
    measure: str = Measure.GAS.value
    baseline: float = -1
    target: float = 0


@dataclasses.dataclass(frozen=True)
class InterventionSpec:
    provider_code: str
    hours_per_week: float
    setting: str = Setting.INDIVIDUAL.value
    swv_share_pct: int = 50
    professional_code: str | None = None


@dataclasses.dataclass(frozen=True)
class ParentSpec:
    name: str
    has_authority: bool = True


# ---- validation helpers ---------------------------------------------------------------------


def _choice(value: object, enum: type, field: str) -> str:
    raw = getattr(value, "value", value)
    allowed = [m.value for m in enum]
    if raw not in allowed:
        raise InvalidInput(field, f"must be one of: {', '.join(allowed)}")
    return raw


def clean_text(value: str, field: str, *, max_length: int = 100) -> str:
    """Printable text without control characters, trimmed, not empty, within the maximum length."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidInput(field, "must not be empty")
    if len(text) > max_length:
        raise InvalidInput(field, f"at most {max_length} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise InvalidInput(field, "must not contain control or invisible characters")
    return text


def _code(value: str, field: str) -> str:
    code = (value or "").strip().upper()
    if not CODE.match(code):
        raise InvalidInput(field, "a code is 2-12 capital letters, digits or hyphens")
    return code


def _not_future(day: dt.date, today: dt.date, field: str) -> dt.date:
    if day > today:
        raise InvalidInput(field, f"cannot be after today ({today.isoformat()})")
    return day


def _not_past(day: dt.date, today: dt.date, field: str) -> dt.date:
    if day < today:
        raise InvalidInput(field, f"cannot be before today ({today.isoformat()})")
    return day


def _get(session: Session, model: type, key: str, field: str, kind: str):
    obj = session.get(model, key)
    if obj is None:
        raise UnknownReference(field, kind, key)
    return obj


def _actor(session: Session, code: str, field: str = "actor") -> Professional:
    return _get(session, Professional, _code(code, field), field, "professional")


def _case(
    session: Session,
    ref: str,
    field: str = "case_ref",
    *,
    who: Professional | None = None,
    action: str = "",
    lock: bool = True,
) -> Case:
    """The case, locked for the change (`lock=False` for a read); refused when `who` may not take `action` on it."""
    ref = (ref or "").strip().upper()
    if not CASE_REF.match(ref):
        raise InvalidInput(field, "a case reference looks like OJA-2026-000123")
    query = select(Case).where(Case.ref == ref)
    case = session.exec(query.with_for_update() if lock else query).first()
    if case is None:
        raise UnknownReference(field, "case", ref)
    if who is not None:  # an action on the case (reading its summary is allowed on a tombstone too)
        destroyed = session.exec(select(Pupil.destroyed_on).where(Pupil.id == case.pupil_id)).one()
        if destroyed is not None:
            raise InvalidInput(field, f"the dossier of case {ref} was destroyed on {destroyed.isoformat()}")
        access.check(_as_actor(who), case_scope(session, case), action)
    return case


def _as_actor(who: Professional) -> access.Actor:
    return access.Actor(who.code, who.role, who.school_code, who.provider_code, who.municipality_code)


def case_scope(session: Session, case: Case) -> access.CaseScope:
    """What decides who may act on the case: its school, where the pupil lives, who delivers."""
    municipality = session.exec(select(Pupil.municipality_code).where(Pupil.id == case.pupil_id)).one()
    plan = _current_plan(session, case)
    providers = (
        frozenset(session.exec(select(Intervention.provider_code).where(Intervention.plan_id == plan.id)).all())
        if plan is not None
        else frozenset()
    )
    return access.CaseScope(case.ref, case.school_code, municipality, providers)


def _pupil(session: Session, ref: str, field: str = "pupil_ref") -> Pupil:
    ref = (ref or "").strip().upper()
    if not PUPIL_REF.match(ref):
        raise InvalidInput(field, "a pupil reference looks like LL-000123")
    pupil = session.exec(select(Pupil).where(Pupil.ref == ref)).first()
    if pupil is None:
        raise UnknownReference(field, "pupil", ref)
    if pupil.destroyed_on is not None:
        raise InvalidInput(field, f"the dossier of {ref} was destroyed on {pupil.destroyed_on.isoformat()}")
    return pupil


def _calendar(session: Session, case: Case) -> SchoolCalendar:
    """The case's school's calendar: its holiday region and its own closing days."""
    return school_calendar(session, case.school_code)


def _current_plan(session: Session, case: Case) -> Plan | None:
    return session.exec(select(Plan).where(Plan.case_id == case.id).order_by(Plan.version.desc())).first()


def _transition(
    session: Session,
    case: Case,
    action: Action,
    actor: Professional,
    *,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> CaseState:
    """Move the case to the state after `action` and write its one audit record, or refuse.

    Every record says who (the professional's code), when, from which state to which, and why: the
    reason given, or else the action and the actor's role.
    """
    before = CaseState(case.state)
    after = lc.next_state(before, action, case_ref=case.ref)
    case.state = after.value
    case.updated_at = at or utcnow()
    session.add(case)
    session.add(
        AuditRecord(
            case_ref=case.ref,
            actor=actor.code,
            at=at or utcnow(),
            action=action.value,
            from_state=before.value,
            to_state=after.value,
            reason=(reason or f"{action.value} ({actor.role})")[:200],
        )
    )
    return after


REGISTER_SIGNAL = "register_signal"  # the audit action that opens a case (not a transition between states)


def _outcome(case: Case, action: Action | str, *, joined: bool = False) -> CaseOutcome:
    return CaseOutcome(case.ref, case.state, case.level, getattr(action, "value", action), case.next_review_on, joined)


# ---- reference data ---------------------------------------------------------------------------


def upsert_municipality(session: Session, *, code: str, name: str, district_team_email: str | None = None) -> None:
    code = (code or "").strip().upper()
    if not re.match(r"^GM\d{4}$", code):
        raise InvalidInput("code", "a municipality code is GM and 4 digits (CBS), e.g. GM0164")
    obj = session.get(Municipality, code) or Municipality(code=code, name="")
    obj.name = clean_text(name, "name")
    obj.district_team_email = district_team_email
    session.add(obj)


def upsert_school(session: Session, *, code: str, name: str, holiday_region: str, municipality_code: str) -> None:
    code = _code(code, "code")
    _get(session, Municipality, municipality_code, "municipality_code", "municipality")
    obj = session.get(School, code) or School(code=code, name="", holiday_region="", municipality_code="")
    obj.name = clean_text(name, "name")
    obj.holiday_region = _choice(holiday_region, HolidayRegion, "holiday_region")
    obj.municipality_code = municipality_code
    session.add(obj)


def upsert_provider(session: Session, *, code: str, name: str) -> None:
    code = _code(code, "code")
    obj = session.get(Provider, code) or Provider(code=code, name="")
    obj.name = clean_text(name, "name")
    session.add(obj)


def upsert_professional(
    session: Session,
    *,
    code: str,
    name: str,
    role: str,
    email: str | None = None,
    school_code: str | None = None,
    provider_code: str | None = None,
    municipality_code: str | None = None,
) -> None:
    code = _code(code, "code")
    role = _choice(role, Role, "role")
    if school_code:
        _get(session, School, school_code, "school_code", "school")
    if provider_code:
        _get(session, Provider, provider_code, "provider_code", "provider")
    if municipality_code:
        _get(session, Municipality, municipality_code, "municipality_code", "municipality")
    obj = session.get(Professional, code) or Professional(code=code, name="", role=role)
    obj.name = clean_text(name, "name")
    obj.role = role
    obj.email = email
    obj.school_code = school_code
    obj.provider_code = provider_code
    obj.municipality_code = municipality_code
    session.add(obj)


def upsert_group(
    session: Session,
    *,
    code: str,
    provider_code: str,
    professional_code: str,
    capacity: int,
    hours_per_week: float,
    school_code: str | None = None,
) -> None:
    """A group arrangement: one professional, a number of places, hours a week for the whole group."""
    code = _code(code, "code")
    provider = _get(session, Provider, _code(provider_code, "provider_code"), "provider_code", "provider")
    prof = _actor(session, professional_code, "professional_code")
    if prof.provider_code != provider.code:
        raise InvalidInput("professional_code", f"professional {prof.code} does not work for provider {provider.code}")
    if school_code:
        _get(session, School, school_code, "school_code", "school")
    if not 2 <= capacity <= 30:
        raise InvalidInput("capacity", "a group has 2 to 30 places")
    if not 0 < hours_per_week <= 40:
        raise InvalidInput("hours_per_week", "more than 0 and at most 40")
    members = _group_members(session, code)
    if members > capacity:
        raise InvalidInput("capacity", f"the group has {members} members now")
    group = session.get(GroupArrangement, code) or GroupArrangement(
        code=code, provider_code=provider.code, professional_code=prof.code, capacity=capacity, hours_per_week=0
    )
    group.provider_code, group.professional_code, group.school_code = provider.code, prof.code, school_code
    group.capacity, group.hours_per_week = capacity, float(hours_per_week)
    session.add(group)


def _group_members(session: Session, code: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(GroupMember)
        .where(GroupMember.group_code == code, GroupMember.left_on.is_(None))
    ).one()


def _join_group(session: Session, case: Case, code: str, today: dt.date) -> None:
    group = session.exec(
        select(GroupArrangement).where(GroupArrangement.code == _code(code, "group_code")).with_for_update()
    ).first()
    if group is None:
        raise UnknownReference("group_code", "group arrangement", code)
    if group.school_code and group.school_code != case.school_code:
        raise InvalidInput("group_code", f"group {group.code} is for school {group.school_code}")
    if _group_members(session, group.code) >= group.capacity:
        raise InvalidInput("group_code", f"group {group.code} is full ({group.capacity} places)")
    session.add(GroupMember(group_code=group.code, case_id=case.id, joined_on=today))


def _leave_groups(session: Session, case: Case, today: dt.date) -> None:
    for member in session.exec(
        select(GroupMember).where(GroupMember.case_id == case.id, GroupMember.left_on.is_(None))
    ).all():
        member.left_on = today
        session.add(member)


# ---- pupils ----------------------------------------------------------------------------------


def register_pupil(
    session: Session,
    *,
    given_name: str,
    family_name: str,
    birth_date: dt.date,
    school_code: str,
    municipality_code: str,
    bsn: str | None = None,
    onderwijsnummer: str | None = None,
    parents: Sequence[ParentSpec] = (),
    today: dt.date,
) -> str:
    """Register a pupil's personal details; returns the pseudonymous pupil reference."""
    given = clean_text(given_name, "given_name")
    family = clean_text(family_name, "family_name")
    validate_birth_date(birth_date, today)
    if not bsn and not onderwijsnummer:
        raise InvalidInput("bsn", "a pupil needs a BSN or, without one, an onderwijsnummer")
    number = validate_bsn(bsn) if bsn else None
    onr = validate_onderwijsnummer(onderwijsnummer) if onderwijsnummer else None
    _get(session, School, school_code, "school_code", "school")
    _get(session, Municipality, municipality_code, "municipality_code", "municipality")
    if len(parents) > 2:
        raise InvalidInput("parents", "at most two parents (ouder_1, ouder_2)")
    if number and session.exec(select(Pupil.ref).where(Pupil.bsn == number)).first():
        raise InvalidInput("bsn", "a pupil with this BSN is already registered")
    if onr and session.exec(select(Pupil.ref).where(Pupil.onderwijsnummer == onr)).first():
        raise InvalidInput("onderwijsnummer", "a pupil with this onderwijsnummer is already registered")
    pupil = Pupil(
        ref="LL-PENDING",
        given_name=given,
        family_name=family,
        bsn=number,
        onderwijsnummer=onr,
        birth_date=birth_date,
        school_code=school_code,
        municipality_code=municipality_code,
    )
    session.add(pupil)
    session.flush()
    pupil.ref = f"LL-{pupil.id:06d}"
    for position, parent in enumerate(parents, start=1):
        session.add(
            Parent(
                pupil_id=pupil.id,
                position=position,
                name=clean_text(parent.name, f"parents[{position}].name"),
                has_authority=parent.has_authority,
            )
        )
    session.add(pupil)
    return pupil.ref


def _parents_with_authority(session: Session, pupil: Pupil) -> list[str]:
    rows = session.exec(select(Parent).where(Parent.pupil_id == pupil.id, Parent.has_authority)).all()
    return [f"ouder_{p.position}" for p in rows]


# ---- the lifecycle ---------------------------------------------------------------------------


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
    who = _actor(session, actor)
    pupil = _pupil(session, pupil_ref)
    school = _get(session, School, _code(school_code, "school_code"), "school_code", "school")
    source = _choice(source, Source, "source")
    urgency = _choice(urgency, Urgency, "urgency")
    if not domains:
        raise InvalidInput("domains", "name at least one concern domain")
    codes = sorted({_choice(d, Domain, "domains") for d in domains})
    _not_future(received_on, today, "received_on")
    if received_on < today - dt.timedelta(days=366):
        raise InvalidInput("received_on", "a signal is registered within a year of its receipt")

    open_case = session.exec(
        select(Case).where(Case.pupil_id == pupil.id, Case.state != CaseState.CLOSED.value).with_for_update()
    ).first()
    scope = (
        case_scope(session, open_case)
        if open_case is not None
        else access.CaseScope(pupil.ref, school.code, pupil.municipality_code)
    )
    access.check(_as_actor(who), scope, "register_signal")
    if open_case is not None:
        _transition(session, open_case, Action.JOIN_SIGNAL, who, reason=f"source={source};urgency={urgency}")
        if URGENCY_RANK[urgency] > URGENCY_RANK[open_case.urgency]:
            open_case.urgency = urgency
        at_once = urgency == Urgency.ACUTE.value or Domain.SAFETY.value in codes  # as for a new case, below
        if open_case.state == CaseState.AWAITING_TRIAGE.value and at_once:
            due = next_school_day(received_on, school_calendar(session, school.code))
            open_case.triage_due_on = min(open_case.triage_due_on or due, due)
        session.add(
            Signal(
                case_id=open_case.id,
                source=source,
                domains=",".join(codes),
                urgency=urgency,
                received_on=received_on,
                registered_by=who.code,
            )
        )
        return _outcome(open_case, Action.JOIN_SIGNAL, joined=True)

    calendar = school_calendar(session, school.code)
    if urgency == Urgency.ACUTE.value or Domain.SAFETY.value in codes:
        due = next_school_day(received_on, calendar)  # routed at once: the same school day
    else:
        due = add_school_days(received_on, policy.triage_norm_school_days, calendar)
    case = Case(
        pupil_id=pupil.id,
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
        raise InvalidInput("pupil_ref", "another signal for this pupil is being registered; try again") from None
    case.ref = f"OJA-{received_on.year}-{case.id:06d}"
    session.add(
        Signal(
            case_id=case.id,
            source=source,
            domains=",".join(codes),
            urgency=urgency,
            received_on=received_on,
            registered_by=who.code,
        )
    )
    session.add(
        AuditRecord(
            case_ref=case.ref,
            actor=who.code,
            action=REGISTER_SIGNAL,
            from_state=None,
            to_state=case.state,
            reason=f"source={source};urgency={urgency}",
        )
    )
    session.flush()
    return _outcome(case, REGISTER_SIGNAL)


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
    policy: Policy = DEFAULT_POLICY,
) -> CaseOutcome:
    """The core team's triage: the school's own support, an OJA at level 1-3, specialised care, or no action."""
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="triage")
    outcome = _choice(outcome, TriageOutcome, "outcome")
    action = TRIAGE_ACTIONS[outcome]
    lc.next_state(CaseState(case.state), action, case_ref=case.ref)  # refuse before any check of detail
    reason = None
    if action is Action.TRIAGE_NO_ACTION:
        if not no_action_reason:
            raise InvalidInput("no_action_reason", "'geen_actie' needs a reason")
        reason = _choice(no_action_reason, NoActionReason, "no_action_reason")
        case.no_action_reason = reason
    elif no_action_reason:
        raise InvalidInput("no_action_reason", "a reason for no action goes with outcome 'geen_actie' only")
    if action is not Action.TRIAGE_OJA and level is not None:
        raise InvalidInput("level", "a level is chosen with outcome 'oja' only")
    case.level = lc.level_after(action, case.level, level, field="level")
    case.triage_outcome = outcome
    _transition(session, case, action, who, reason=reason or outcome)
    if action in (Action.TRIAGE_BASIC, Action.TRIAGE_NO_ACTION):
        case.closed_on = today
        case.end_reason = EndReason.BASIC_SUPPORT.value if action is Action.TRIAGE_BASIC else reason
    if action is Action.TRIAGE_SPECIALISED:
        _refer(session, case, who, today)
    if action is Action.TRIAGE_OJA:
        case.plan_due_on = add_school_days(today, policy.plan_deadline_school_days, _calendar(session, case))
    return _outcome(case, action)


def draft_plan(
    session: Session,
    *,
    case_ref: str,
    goals: Sequence[GoalSpec],
    interventions: Sequence[InterventionSpec],
    regie_holder: str,
    start_on: dt.date,
    planned_end_on: dt.date,
    actor: str,
    today: dt.date,
    policy: Policy,
    review_cadence_weeks: int | None = None,
) -> CaseOutcome:
    """Draft (a new version of) the joint plan. Consent given to an earlier version lapses."""
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="draft_plan")
    lc.next_state(CaseState(case.state), Action.DRAFT_PLAN, case_ref=case.ref)
    regie = _actor(session, regie_holder, "regie_holder")
    _not_past(start_on, today, "start_on")
    if planned_end_on <= start_on:
        raise InvalidInput("planned_end_on", "must be after start_on")
    if planned_end_on > start_on + dt.timedelta(weeks=policy.max_plan_weeks):
        raise InvalidInput("planned_end_on", f"an arrangement is temporary: at most {policy.max_plan_weeks} weeks")
    cadence = review_cadence_weeks if review_cadence_weeks is not None else policy.review_cadence_weeks
    if not 1 <= cadence <= 26:
        raise InvalidInput("review_cadence_weeks", "between 1 and 26 school weeks")
    if not goals:
        raise InvalidInput("goals", "a plan has at least one goal")
    if not interventions:
        raise InvalidInput("interventions", "a plan has at least one intervention")
    if len(goals) > 10:
        raise InvalidInput("goals", "at most 10 goals")
    if len(interventions) > 10:
        raise InvalidInput("interventions", "at most 10 interventions")
    checked_goals = []
    for i, g in enumerate(goals, start=1):
        domain = _choice(g.domain, Domain, f"goals[{i}].domain")
        measure = _choice(g.measure, Measure, f"goals[{i}].measure")
        if measure == Measure.GAS.value:
            for name, value in (("baseline", g.baseline), ("target", g.target)):
                if not -2 <= value <= 2:
                    raise InvalidInput(f"goals[{i}].{name}", "a GAS level is -2 to +2")
        checked_goals.append(
            Goal(
                plan_id=0, number=i, domain=domain, measure=measure, baseline=float(g.baseline), target=float(g.target)
            )
        )
    checked_interventions = []
    for i, iv in enumerate(interventions, start=1):
        provider = _get(
            session,
            Provider,
            _code(iv.provider_code, f"interventions[{i}].provider_code"),
            f"interventions[{i}].provider_code",
            "provider",
        )
        prof_code = None
        if iv.professional_code:
            prof = _actor(session, iv.professional_code, f"interventions[{i}].professional_code")
            if prof.provider_code != provider.code:
                raise InvalidInput(
                    f"interventions[{i}].professional_code",
                    f"professional {prof.code} does not work for provider {provider.code}",
                )
            prof_code = prof.code
        if not 0 < iv.hours_per_week <= policy.max_hours_per_week:
            raise InvalidInput(
                f"interventions[{i}].hours_per_week",
                f"more than 0 and at most {policy.max_hours_per_week:g} hours a week",
            )
        if not 0 <= iv.swv_share_pct <= 100:
            raise InvalidInput(f"interventions[{i}].swv_share_pct", "a percentage from 0 to 100")
        checked_interventions.append(
            Intervention(
                plan_id=0,
                number=i,
                provider_code=provider.code,
                professional_code=prof_code,
                hours_per_week=float(iv.hours_per_week),
                setting=_choice(iv.setting, Setting, f"interventions[{i}].setting"),
                swv_share_pct=int(iv.swv_share_pct),
            )
        )

    previous = _current_plan(session, case)
    plan = Plan(
        case_id=case.id,
        version=(previous.version + 1) if previous else 1,
        start_on=start_on,
        planned_end_on=planned_end_on,
        review_cadence_weeks=cadence,
        regie_holder_code=regie.code,
        drafted_by=who.code,
        drafted_on=today,
    )
    session.add(plan)
    session.flush()
    for row in (*checked_goals, *checked_interventions):
        row.plan_id = plan.id
        session.add(row)
    case.regie_holder_code = regie.code
    case.review_cadence_weeks = cadence
    case.plan_due_on = None
    case.consent_due_on = add_school_days(today, policy.consent_deadline_school_days, _calendar(session, case))
    _transition(session, case, Action.DRAFT_PLAN, who, reason=f"plan v{plan.version}")
    return _outcome(case, Action.DRAFT_PLAN)


def _granted(session: Session, plan: Plan) -> set[str]:
    """Parties whose latest word on this plan version is consent."""
    rows = session.exec(select(ConsentRecord).where(ConsentRecord.plan_id == plan.id).order_by(ConsentRecord.id)).all()
    latest: dict[str, bool] = {}
    for r in rows:
        latest[r.party] = r.granted
    return {party for party, granted in latest.items() if granted}


def record_consent(
    session: Session,
    *,
    case_ref: str,
    party: str,
    granted: bool,
    actor: str,
    recorded_on: dt.date,
    today: dt.date,
) -> CaseOutcome:
    """Record one party's consent to the current plan; when complete, the case is ready to start."""
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="record_consent")
    lc.next_state(CaseState(case.state), Action.RECORD_CONSENT, case_ref=case.ref)
    party = _choice(party, ConsentParty, "party")
    _not_future(recorded_on, today, "recorded_on")
    plan = _current_plan(session, case)
    if plan.drafted_on and recorded_on < plan.drafted_on:
        raise InvalidInput("recorded_on", "consent cannot predate the plan it is given to")
    pupil = session.get(Pupil, case.pupil_id)
    parents = _parents_with_authority(session, pupil)
    if party != PUPIL and party not in parents:
        raise InvalidInput("party", f"{party} is not a parent with authority (gezag) for this pupil")
    session.add(
        ConsentRecord(
            case_id=case.id,
            plan_id=plan.id,
            party=party,
            granted=granted,
            recorded_on=recorded_on,
            recorded_by=who.code,
        )
    )
    session.flush()
    given = f"{party}={'granted' if granted else 'refused'} plan v{plan.version}"
    needed = required_consent(age_on(pupil.birth_date, recorded_on), parents)
    if needed <= _granted(session, plan):  # the last consent needed: one transition, one audit record
        _transition(
            session, case, Action.CONSENT_COMPLETE, who, reason=f"{given}; complete: {','.join(sorted(needed))}"
        )
        return _outcome(case, Action.CONSENT_COMPLETE)
    _transition(session, case, Action.RECORD_CONSENT, who, reason=given)
    return _outcome(case, Action.RECORD_CONSENT)


def activate(session: Session, *, case_ref: str, actor: str, today: dt.date) -> CaseOutcome:
    """Start the arrangement: only with the consent the pupil's age requires today."""
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="activate")
    pupil = session.get(Pupil, case.pupil_id)
    plan = _current_plan(session, case)
    if case.state == CaseState.PLAN_DRAFTED.value:  # say what is missing, not just the state
        check_consent(
            age_on(pupil.birth_date, today),
            _parents_with_authority(session, pupil),
            _granted(session, plan),
            case_ref=case.ref,
        )
    lc.next_state(CaseState(case.state), Action.ACTIVATE, case_ref=case.ref)
    # the pupil may have turned 12 or 16 since consent was complete
    check_consent(
        age_on(pupil.birth_date, today),
        _parents_with_authority(session, pupil),
        _granted(session, plan),
        case_ref=case.ref,
    )
    region = _calendar(session, case)
    start = next_school_day(max(plan.start_on, today), region)
    case.activated_on = start
    case.next_review_on = add_school_weeks(start, plan.review_cadence_weeks, region)
    case.consent_due_on = None
    _transition(session, case, Action.ACTIVATE, who, reason=f"plan v{plan.version}")
    return _outcome(case, Action.ACTIVATE)


def record_review(
    session: Session,
    *,
    case_ref: str,
    held_on: dt.date,
    actor: str,
    today: dt.date,
    gas_scores: dict[int, int] | None = None,
    attendance_pct: int | None = None,
    wellbeing: int | None = None,
    satisfaction: int | None = None,
    pupil_view: str | None = None,
    parent_view: str | None = None,
    safety_concern: bool = False,
    delivered_as_planned: bool = True,
) -> CaseOutcome:
    """Record a review of an active arrangement: GAS per goal and how things are going."""
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="record_review")
    lc.next_state(CaseState(case.state), Action.RECORD_REVIEW, case_ref=case.ref)
    _not_future(held_on, today, "held_on")
    if case.activated_on and held_on < case.activated_on:
        raise InvalidInput("held_on", f"a review cannot predate the start of the arrangement ({case.activated_on})")
    for name, value, lo, hi in (
        ("attendance_pct", attendance_pct, 0, 100),
        ("wellbeing", wellbeing, 1, 10),
        ("satisfaction", satisfaction, 1, 10),
    ):
        if value is not None and not lo <= value <= hi:
            raise InvalidInput(name, f"from {lo} to {hi}")
    views = {
        n: _choice(v, View, n) if v is not None else None
        for n, v in (("pupil_view", pupil_view), ("parent_view", parent_view))
    }
    plan = _current_plan(session, case)
    goals = {g.number: g for g in session.exec(select(Goal).where(Goal.plan_id == plan.id)).all()}
    for number, score in (gas_scores or {}).items():
        if number not in goals:
            raise InvalidInput("gas_scores", f"the plan has no goal {number} (goals: {sorted(goals)})")
        if not isinstance(score, int) or not -2 <= score <= 2:
            raise InvalidInput(f"gas_scores[{number}]", "a GAS score is -2, -1, 0, +1 or +2")
    review = Review(
        case_id=case.id,
        plan_id=plan.id,
        held_on=held_on,
        attendance_pct=attendance_pct,
        wellbeing=wellbeing,
        satisfaction=satisfaction,
        safety_concern=safety_concern,
        delivered_as_planned=delivered_as_planned,
        recorded_by=who.code,
        **views,
    )
    session.add(review)
    session.flush()
    for number, score in sorted((gas_scores or {}).items()):
        session.add(GoalScore(review_id=review.id, goal_id=goals[number].id, gas=score))
    _transition(session, case, Action.RECORD_REVIEW, who, reason="safety" if safety_concern else None)
    return dataclasses.replace(_outcome(case, Action.RECORD_REVIEW), review_id=review.id)


def awaiting_decision(session: Session, *, case_ref: str, review_id: int) -> bool:
    """Whether the case still waits for the decision on this review: reviewed, this its latest review, undecided.

    False once the case was decided (through `besluit-nemen` or otherwise), closed, or reviewed again.
    The case is locked: a decision being committed is waited for, so no reminder follows it.
    """
    case = _case(session, case_ref)
    if case.state != CaseState.REVIEWED.value:
        return False
    latest = session.exec(select(Review.id).where(Review.case_id == case.id).order_by(Review.id.desc())).first()
    decided = session.exec(select(Decision.id).where(Decision.review_id == review_id)).first()
    return latest == review_id and decided is None


DECISION_ACTIONS = {
    DecisionKind.CONTINUE.value: Action.CONTINUE,
    DecisionKind.SCALE_UP.value: Action.SCALE_UP,
    DecisionKind.SCALE_DOWN.value: Action.SCALE_DOWN,
    DecisionKind.CLOSE.value: Action.CLOSE,
    DecisionKind.ESCALATE.value: Action.ESCALATE,
}


def decide(
    session: Session,
    *,
    case_ref: str,
    kind: str,
    actor: str,
    today: dt.date,
    new_level: int | None = None,
    reason_code: str | None = None,
    recommendation: Recommendation | None = None,
    override_reason: str | None = None,
    group_code: str | None = None,
    end_reason: str | None = None,
    change_reason: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> CaseOutcome:
    """Carry out a decision: continue, scale up or down, close with a reason, or escalate.

    Closing takes an ending reason (`end_reason`), scaling a change reason (`change_reason`), as on the
    form; `reason_code` is either, for callers that have one code.

    Scaling down to level 1 can place the pupil in a group arrangement (`group_code`), if it has room;
    leaving level 1 (scaling up, closing, escalating) gives the place back.

    With the engine's `recommendation`, a different decision is an override and needs an `override_reason`.
    """
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="decide")
    kind = _choice(kind, DecisionKind, "kind")
    if recommendation is not None:
        same = kind == recommendation.kind.value and (new_level is None or new_level == recommendation.new_level)
        if not same and not override_reason:
            raise InvalidInput(
                "override_reason",
                f"the recommendation is '{recommendation.kind.value}': deciding otherwise needs a reason",
            )
        if same:
            override_reason = None
            new_level = recommendation.new_level
            reason_code = reason_code or recommendation.reason_code
    if override_reason is not None:
        override_reason = _choice(override_reason, OverrideReason, "override_reason")
    action = DECISION_ACTIONS[kind]
    lc.next_state(CaseState(case.state), action, case_ref=case.ref)
    if action is Action.CLOSE:
        if change_reason:
            raise InvalidInput("change_reason", "closing takes an ending reason (end_reason), not a change reason")
        if not (end_reason or reason_code):
            raise InvalidInput("end_reason", "closing needs an ending reason")
        reason = _choice(end_reason or reason_code, EndReason, "end_reason")
    elif action in (Action.SCALE_UP, Action.SCALE_DOWN):
        if end_reason:
            raise InvalidInput("end_reason", "an ending reason goes with closing only")
        default = ChangeReason.EXTENSION if action is Action.SCALE_UP else ChangeReason.SHORTENING
        reason = _choice(change_reason or reason_code or default.value, ChangeReason, "change_reason")
    elif end_reason or change_reason or reason_code:
        field = "end_reason" if end_reason else "change_reason" if change_reason else "reason_code"
        raise InvalidInput(field, f"decision '{kind}' takes no reason code")
    else:
        reason = None
    if action not in (Action.SCALE_UP, Action.SCALE_DOWN) and new_level is not None:
        raise InvalidInput("new_level", "a new level is chosen when scaling up or down only")
    before_level = case.level
    case.level = lc.level_after(action, case.level, new_level)
    if group_code:
        if not (action is Action.SCALE_DOWN and case.level == lc.LOWEST_IN_SCHOOL):
            raise InvalidInput("group_code", "a pupil joins a group when scaling down to level 1")
        _join_group(session, case, group_code, today)
    elif case.level != before_level or action in (Action.CLOSE, Action.ESCALATE):
        _leave_groups(session, case, today)
    review = None
    if case.state == CaseState.REVIEWED.value:
        review = session.exec(select(Review).where(Review.case_id == case.id).order_by(Review.id.desc())).first()
    _transition(session, case, action, who, reason=reason)
    session.add(
        Decision(
            case_id=case.id,
            review_id=review.id if review else None,
            kind=kind,
            reason_code=reason,
            from_level=before_level,
            to_level=case.level,
            decided_on=today,
            decided_by=who.code,
            recommended_kind=recommendation.kind.value if recommendation else None,
            recommendation_rule=recommendation.rule if recommendation else None,
            override_reason=override_reason,
        )
    )
    if action in (Action.CONTINUE, Action.SCALE_UP, Action.SCALE_DOWN):
        region = _calendar(session, case)
        cadence = case.review_cadence_weeks or policy.review_cadence_weeks
        case.next_review_on = add_school_weeks(next_school_day(today, region), cadence, region)
    elif action is Action.CLOSE:
        case.closed_on = today
        case.end_reason = reason
        case.next_review_on = None
    elif action is Action.ESCALATE:
        _refer(session, case, who, today)
    return _outcome(case, action)


def _refer(session: Session, case: Case, who: Professional, today: dt.date) -> None:
    """A referral to the district team of the pupil's municipality, which is told in the same transaction."""
    from models.reminders import NoticeKind
    from oja.notify import queue_for_district_team

    pupil = session.get(Pupil, case.pupil_id)
    case.next_review_on = None
    _leave_groups(session, case, today)
    session.add(
        Referral(
            case_id=case.id,
            municipality_code=pupil.municipality_code,
            status="sent",
            referred_on=today,
            referred_by=who.code,
        )
    )
    session.flush()
    queue_for_district_team(session, case, pupil.municipality_code, NoticeKind.REFERRAL_SENT, today, today)


def respond_to_referral(
    session: Session,
    *,
    case_ref: str,
    accepted: bool,
    actor: str,
    today: dt.date,
    level_on_decline: int = lc.HIGHEST_IN_SCHOOL,
    policy: Policy = DEFAULT_POLICY,
) -> CaseOutcome:
    """The district team accepts or declines a referral; a declined one brings the case back to school."""
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="respond_to_referral")
    referral = session.exec(
        select(Referral).where(Referral.case_id == case.id, Referral.status == "sent").order_by(Referral.id.desc())
    ).first()
    if case.state != CaseState.ESCALATED.value or referral is None:
        allowed = tuple(a.value for a in lc.allowed_actions(CaseState(case.state)))
        raise IllegalTransition(case.state, "respond_to_referral", allowed, case.ref)
    if who.role != Role.DISTRICT_TEAM.value or who.municipality_code != referral.municipality_code:
        raise AccessDenied(
            who.code,
            "respond_to_referral",
            case.ref,
            f"alleen het wijkteam van {referral.municipality_code} / only the district team of "
            f"{referral.municipality_code} answers this referral",
        )
    referral.status = "accepted" if accepted else "declined"
    referral.responded_on, referral.responded_by = today, who.code
    session.add(referral)
    if accepted:
        session.add(
            AuditRecord(
                case_ref=case.ref,
                actor=who.code,
                action="referral_accepted",
                from_state=case.state,
                to_state=case.state,
                reason=referral.municipality_code,
            )
        )
        return _outcome(case, "referral_accepted")
    return _return_to_school(
        session,
        case,
        who,
        level_on_decline,
        today,
        policy,
        field="level_on_decline",
        reason_code="verwijzing_afgewezen",
    )


def _return_to_school(
    session: Session,
    case: Case,
    who: Professional,
    level: int,
    today: dt.date,
    policy: Policy,
    *,
    field: str,
    reason_code: str | None = None,
) -> CaseOutcome:
    """Back into an in-school arrangement at `level`: a new plan is due; the return is a decision on record."""
    before_level = case.level
    case.level = lc.level_after(Action.RETURN, case.level, level, field=field)
    case.plan_due_on = add_school_days(today, policy.plan_deadline_school_days, _calendar(session, case))
    _transition(session, case, Action.RETURN, who, reason=reason_code or f"level {case.level}")
    session.add(
        Decision(
            case_id=case.id,
            kind="terugkeer",
            from_level=before_level,
            to_level=case.level,
            decided_on=today,
            decided_by=who.code,
            reason_code=reason_code,
        )
    )
    return _outcome(case, Action.RETURN)


def refer(session: Session, *, case_ref: str, actor: str, today: dt.date) -> CaseOutcome:
    """Refer to specialised care outside a review (for instance an acute safety concern)."""
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="refer")
    lc.next_state(CaseState(case.state), Action.ESCALATE, case_ref=case.ref)
    before_level = case.level
    case.level = lc.SPECIALISED_LEVEL
    _transition(session, case, Action.ESCALATE, who, reason="referral")
    session.add(
        Decision(
            case_id=case.id,
            kind=DecisionKind.ESCALATE.value,
            from_level=before_level,
            to_level=case.level,
            decided_on=today,
            decided_by=who.code,
        )
    )
    _refer(session, case, who, today)
    return _outcome(case, Action.ESCALATE)


def return_from_specialised(
    session: Session, *, case_ref: str, level: int, actor: str, today: dt.date, policy: Policy = DEFAULT_POLICY
) -> CaseOutcome:
    """Back from specialised care into an in-school arrangement at a chosen level; a new plan follows."""
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="return_from_specialised")
    lc.next_state(CaseState(case.state), Action.RETURN, case_ref=case.ref)
    lc.level_after(Action.RETURN, case.level, level, field="level")  # refuse a wrong level before any change
    referral = session.exec(
        select(Referral)
        .where(Referral.case_id == case.id, Referral.status.in_(("sent", "accepted")))
        .order_by(Referral.id.desc())
    ).first()
    if referral is not None:
        referral.status = "returned"
        referral.returned_on = today
        session.add(referral)
    return _return_to_school(session, case, who, level, today, policy, field="level")


def reopen(session: Session, *, case_ref: str, actor: str, today: dt.date, policy: Policy) -> CaseOutcome:
    """Open a closed case again for triage, unless the pupil has another open case."""
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="reopen")
    lc.next_state(CaseState(case.state), Action.REOPEN, case_ref=case.ref)
    other = session.exec(
        select(Case.ref).where(Case.pupil_id == case.pupil_id, Case.state != CaseState.CLOSED.value)
    ).first()
    if other:
        raise InvalidInput("case_ref", f"the pupil has an open case {other}: add a signal to that one")
    region = _calendar(session, case)
    case.closed_on = None
    case.end_reason = None
    case.level = lc.BASIC_LEVEL
    case.triage_due_on = add_school_days(today, policy.triage_norm_school_days, region)
    _transition(session, case, Action.REOPEN, who)
    return _outcome(case, Action.REOPEN)


def record_measurement(
    session: Session,
    *,
    case_ref: str,
    goal_number: int,
    measured_on: dt.date,
    value: float,
    actor: str,
    today: dt.date,
) -> CaseOutcome:
    """A progress-monitoring data point for one goal of the current plan (while the arrangement runs)."""
    who = _actor(session, actor)
    case = _case(session, case_ref, who=who, action="record_measurement")
    if case.state not in (CaseState.ACTIVE.value, CaseState.REVIEWED.value):  # only while the arrangement runs
        allowed = tuple(a.value for a in lc.allowed_actions(CaseState(case.state)))
        raise IllegalTransition(case.state, "record_measurement", allowed, case.ref)
    _not_future(measured_on, today, "measured_on")
    if case.activated_on and measured_on < case.activated_on:
        raise InvalidInput("measured_on", f"cannot predate the start of the arrangement ({case.activated_on})")
    if not -1000 <= value <= 1000:
        raise InvalidInput("value", "from -1000 to 1000")
    plan = _current_plan(session, case)
    goal = session.exec(select(Goal).where(Goal.plan_id == plan.id, Goal.number == goal_number)).first()
    if goal is None:
        raise InvalidInput("goal_number", f"the plan has no goal {goal_number}")
    session.add(Measurement(goal_id=goal.id, measured_on=measured_on, value=value, recorded_by=who.code))
    session.add(
        AuditRecord(
            case_ref=case.ref,
            actor=who.code,
            action="record_measurement",
            from_state=case.state,
            to_state=case.state,
            reason=f"goal {goal_number}",
        )
    )
    return _outcome(case, "record_measurement")


def recommendation(
    session: Session, *, case_ref: str, policy: Policy = DEFAULT_POLICY, for_update: bool = False
) -> Recommendation:
    """The engine's recommendation for a reviewed case, from its reviews and measurements.

    A read: the case is not locked, unless the caller decides on it in the same transaction (`for_update`).
    """
    case = _case(session, case_ref, lock=for_update)
    if case.state != CaseState.REVIEWED.value:
        allowed = tuple(a.value for a in lc.allowed_actions(CaseState(case.state)))
        raise IllegalTransition(case.state, "recommend", allowed, case.ref)
    plan = _current_plan(session, case)
    goals = {g.id: g for g in session.exec(select(Goal).where(Goal.plan_id == plan.id)).all()}
    since = case.activated_on or plan.start_on
    reviews = session.exec(
        select(Review).where(Review.case_id == case.id, Review.held_on >= since).order_by(Review.held_on, Review.id)
    ).all()
    facts = []
    for r in reviews:
        scores = session.exec(select(GoalScore).where(GoalScore.review_id == r.id)).all()
        gas = {goals[s.goal_id].number: s.gas for s in scores if s.goal_id in goals}
        facts.append(ReviewFacts(r.held_on, gas, r.safety_concern, r.delivered_as_planned))
    series = []
    for g in goals.values():
        points = session.exec(select(Measurement).where(Measurement.goal_id == g.id)).all()
        if points:
            series.append(
                GoalSeries(
                    g.number,
                    g.baseline,
                    g.target,
                    plan.start_on,
                    plan.planned_end_on,
                    tuple((p.measured_on, p.value) for p in points),
                )
            )
    scaled_up_on = session.exec(
        select(Decision.decided_on)
        .where(Decision.case_id == case.id, Decision.kind == DecisionKind.SCALE_UP.value)
        .order_by(Decision.id.desc())
    ).first()
    return recommend(
        level=case.level,
        reviews=facts,
        series=series,
        scaled_up_on=scaled_up_on,
        goal_count=len(goals),
        policy=policy.decision_policy() if policy else DecisionPolicy(),
    )


# ---- reading -------------------------------------------------------------------------------


def case_summary(session: Session, case_ref: str) -> dict:
    """A case in codes: state, level, dates, counts. No personal data."""
    case = _case(session, case_ref, lock=False)
    counts = {
        name: session.exec(select(func.count()).select_from(model).where(model.case_id == case.id)).one()
        for name, model in (
            ("signals", Signal),
            ("plans", Plan),
            ("reviews", Review),
            ("decisions", Decision),
            ("referrals", Referral),
        )
    }
    return {
        "case_ref": case.ref,
        "school": case.school_code,
        "state": case.state,
        "level": case.level,
        "opened_on": case.opened_on,
        "triage_due_on": case.triage_due_on,
        "activated_on": case.activated_on,
        "next_review_on": case.next_review_on,
        "closed_on": case.closed_on,
        "end_reason": case.end_reason,
        **counts,
    }
