"""Queries shared by the services, the sweep and monitoring. Reads only: nothing here writes, and only a
caller that is about to change a case asks for it locked (`find_case(..., lock=True)`)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from models.errors import InvalidInput, UnknownReference
from models.tables import Case, Decision, Plan, Referral, Review, Signal

CASE_REF = re.compile(r"^OJA-\d{4}-\d{6}$")


def find_case(session: Session, ref: str, field: str = "case_ref", *, lock: bool = False) -> Case:
    """The case with this reference (checked for its shape first), locked `FOR UPDATE` when `lock`."""
    ref = (ref or "").strip().upper()
    if not CASE_REF.match(ref):
        raise InvalidInput(field, "a case reference looks like OJA-2026-000123")
    query = select(Case).where(Case.ref == ref)
    case = session.exec(query.with_for_update() if lock else query).first()
    if case is None:
        raise UnknownReference(field, "case", ref)
    return case


def current_plan(session: Session, case: Case) -> Plan | None:
    """The case's current plan: its newest version (None before the first plan)."""
    return session.exec(select(Plan).where(Plan.case_id == case.id).order_by(Plan.version.desc())).first()


def current_plans() -> sa.Subquery:
    """The current plan of every case at once, as a subquery with the columns `id` and `case_id`."""
    latest = select(Plan.case_id, func.max(Plan.version).label("v")).group_by(Plan.case_id).subquery()
    return (
        select(Plan.id, Plan.case_id)
        .join(latest, sa.and_(latest.c.case_id == Plan.case_id, latest.c.v == Plan.version))
        .subquery()
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
        **counts,
    }
