"""What the server's `oja pupil` commands show of pupils (`find`, `list`, `export`), each read with its lines in the
access log (`access_log.log_access`, NEN 7513), as the dossier's pages are: in the same transaction, committed
before anything is shown. Whoever runs the command names themselves (`--door` or OJA_DOOR: a registered
professional); without that name nothing is read."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from models.errors import InvalidInput
from models.identity import validate_bsn, validate_onderwijsnummer
from models.tables import Professional, Pupil
from models.vocabulary import AccessAction
from oja.services.access_log import log_access
from oja.services.kernel import CODE
from oja.services.retention import export_pupil

DOOR = "--door"  # the field a refusal names: the option, or its variable OJA_DOOR
DOOR_RULE = (
    "geef met --door of OJA_DOOR de code van wie dit opvraagt, een geregistreerde professional (zoals PRF-0001): "
    "wie leerlinggegevens bekijkt, staat in het toegangslog"
)
SERVER = "opdrachtregel op de server"  # where a line came from ('Vanaf' on the access log's page)


def operator(session: Session, door: str) -> Professional:
    """The registered professional `door` names (any case), or `InvalidInput` on `--door`."""
    code = (door or "").strip().upper()
    if not code:
        raise InvalidInput(DOOR, DOOR_RULE)
    found = session.get(Professional, code) if CODE.match(code) else None
    if found is None:
        raise InvalidInput(DOOR, f"{code[:12]} is geen geregistreerde professional; {DOOR_RULE}")
    return found


def _log(session: Session, who: Professional, action: AccessAction, command: str, refs: list[str], **kw: Any) -> None:
    log_access(
        session,
        professional_code=who.code,
        role=who.role,
        action=action,
        path=f"oja pupil {command}",
        client=SERVER,
        pupil_refs=refs,
        **kw,
    )


def find_pupil(session: Session, *, door: str, bsn: str = "", onderwijsnummer: str = "") -> Pupil | None:
    """The pupil with this BSN or onderwijsnummer (None: no one), logged with the pupil found, or without one."""
    who = operator(session, door)
    if bsn:
        pupil = session.exec(select(Pupil).where(Pupil.bsn == validate_bsn(bsn))).first()
    elif onderwijsnummer:
        number = validate_onderwijsnummer(onderwijsnummer)
        pupil = session.exec(select(Pupil).where(Pupil.onderwijsnummer == number)).first()
    else:
        raise InvalidInput("bsn", "geef --bsn of --onderwijsnummer")
    refs = [pupil.ref] if pupil else []
    _log(session, who, AccessAction.FIND_PUPIL, "find", refs, reason=None if pupil else "niemand gevonden")
    return pupil


def list_pupils(session: Session, *, door: str, school: str = "") -> list[Pupil]:
    """Every pupil (of `school` only, when given), in order of registration, a line in the log for each."""
    who = operator(session, door)
    query = select(Pupil).order_by(col(Pupil.id))
    if school.strip():
        query = query.where(Pupil.school_code == school.strip().upper())
    pupils = list(session.exec(query).all())
    _log(session, who, AccessAction.LIST_PUPILS, "list", [p.ref for p in pupils])
    return pupils


def export_for(session: Session, *, door: str, pupil_ref: str) -> dict[str, Any]:
    """The pupil's subject-access export (`retention.export_pupil`), logged with the pupil."""
    who = operator(session, door)
    data = export_pupil(session, pupil_ref)
    ref = data["pupil"]["ref"]
    exported = [(ref, str(c["case"]["ref"])) for c in data["cases"]]  # a line per case in it (the log by case)
    _log(session, who, AccessAction.EXPORT_PUPIL_SERVER, "export", [ref], reason="inzage (AVG art. 15)", cases=exported)
    return data
