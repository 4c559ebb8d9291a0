"""The dossier's services: whom a professional sees (their cases with names, the pupils in their scope), and the
goals' texts in words.

The dossier (`oja/dossier/`, a login-protected web app) shows professionals the personal side of their cases,
which never reaches Prefect. Its scope is that of `models.access`, read here as a query:

    zorgcoordinator, schoolmaatschappelijk_werker, teamleider (of a school)
                         the open cases of their school, and the pupils of their school without an open case
    jeugdhulpverlener, teamleider (of a provider)
                         the open cases where their provider delivers in the current plan
    wijkteam             the open cases of pupils living in their municipality
    manager, others      refused (`AccessDenied`)

Every row found is also checked against `models.access.may_act`, so a list never shows more than the rule allows.
These read only; the one change the dossier makes, the goals' texts in words (`describe_goals`), is a use case like
those of the lifecycle: one transaction, one audit record, a refusal of access audited when it runs through
`kernel.execute`. The case page (`case_view`) is `oja.services.dossier_case`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import access
from models.access import SCHOOL_ROLES, Actor, CaseScope, scope_rule
from models.errors import AccessDenied, InvalidInput
from models.lifecycle import AuditAction, CaseState
from models.schooldays import TZ
from models.tables import Case, Goal, Intervention, Plan, Pupil
from models.vocabulary import Role
from oja.config import Policy
from oja.services import audit
from oja.services.kernel import CaseOutcome, access_actor, case_outcome, case_scope, load_actor, load_pupil
from oja.services.reads import episode_plan, episode_plans, find_case, ref_of
from oja.services.retention import export_pupil
from oja.services.worklist import Due, WorklistRow, worklists

REGISTER_SIGNAL = "signaal-registreren"  # the flow that opens a case for a pupil without an open one
GOAL_TEXT_MAX = 2000  # Goal.description
INVISIBLE = ("Cc", "Cf", "Cs", "Co", "Cn")  # control, format, surrogate, private-use and unassigned characters
MAX_KEYS = 20_000  # more cases than this (a whole region's) are read by school, as the sweep does
MY_CASES = "werklijst"  # the subject a refused `my_cases` names (and its audit record, through `execute`)


class Reach(StrEnum):
    """Which of the scopes of `models.access` a professional has (the branches of `access.may_act`)."""

    SCHOOL = "school"  # the cases (and pupils) of their school
    PROVIDER = "aanbieder"  # the cases where their provider delivers in the current plan
    DISTRICT = "wijkteam"  # the cases of pupils living in their municipality
    NONE = "geen"  # no case at all: a manager, a privacy officer


def reach(actor: Actor) -> Reach:
    if actor.role == Role.MANAGER.value:
        return Reach.NONE
    if actor.role in SCHOOL_ROLES or (actor.role == Role.TEAM_LEAD.value and actor.school_code):
        return Reach.SCHOOL if actor.school_code else Reach.NONE
    if actor.role == Role.DISTRICT_TEAM.value:
        return Reach.DISTRICT if actor.municipality_code else Reach.NONE
    if actor.role in (Role.YOUTH_WORKER.value, Role.TEAM_LEAD.value) and actor.provider_code:
        return Reach.PROVIDER
    return Reach.NONE


def actor_of(session: Session, code: str) -> Actor:
    """The registered professional `code` as an `Actor` (its role and where it works), or `UnknownReference`."""
    return access_actor(load_actor(session, code))


@dataclasses.dataclass(frozen=True)
class CaseRow:
    """One open case on a professional's own worklist: the school worklist's row, with the pupil's name."""

    case_ref: str
    pupil_ref: str
    given_name: str
    family_name: str
    birth_date: dt.date
    school_code: str
    state: str  # models.lifecycle.CaseState
    level: int
    urgency: str  # models.vocabulary.Urgency
    due_on: dt.date | None  # the next deadline; None when the case has none
    due: Due | None  # what falls due then
    overdue: bool  # a school day of the school has passed since `due_on`
    regie_holder: str | None  # professional code of the current plan's regie holder; None before a plan
    next_step: str  # the flow of the next lifecycle step, e.g. "triage"
    next_step_on: dt.date | None = None  # the day from which it can succeed, when later than today


@dataclasses.dataclass(frozen=True)
class PupilRow:
    """A pupil of the school registered without an open case: a signal opens one (`next_step`)."""

    pupil_ref: str
    given_name: str
    family_name: str
    birth_date: dt.date
    registered_on: dt.date  # the day the pupil was registered, in Amsterdam
    last_case_ref: str | None  # the pupil's latest (closed) case; None when there never was one
    next_step: str = REGISTER_SIGNAL


@dataclasses.dataclass(frozen=True)
class MyCases:
    """What a professional sees on logging in: their open cases, most urgent first, and (a school role) the pupils
    of their school without an open case, the most recently registered first."""

    actor: str  # the professional's code
    reach: Reach
    scope: str  # the scope in words (Dutch), `models.access.scope_rule`
    cases: tuple[CaseRow, ...]
    pupils_without_case: tuple[PupilRow, ...]


def my_cases(session: Session, actor: Actor, *, today: dt.date, policy: Policy, own: bool = False) -> MyCases:
    """The professional's open cases with names, in the order of the worklist (`WorklistRow.sort_key`), and for a
    school role the pupils of its school without an open case. A few queries, whatever the number of cases, and
    the deadlines read for these cases only. With `own`, a provider's professional gets only the cases they
    deliver or hold regie of themselves (not all their provider's). A professional without a scope of cases
    (a manager) is refused (`AccessDenied`)."""
    kind = reach(actor)
    if kind is Reach.NONE:
        raise AccessDenied(actor.code, "my_cases", MY_CASES, scope_rule(actor))
    cases_in_reach, delivering = _my_cases_queries(kind, own and kind is Reach.PROVIDER)
    params = {
        "school_code": actor.school_code,
        "municipality_code": actor.municipality_code,
        "provider_code": actor.provider_code,
        "actor_code": actor.code,
    }
    found = session.connection().execute(cases_in_reach, params)
    providers: dict[int, set[str]] = defaultdict(set)
    for case_id, provider in session.connection().execute(delivering, params):
        providers[case_id].add(provider)
    mine = {
        row.ref: row
        for row in found.all()
        if access.may_act(actor, _scope(row.ref, row.school_code, row.municipality_code, providers[row.id]))
    }
    schools = {row.school_code for row in mine.values()}
    # a school's worklist is all of its cases; a provider's or district's cases are a few of many schools', read
    # by key (the index: a condition as a query made SQLite read every school's cases for each deadline)
    ids = sorted(row.id for row in mine.values())
    reached = None if kind is Reach.SCHOOL or len(ids) > MAX_KEYS else ids
    lists = worklists(session, school_codes=schools, today=today, policy=policy, case_ids=reached) if schools else {}
    listed = sorted((r for rows in lists.values() for r in rows if r.case_ref in mine), key=WorklistRow.sort_key)
    return MyCases(
        actor=actor.code,
        reach=kind,
        scope=scope_rule(actor),
        cases=tuple(_case_row(r, mine[r.case_ref]) for r in listed),
        pupils_without_case=_without_case(session, actor.school_code) if kind is Reach.SCHOOL else (),
    )


def _scope(ref: str, school_code: str, municipality_code: str, providers: set[str]) -> CaseScope:
    return CaseScope(ref, school_code, municipality_code, frozenset(providers))


@functools.cache
def _my_cases_queries(kind: Reach, own: bool) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The open cases in reach of a professional of this kind (with `own`, only their own), and who delivers in
    each: made once per process, the professional's codes their parameters (`school_code`, `municipality_code`,
    `provider_code`, `actor_code`; `oja.services.reads` tells why)."""
    where = _in_reach(kind)
    if own:
        where = sa.and_(where, _own())
    open_case = (col(Case.state) != CaseState.CLOSED.value, col(Pupil.destroyed_on).is_(None), where)
    columns = (Case.id, Case.ref, Case.school_code, Pupil.municipality_code, Pupil.given_name, Pupil.family_name)
    stmt = sa.select(*(col(c) for c in columns), col(Pupil.birth_date), col(Pupil.ref).label("pupil_ref"))
    plan = episode_plans()
    delivering = (
        sa.select(plan.c.case_id, col(Intervention.provider_code))
        .join(Intervention, col(Intervention.plan_id) == plan.c.id)
        .join(Case, col(Case.id) == plan.c.case_id)
        .join(Pupil, col(Pupil.id) == col(Case.pupil_id))
        .where(*open_case)
    )
    return stmt.join(Pupil, col(Pupil.id) == col(Case.pupil_id)).where(*open_case), delivering


def _in_reach(kind: Reach) -> sa.ColumnElement[bool]:
    """The cases a query may find for the actor (of a select joining `Case` and its `Pupil`)."""
    if kind is Reach.SCHOOL:
        return col(Case.school_code) == sa.bindparam("school_code")
    if kind is Reach.DISTRICT:
        return col(Pupil.municipality_code) == sa.bindparam("municipality_code")
    plan = episode_plans()
    delivers = (
        sa.select(plan.c.case_id)
        .join(Intervention, col(Intervention.plan_id) == plan.c.id)
        .where(col(Intervention.provider_code) == sa.bindparam("provider_code"))
    )
    return col(Case.id).in_(delivers)


def _own() -> sa.ColumnElement[bool]:
    """The cases whose current plan has the actor delivering an intervention, or as regie holder."""
    plan = episode_plans()
    actor_code: sa.BindParameter[str] = sa.bindparam("actor_code")
    delivers = (
        sa.select(plan.c.case_id)
        .join(Intervention, col(Intervention.plan_id) == plan.c.id)
        .where(col(Intervention.professional_code) == actor_code)
    )
    holding = col(Plan.regie_holder_code) == actor_code
    holds = sa.select(plan.c.case_id).join(Plan, col(Plan.id) == plan.c.id).where(holding)
    return sa.or_(col(Case.id).in_(delivers), col(Case.id).in_(holds))


def _case_row(row: WorklistRow, case: Any) -> CaseRow:
    return CaseRow(
        case_ref=row.case_ref,
        pupil_ref=case.pupil_ref,
        given_name=case.given_name,
        family_name=case.family_name,
        birth_date=case.birth_date,
        school_code=case.school_code,
        state=row.state,
        level=row.level,
        urgency=row.urgency,
        due_on=row.due_on,
        due=row.due,
        overdue=row.overdue,
        regie_holder=row.regie_holder,
        next_step=row.next_step,
        next_step_on=row.next_step_on,
    )


def _without_case(session: Session, school_code: str | None) -> tuple[PupilRow, ...]:
    """The school's pupils (not destroyed) without an open case, the most recently registered first: one query."""
    has_open = sa.exists().where(col(Case.pupil_id) == col(Pupil.id), col(Case.state) != CaseState.CLOSED.value)
    last = (
        sa.select(col(Case.ref))
        .where(col(Case.pupil_id) == col(Pupil.id))
        .order_by(col(Case.id).desc())
        .limit(1)
        .scalar_subquery()
    )
    columns = (Pupil.ref, Pupil.given_name, Pupil.family_name, Pupil.birth_date, Pupil.created_at)
    stmt = sa.select(*(col(c) for c in columns), last).where(
        col(Pupil.school_code) == school_code, col(Pupil.destroyed_on).is_(None), ~has_open
    )
    rows = [
        PupilRow(ref, given, family, born, _local_day(created), last_ref)
        for ref, given, family, born, created, last_ref in session.connection().execute(stmt)
    ]
    return tuple(sorted(rows, key=lambda r: (r.registered_on, r.pupil_ref), reverse=True))


def _local_day(at: dt.datetime) -> dt.date:
    """The day in Amsterdam of a stored moment (SQLite gives it back without its zone: UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(ZoneInfo(TZ)).date()


def pupil_in_scope(session: Session, actor: Actor, pupil_ref: str, *, action: str = "pupil_view") -> Pupil:
    """The pupil, if the actor may see them: a school role the pupils of its school, anyone the pupil of a case
    (open or closed) it may act on (`models.access.may_act`: a provider delivering in its current plan, the district
    team of where the pupil lives). Otherwise `AccessDenied`, naming the actor, `action` and the rule, and the pupil
    by reference only. A malformed or unknown reference, or a destroyed dossier, is `InvalidInput`."""
    pupil = load_pupil(session, pupil_ref)
    if reach(actor) is Reach.SCHOOL and pupil.school_code == actor.school_code:
        return pupil
    if reach(actor) is not Reach.NONE and any(access.may_act(actor, s) for s in _scopes_of(session, pupil)):
        return pupil
    raise AccessDenied(actor.code, action, pupil.ref, scope_rule(actor))


def _scopes_of(session: Session, pupil: Pupil) -> list[CaseScope]:
    """What decides access to each of the pupil's cases (`kernel.case_scope`), in two queries."""
    stmt = sa.select(col(Case.id), col(Case.ref), col(Case.school_code)).where(col(Case.pupil_id) == pupil.id)
    cases = session.connection().execute(stmt).all()
    plan = episode_plans()
    delivering = (
        sa.select(plan.c.case_id, col(Intervention.provider_code))
        .join(Intervention, col(Intervention.plan_id) == plan.c.id)
        .where(plan.c.case_id.in_([case_id for case_id, _, _ in cases]))
    )
    providers: dict[int, set[str]] = defaultdict(set)
    for case_id, provider in session.connection().execute(delivering):
        providers[case_id].add(provider)
    return [_scope(ref, school, pupil.municipality_code, providers[case_id]) for case_id, ref, school in cases]


def case_in_scope(session: Session, actor: Actor, case_ref: str, action: str, *, lock: bool = False) -> Case:
    """The case, after the access check of `models.access` (`AccessDenied` outside the actor's scope); `lock` for a
    change. A malformed or unknown reference is `InvalidInput` (`UnknownReference`), and so is a destroyed dossier."""
    case = find_case(session, case_ref, lock=lock)
    access.check(actor, case_scope(session, case), action)
    destroyed = session.exec(_destroyed_on(), params={"pupil_id": case.pupil_id}).one()
    if destroyed is not None:
        raise InvalidInput("case_ref", f"het dossier van casus {case.ref} is op {destroyed.isoformat()} vernietigd")
    return case


@functools.cache
def _destroyed_on() -> Any:  # made once per process (`oja.services.reads` tells why)
    return select(col(Pupil.destroyed_on)).where(Pupil.id == sa.bindparam("pupil_id"))


def describe_goals(
    session: Session, actor: Actor, case_ref: str, texts: Mapping[int, str], *, today: dt.date
) -> CaseOutcome:
    """Set the texts of the current plan's goals, by goal number (`doel_<n>` names each in a refusal): stripped, at
    most 2000 characters, line breaks allowed; an empty text clears it. One audit record names the goals whose text
    changed, never the text; nothing changed, nothing is written. Refused: outside the actor's scope
    (`AccessDenied`), a closed case or one without a plan, an unknown goal number, a text too long or with control
    characters. `today` is the working day, as for every use case; the texts do not depend on it."""
    case = case_in_scope(session, actor, case_ref, "describe_goals", lock=True)
    if not access.may_describe_goals(actor):
        raise AccessDenied(actor.code, "describe_goals", ref_of(case), access.GOALS_RULE)
    if case.state == CaseState.CLOSED.value:
        raise InvalidInput(
            "case_ref", f"casus {case.ref} is gesloten: heropen de casus eerst om de doelen te beschrijven"
        )
    plan = episode_plan(session, case)  # a reopened case's goals are those of its new plan
    if plan is None:
        raise InvalidInput("case_ref", f"casus {case.ref} heeft nog geen plan: stel eerst een plan op met doelen")
    if not texts:
        raise InvalidInput("doelen", "geef de tekst van minstens één doel")
    goals = {g.number: g for g in session.exec(select(Goal).where(Goal.plan_id == plan.id)).all()}
    cleaned: dict[int, str | None] = {}
    for number, text in texts.items():
        if isinstance(number, bool) or not isinstance(number, int):
            raise InvalidInput(f"doel_{number}", "moet het nummer van een doel zijn")
        if number not in goals:
            numbers = ", ".join(str(n) for n in sorted(goals))
            raise InvalidInput(
                f"doel_{number}", f"plan versie {plan.version} heeft geen doel {number} (wel: {numbers})"
            )
        cleaned[number] = goal_text(text, f"doel_{number}")
    changed = sorted(n for n, text in cleaned.items() if goals[n].description != text)
    for number in changed:
        goals[number].description = cleaned[number]
        session.add(goals[number])
    if changed:
        audit.record(
            session,
            case_ref=ref_of(case),
            actor=actor.code,
            action=AuditAction.DESCRIBE_GOALS,
            from_state=case.state,
            to_state=case.state,
            reason=f"doelen {', '.join(str(n) for n in changed)} (plan versie {plan.version})",
        )
    return case_outcome(case, AuditAction.DESCRIBE_GOALS)


def goal_text(value: object, field: str) -> str | None:
    """A goal's text: NFC, line breaks as `\\n`, stripped; None when empty. Line breaks and tabs are allowed, other
    control or invisible characters are not."""
    if not isinstance(value, str):
        raise InvalidInput(field, "moet tekst zijn")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        return None
    if len(text) > GOAL_TEXT_MAX:
        raise InvalidInput(field, f"mag niet langer zijn dan {GOAL_TEXT_MAX} tekens (nu {len(text)})")
    if any(ch not in "\n\t" and unicodedata.category(ch) in INVISIBLE for ch in text):
        raise InvalidInput(field, "mag geen stuurtekens of onzichtbare tekens bevatten (wel regelovergangen)")
    return text


def subject_access(session: Session, actor: Actor, pupil_ref: str) -> dict[str, Any]:
    """The pupil's subject-access export (AVG art. 15) as the actor may give it: a school role only
    (`models.access.may_export`), else `AccessDenied`. The pupil's own school, the parents' channel, gets everything
    held (`retention.export_pupil`); a school that holds an earlier case of the pupil only the cases in its scope,
    without the erasure requests (the pupil's own school handles those)."""
    if not access.may_export(actor):
        raise AccessDenied(actor.code, "export_pupil", (pupil_ref or "").strip().upper()[:12], access.EXPORT_RULE)
    pupil = pupil_in_scope(session, actor, pupil_ref, action="export_pupil")
    data = export_pupil(session, pupil.ref)
    if pupil.school_code == actor.school_code:
        return data
    allowed = {scope.ref for scope in _scopes_of(session, pupil) if access.may_act(actor, scope)}
    data["cases"] = [c for c in data["cases"] if c["case"]["ref"] in allowed]
    del data["erasure_requests"]
    return data
