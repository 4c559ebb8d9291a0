"""The services' shared kernel: what every use case does first and last.

A use case loads and checks its actor and case (`load_actor`, `load_case`: the access rule of
`models.access`), validates its plain values (`choice`, `clean_text`, `clean_code`, `not_future`,
`not_past`), moves the case with `transition` (the next state from `models.lifecycle`, one audit record
through `oja.services.audit`) and returns a `CaseOutcome`: codes only, safe to show in Prefect.
`execute` runs one use case in one transaction and audits a refusal of access explicitly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from models import access
from models import lifecycle as lc
from models.errors import AccessDenied, InvalidInput, UnknownReference
from models.lifecycle import Action, AuditAction, CaseState
from models.schooldays import SchoolCalendar
from models.tables import Case, Intervention, Professional, Pupil, utcnow
from oja.adapters.db import get_engine, unit_of_work
from oja.config import Policy
from oja.services import audit
from oja.services.calendar import school_calendar
from oja.services.reads import episode_plan, find_case, ref_of

PUPIL_REF = re.compile(r"^LL-\d{6}$")
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,11}$")
DEFAULT_POLICY = Policy()

T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)


def execute(use_case: Callable[..., T], engine: sa.Engine | None = None, **kwargs: Any) -> T:
    """Run one use case in one transaction (`unit_of_work`): it commits whole or not at all.

    A refusal of access is then audited, in a transaction of its own, and raised again.
    """
    engine = engine or get_engine()
    try:
        with unit_of_work(engine) as session:
            return use_case(session, **kwargs)
    except AccessDenied as refused:
        audit.record_refusal(engine, refused)
        raise


@dataclasses.dataclass(frozen=True)
class CaseOutcome:
    """What a use case did, in codes only: safe for Prefect run results and logs."""

    case_ref: str
    state: str  # models.lifecycle.CaseState
    level: int
    action: str  # models.lifecycle.AuditAction
    next_review_on: dt.date | None = None
    joined: bool = False
    review_id: int | None = None  # the review recorded (record_review only): its decision is awaited
    not_needed: str | None = None  # record_consent: the party whose consent the pupil's age does not ask for

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["next_review_on"] = self.next_review_on.isoformat() if self.next_review_on else None
        for optional in ("review_id", "not_needed"):
            if d[optional] is None:
                del d[optional]
        return d


def choice(value: object, enum: type[StrEnum], field: str) -> str:
    """The code `value` (a member or its value) if `enum` has it, else refused naming `field` and the codes."""
    raw = getattr(value, "value", value)
    allowed = [m.value for m in enum]
    if raw not in allowed:
        raise InvalidInput(field, f"moet één van deze codes zijn: {', '.join(allowed)}")
    return str(raw)


def clean_text(value: str, field: str, *, max_length: int = 100) -> str:
    """Printable text without control characters, trimmed, not empty, within the maximum length."""
    if not isinstance(value, str):
        raise InvalidInput(field, "moet tekst zijn")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidInput(field, "mag niet leeg zijn")
    if len(text) > max_length:
        raise InvalidInput(field, f"mag niet langer zijn dan {max_length} tekens")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise InvalidInput(field, "mag geen stuurtekens of onzichtbare tekens bevatten")
    return text


def clean_code(value: str, field: str) -> str:
    code = (value or "").strip().upper()
    if not CODE.match(code):
        raise InvalidInput(field, "moet een code van 2 tot 12 hoofdletters, cijfers of koppeltekens zijn")
    return code


def not_future(day: dt.date, today: dt.date, field: str) -> dt.date:
    if day > today:
        raise InvalidInput(field, f"mag niet na vandaag liggen ({today.isoformat()})")
    return day


def not_past(day: dt.date, today: dt.date, field: str) -> dt.date:
    if day < today:
        raise InvalidInput(field, f"mag niet voor vandaag liggen ({today.isoformat()})")
    return day


def load(session: Session, model: type[M], key: str, field: str, kind: str) -> M:
    """The row of `model` with primary key `key`, or refused as an unknown `kind` named by `field`."""
    obj = session.get(model, key)
    if obj is None:
        raise UnknownReference(field, kind, key)
    return obj


def load_actor(session: Session, code: str, field: str = "actor") -> Professional:
    return load(session, Professional, clean_code(code, field), field, "professional")


def load_case(
    session: Session,
    ref: str,
    field: str = "case_ref",
    *,
    who: Professional | None = None,
    action: str = "",
    lock: bool = True,
) -> Case:
    """The case, locked for the change (`lock=False` for a read); refused when `who` may not take `action` on it."""
    case = find_case(session, ref, field, lock=lock)
    if who is not None:  # an action on the case (reading its summary is allowed on a tombstone too)
        destroyed = session.exec(select(col(Pupil.destroyed_on)).where(Pupil.id == case.pupil_id)).one()
        if destroyed is not None:
            raise InvalidInput(
                field,
                f"het dossier van casus {case.ref} is op {destroyed.isoformat()} vernietigd; "
                "er is geen stap meer mogelijk",
            )
        access.check(access_actor(who), case_scope(session, case), action)
    return case


def access_actor(who: Professional) -> access.Actor:
    return access.Actor(who.code, who.role, who.school_code, who.provider_code, who.municipality_code)


def case_scope(session: Session, case: Case) -> access.CaseScope:
    """What decides who may act on the case: its school, where the pupil lives, who delivers under the plan of the
    case's current episode (`episode_plan`: not a plan from before the case was reopened)."""
    municipality = session.exec(_municipality_of_pupil(), params={"pupil_id": case.pupil_id}).one()
    plan = episode_plan(session, case)
    providers = (
        frozenset(session.exec(_providers_of_plan(), params={"plan_id": plan.id}).all())
        if plan is not None
        else frozenset()
    )
    return access.CaseScope(ref_of(case), case.school_code, municipality, providers)


# made once per process: every page and step asks them (`oja.services.reads` tells why)
@functools.cache
def _municipality_of_pupil() -> Any:
    return select(Pupil.municipality_code).where(Pupil.id == sa.bindparam("pupil_id"))


@functools.cache
def _providers_of_plan() -> Any:
    return select(Intervention.provider_code).where(Intervention.plan_id == sa.bindparam("plan_id"))


def load_pupil(session: Session, ref: str, field: str = "pupil_ref") -> Pupil:
    ref = (ref or "").strip().upper()
    if not PUPIL_REF.match(ref):
        raise InvalidInput(field, "moet een leerlingreferentie zijn zoals LL-000123")
    pupil = session.exec(select(Pupil).where(Pupil.ref == ref)).first()
    if pupil is None:
        raise UnknownReference(field, "leerling", ref)
    if pupil.destroyed_on is not None:
        raise InvalidInput(
            field,
            f"het dossier van {ref} is op {pupil.destroyed_on.isoformat()} vernietigd; er is geen stap meer mogelijk",
        )
    return pupil


def case_calendar(session: Session, case: Case) -> SchoolCalendar:
    """The case's school's calendar: its holiday region and its own closing days."""
    return school_calendar(session, case.school_code)


class Acting(Protocol):
    """Who takes a step: a professional, or a family party acting on their own consent (`consent.FamilyActor`)."""

    @property
    def code(self) -> str: ...

    @property
    def role(self) -> str: ...


def transition(
    session: Session,
    case: Case,
    action: Action,
    actor: Acting,
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
    audit.record(
        session,
        case_ref=ref_of(case),
        actor=actor.code,
        at=at,
        action=AuditAction(action),
        from_state=before,
        to_state=after,
        reason=reason or f"{action.value} ({actor.role})",
    )
    return after


def case_outcome(case: Case, action: Action | AuditAction, *, joined: bool = False) -> CaseOutcome:
    return CaseOutcome(ref_of(case), case.state, case.level, AuditAction(action).value, case.next_review_on, joined)
