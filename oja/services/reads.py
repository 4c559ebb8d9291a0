"""Queries shared by the services, the sweep and monitoring. Reads only: nothing here writes, and only a
caller that is about to change a case asks for it locked (`find_case(..., lock=True)`)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from models.errors import InvalidInput, UnknownReference
from models.tables import Case, Decision, GroupMember, Plan, Pupil, Referral, Review, Signal

CASE_REF = re.compile(r"^OJA-\d{4}-\d{6}$")


def find_case(session: Session, ref: str, field: str = "case_ref", *, lock: bool = False) -> Case:
    """The case with this reference (checked for its shape first), locked `FOR UPDATE` when `lock`."""
    ref = (ref or "").strip().upper()
    if not CASE_REF.match(ref):
        raise InvalidInput(field, "moet een casusreferentie zijn zoals OJA-2026-000123")
    case = session.exec(_case_by_ref(lock), params={"case_ref": ref}).first()
    if case is None:
        raise UnknownReference(field, "casus", ref)
    return case


# The queries a page runs many times a second are made once per process (`functools.cache`), their values bound as
# parameters: SQLAlchemy otherwise builds every statement and walks it for its cache key anew, which cost more than
# running it (issue 27's dossier profile; `oja.services.deadlines` does the same for the deadlines).


@functools.cache
def _case_by_ref(lock: bool) -> SelectOfScalar[Case]:
    query = select(Case).where(Case.ref == sa.bindparam("case_ref"))
    return query.with_for_update() if lock else query


@functools.cache
def _newest_plan(of_episode: bool) -> SelectOfScalar[Plan]:
    query = select(Plan).where(Plan.case_id == sa.bindparam("case_id"))
    if of_episode:
        query = query.where(col(Plan.version) > sa.bindparam("reopened_after_plan"))
    return query.order_by(col(Plan.version).desc()).limit(1)


class Stored(Protocol):
    id: int | None


def key(row: Stored) -> int:
    """The primary key of a stored row (loaded, or added and flushed)."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} is not stored yet: flush the session first")
    return row.id


def ref_of(case: Case) -> str:
    """The reference of a stored case (it is given when the case is first flushed)."""
    if case.ref is None:
        raise RuntimeError("the case has no reference yet: flush the session first")
    return case.ref


def current_plan(session: Session, case: Case) -> Plan | None:
    """The case's current plan: its newest version (None before the first plan)."""
    return session.exec(_newest_plan(False), params={"case_id": case.id}).first()


def episode_plan(session: Session, case: Case) -> Plan | None:
    """The case's plan in its current episode: its newest version drafted since the case was last reopened (None
    before one). A plan from before the reopening no longer counts for who may act on the case or holds regie."""
    params = {"case_id": case.id, "reopened_after_plan": case.reopened_after_plan}
    return session.exec(_newest_plan(True), params=params).first()


def plan_of(session: Session, case: Case) -> Plan:
    """The current plan of a case past planning (drafted, consented, active, reviewed): it always has one."""
    plan = current_plan(session, case)
    if plan is None:
        raise RuntimeError(f"case {case.ref} in state {case.state} has no plan")
    return plan


def born(pupil: Pupil) -> dt.date:
    """A pupil's birth date (only a destroyed dossier has none, and no use case reaches one)."""
    if pupil.birth_date is None:
        raise RuntimeError(f"{pupil.ref}: the dossier was destroyed")
    return pupil.birth_date


def pupil_of(session: Session, case: Case) -> Pupil:
    """The pupil a case is about."""
    pupil = session.get(Pupil, case.pupil_id)
    if pupil is None:
        raise RuntimeError(f"case {case.ref} has no pupil")
    return pupil


def current_plans() -> sa.Subquery:
    """The current plan of every case at once, as a subquery with the columns `id` and `case_id`."""
    latest = select(Plan.case_id, func.max(Plan.version).label("v")).group_by(col(Plan.case_id)).subquery()
    return (
        select(Plan.id, Plan.case_id)
        .join(latest, sa.and_(latest.c.case_id == Plan.case_id, latest.c.v == Plan.version))
        .subquery()
    )


def episode_plans() -> sa.Subquery:
    """`episode_plan` of every case at once, as a subquery with the columns `id` and `case_id`: a case reopened
    since its newest plan has none. Built once (a page used to build it five times, 0.25 ms each: issue 27's
    profile); each call is a subquery of its own, so a query may use it twice, once in a subquery of its own."""
    return _episode_plans().subquery()


@functools.cache
def _episode_plans() -> sa.Select[Any]:
    latest = (
        select(Plan.case_id, func.max(Plan.version).label("v"))
        .join(Case, col(Case.id) == col(Plan.case_id))
        .where(col(Plan.version) > col(Case.reopened_after_plan))
        .group_by(col(Plan.case_id))
        .subquery()
    )
    return select(Plan.id, Plan.case_id).join(
        latest, sa.and_(latest.c.case_id == Plan.case_id, latest.c.v == Plan.version)
    )


def case_summary(session: Session, case_ref: str) -> dict[str, Any]:
    """A case in codes: state, level, dates, counts. No personal data."""
    case = find_case(session, case_ref)
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
        "group": current_group(session, case),
        **counts,
    }


def current_group(session: Session, case: Case) -> str | None:
    """The group arrangement the case has a place in now, if any."""
    return session.exec(_current_group(), params={"case_id": case.id}).first()


@functools.cache
def _current_group() -> SelectOfScalar[str]:
    return select(GroupMember.group_code).where(
        GroupMember.case_id == sa.bindparam("case_id"), col(GroupMember.left_on).is_(None)
    )
