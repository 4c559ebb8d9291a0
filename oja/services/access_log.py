"""The dossier's access log (NEN 7513): who saw or changed which pupil's data, when, from where, and who was
refused. Written in the same transaction as what it records (a view: before the page is sent), never changed;
read by the privacy officer, filtered by pupil or by professional."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.tables_dossier import AccessLogEntry
from models.vocabulary import AccessAction, AccessOutcome

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


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
    step: str | None = None,
    run_id: str | None = None,
) -> None:
    """One line per pupil concerned (a worklist shows many), or one line when none is. `step` and `run_id`: the
    Prefect deployment and flow run of a request through the gateway. What a client chose (a path, a reason that
    quotes it) is kept printable: a NUL or a control character, which PostgreSQL refuses in text, becomes `?`."""
    path, reason = _printable(path), _printable(reason) if reason else reason
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
                client=(client or None) and client[:100],
                reason=reason[:300] if reason else None,
                step=step[:64] if step else None,
                run_id=run_id[:36] if run_id else None,
            )
        )


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def read_access_log(
    session: Session,
    *,
    pupil_ref: str = "",
    professional_code: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    refused_only: bool = False,
    limit: int = 500,
) -> list[AccessLogEntry]:
    """The newest lines first, only those about this pupil and/or by this professional when given, on the days
    `since` to `until` (in Amsterdam, both included), and only the refusals with `refused_only`."""
    query = select(AccessLogEntry)
    if pupil_ref.strip():
        query = query.where(AccessLogEntry.pupil_ref == pupil_ref.strip().upper())
    if professional_code.strip():
        query = query.where(AccessLogEntry.professional_code == professional_code.strip().upper())
    if since is not None:
        query = query.where(col(AccessLogEntry.at) >= _start_of(since))
    if until is not None:
        query = query.where(col(AccessLogEntry.at) < _start_of(until + dt.timedelta(days=1)))
    if refused_only:
        query = query.where(AccessLogEntry.outcome == AccessOutcome.REFUSED.value)
    return list(session.exec(query.order_by(col(AccessLogEntry.id).desc()).limit(limit)).all())


def _start_of(day: dt.date) -> dt.datetime:
    """The moment a day begins in Amsterdam, in UTC (as the log's times are stored)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=AMSTERDAM).astimezone(dt.UTC)
