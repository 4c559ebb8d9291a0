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
from models.tables import AuditRecord, Case, utcnow

REFUSED = "refused"  # the action of a refusal's record


def record(
    session: Session,
    *,
    case_ref: str,
    actor: str,
    action: str,
    to_state: str,
    from_state: str | None = None,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """One audit record, in the caller's transaction: it commits with the change it records, or not at all."""
    session.add(
        AuditRecord(
            case_ref=case_ref,
            actor=actor,
            at=at or utcnow(),
            action=action,
            from_state=from_state,
            to_state=to_state,
            reason=reason[:200] if reason else None,
        )
    )


def record_unchanged(
    session: Session, cases: Iterable[tuple[str, str]], *, actor: str, action: str, reason: str
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
        state = session.exec(select(Case.state).where(Case.ref == refused.subject)).first() or "-"
        record(
            session,
            case_ref=refused.subject,
            actor=refused.actor,
            action=REFUSED,
            from_state=state,
            to_state=state,
            reason=f"{refused.action}: {refused.scope}",
        )
        session.commit()
