"""The one audit writer: every change to a case, and every refusal of access, is recorded here.

An audit record says who (a professional's code), when, which action, from which state to which, and
why (a code or a short reason; never personal data). Records are append-only: the session of
`oja.adapters.db.unit_of_work` refuses to change or delete one, and the database's triggers refuse it too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, select

from models.errors import AccessDenied
from models.lifecycle import AuditAction, CaseState
from models.tables import AuditRecord, Case, utcnow

NO_STATE = "-"  # the state of a record about a pupil without a case, or a refusal on an unknown reference


def record(
    session: Session,
    *,
    case_ref: str,
    actor: str,
    action: AuditAction,
    to_state: CaseState | str,
    from_state: CaseState | str | None = None,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """One audit record, in the caller's transaction: it commits with the change it records, or not at all.

    The states are `CaseState` codes, or `NO_STATE` where there is no case.
    """
    session.add(
        AuditRecord(
            case_ref=case_ref,
            actor=actor,
            at=at or utcnow(),
            action=AuditAction(action).value,
            from_state=None if from_state is None else _state(from_state),
            to_state=_state(to_state),
            reason=reason[:200] if reason else None,
        )
    )


def _state(state: CaseState | str) -> str:
    return NO_STATE if state == NO_STATE else CaseState(state).value


def record_unchanged(
    session: Session, cases: Iterable[tuple[str, str]], *, actor: str, action: AuditAction, reason: str
) -> None:
    """The same action on several cases whose state it leaves as it is: `cases` gives (reference, state)."""
    at = utcnow()
    for ref, state in cases:
        record(
            session, case_ref=ref, actor=actor, action=action, from_state=state, to_state=state, reason=reason, at=at
        )


def record_refusal(engine: sa.Engine, refused: AccessDenied) -> None:
    """A refused action, in a transaction of its own (the refused one is rolled back): who tried what, and the rule."""
    with Session(engine) as session:
        state = session.exec(select(Case.state).where(Case.ref == refused.subject)).first() or NO_STATE
        record(
            session,
            case_ref=refused.subject,
            actor=refused.actor,
            action=AuditAction.REFUSED,
            from_state=state,
            to_state=state,
            reason=f"{refused.action}: {refused.scope}",
        )
        session.commit()
