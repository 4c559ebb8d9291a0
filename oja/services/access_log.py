"""The dossier's access log (NEN 7513): who saw or changed which pupil's data, when, from where, and who was
refused. Written in the same transaction as what it records (a view: before the page is sent), never changed;
read by the privacy officer, filtered by pupil, by case or by professional."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.errors import InvalidInput
from models.family import PARTIES
from models.tables import Case, Pupil, utcnow
from models.tables_dossier import AccessLogEntry
from models.vocabulary import AccessAction, AccessOutcome

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CASE_REF = re.compile(r"OJA-[0-9]{4}-[0-9]{6}")  # ASCII digits only: `\d` takes other scripts' digits too
CASE_RULE = "moet een casusreferentie zijn zoals OJA-2026-000123"


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
    cases: Iterable[tuple[str, str]] = (),
) -> None:
    """One line per pupil concerned (a worklist shows many), or one line when none is. `cases`: (pupil, case) pairs
    shown each with its own case (a worklist's rows, an export's cases), a line each; a pupil of `pupil_refs` among
    them gets no line of its own. `step` and `run_id`: the Prefect deployment and flow run of a request through the
    gateway. What a client chose (a path, a reason that quotes it) is kept printable: a NUL or a control character,
    which PostgreSQL refuses in text, becomes `?`."""
    path, reason = _printable(path), _printable(reason) if reason else reason
    pairs: list[tuple[str | None, str | None]] = list(dict.fromkeys(cases))
    paired = {pupil for pupil, _ in pairs}
    pairs += [(pupil, case_ref) for pupil in dict.fromkeys(pupil_refs) if pupil not in paired]
    line = {
        "at": utcnow(),
        "professional_code": professional_code[:12],
        "role": role,
        "action": action.value,
        "outcome": outcome.value,
        "path": path[:200],
        "client": (client or None) and client[:100],
        "reason": reason[:300] if reason else None,
        "step": step[:64] if step else None,
        "run_id": run_id[:36] if run_id else None,
    }
    # one INSERT for all the lines, at once in the transaction (a worklist shows many pupils: as objects of the
    # ORM, each line was flushed on its own at the commit; issue 27's profile)
    rows = [{**line, "pupil_ref": pupil, "case_ref": case} for pupil, case in pairs or [(None, case_ref)]]
    session.connection().execute(sa.insert(AccessLogEntry), rows)


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
    case_ref: str = "",
) -> list[AccessLogEntry]:
    """The newest lines first, only those about this pupil, this case (`about_case`) and/or by this professional
    when given, on the days `since` to `until` (in Amsterdam, both included), and only the refusals with
    `refused_only`. A case reference not of its form is refused (`InvalidInput` on `casus`)."""
    query = select(AccessLogEntry)
    if pupil_ref.strip():
        query = query.where(AccessLogEntry.pupil_ref == pupil_ref.strip().upper())
    if case_ref.strip():
        query = query.where(about_case(case_ref))
    if professional_code.strip():
        typed = professional_code.strip()
        # a professional's code in capitals; a family member's party as logged (`ouder_1`, `leerling`: issue 26)
        actor = typed.lower() if typed.lower() in PARTIES else typed.upper()
        query = query.where(AccessLogEntry.professional_code == actor)
    if since is not None:
        query = query.where(col(AccessLogEntry.at) >= _start_of(since))
    if until is not None:
        query = query.where(col(AccessLogEntry.at) < _start_of(until + dt.timedelta(days=1)))
    if refused_only:
        query = query.where(AccessLogEntry.outcome == AccessOutcome.REFUSED.value)
    return list(session.exec(query.order_by(col(AccessLogEntry.id).desc()).limit(limit)).all())


def about_case(case_ref: str) -> sa.ColumnElement[bool]:
    """The lines about a case: those that name it (a view, a refusal, a step run through the gateway, a worklist's
    row, an export of it), and those about its pupil that name no case (a refused export, the pupil's registration):
    they concern every case of the pupil. The pupil is the case's, or (a destroyed dossier) the one its lines name."""
    ref = case_ref.strip().upper()
    if not CASE_REF.fullmatch(ref):
        raise InvalidInput("casus", CASE_RULE)
    of_case = sa.select(col(Pupil.ref)).join(Case, col(Case.pupil_id) == col(Pupil.id)).where(col(Case.ref) == ref)
    logged = sa.select(col(AccessLogEntry.pupil_ref)).where(
        col(AccessLogEntry.case_ref) == ref, col(AccessLogEntry.pupil_ref).is_not(None)
    )
    pupils: sa.CompoundSelect[tuple[str]] = sa.union(of_case, logged)
    pupil_lines = sa.and_(col(AccessLogEntry.case_ref).is_(None), col(AccessLogEntry.pupil_ref).in_(pupils))
    return sa.or_(col(AccessLogEntry.case_ref) == ref, pupil_lines)


def _start_of(day: dt.date) -> dt.datetime:
    """The moment a day begins in Amsterdam, in UTC (as the log's times are stored)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=AMSTERDAM).astimezone(dt.UTC)
