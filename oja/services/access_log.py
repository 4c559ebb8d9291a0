"""The dossier's access log (NEN 7513): who saw or changed which pupil's data, when, from where, and who was
refused. Written in the same transaction as what it records (a view: before the page is sent), never changed;
read by the privacy officer, filtered by pupil or by professional."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from models.tables_dossier import AccessLogEntry
from models.vocabulary import AccessAction, AccessOutcome


def log_access(
    session: Session,
    *,
    professional_code: str,
    role: str | None,
    action: AccessAction,
    path: str,
    client: str | None,
    outcome: AccessOutcome = AccessOutcome.ALLOWED,
    case_ref: str | None = None,
    pupil_refs: Iterable[str] = (),
    reason: str | None = None,
) -> None:
    """One line per pupil concerned (a worklist shows many), or one line when none is."""
    refs: list[str | None] = [*dict.fromkeys(pupil_refs)] or [None]
    for pupil_ref in refs:
        session.add(
            AccessLogEntry(
                professional_code=professional_code[:12],
                role=role,
                action=action.value,
                outcome=outcome.value,
                pupil_ref=pupil_ref,
                case_ref=case_ref,
                path=path[:200],
                client=(client or None) and client[:45],
                reason=reason[:300] if reason else None,
            )
        )


def read_access_log(
    session: Session, *, pupil_ref: str = "", professional_code: str = "", limit: int = 500
) -> list[AccessLogEntry]:
    """The newest lines first, only those about this pupil and/or by this professional when given."""
    query = select(AccessLogEntry)
    if pupil_ref.strip():
        query = query.where(AccessLogEntry.pupil_ref == pupil_ref.strip().upper())
    if professional_code.strip():
        query = query.where(AccessLogEntry.professional_code == professional_code.strip().upper())
    return list(session.exec(query.order_by(col(AccessLogEntry.id).desc()).limit(limit)).all())
