"""Pupils: their personal details (entered through the CLI, never through Prefect) and their parents."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, select

from models.errors import InvalidInput
from models.identity import (
    validate_birth_date,
    validate_bsn,
    validate_onderwijsnummer,
)
from models.tables import (
    Municipality,
    Parent,
    Pupil,
    School,
)
from models.vocabulary import ConsentParty
from oja.services.kernel import (
    clean_text,
    load,
)
from oja.services.reads import key

PARENT_PARTIES = (ConsentParty.PARENT_1.value, ConsentParty.PARENT_2.value)  # by a parent's position, 1 or 2


@dataclasses.dataclass(frozen=True)
class ParentSpec:
    name: str
    has_authority: bool = True


def register_pupil(
    session: Session,
    *,
    given_name: str,
    family_name: str,
    birth_date: dt.date,
    school_code: str,
    municipality_code: str,
    bsn: str | None = None,
    onderwijsnummer: str | None = None,
    parents: Sequence[ParentSpec] = (),
    today: dt.date,
) -> str:
    """Register a pupil's personal details; returns the pseudonymous pupil reference."""
    given = clean_text(given_name, "given_name")
    family = clean_text(family_name, "family_name")
    validate_birth_date(birth_date, today)
    if not bsn and not onderwijsnummer:
        raise InvalidInput("bsn", "geef een BSN, of zonder BSN een onderwijsnummer")
    number = validate_bsn(bsn) if bsn else None
    onr = validate_onderwijsnummer(onderwijsnummer) if onderwijsnummer else None
    load(session, School, school_code, "school_code", "school")
    load(session, Municipality, municipality_code, "municipality_code", "gemeente")
    if len(parents) > 2:
        raise InvalidInput("parents", f"hoogstens twee ouders ({', '.join(PARENT_PARTIES)})")
    if number and session.exec(select(Pupil.ref).where(Pupil.bsn == number)).first():
        raise InvalidInput("bsn", "er is al een leerling met dit BSN geregistreerd")
    if onr and session.exec(select(Pupil.ref).where(Pupil.onderwijsnummer == onr)).first():
        raise InvalidInput("onderwijsnummer", "er is al een leerling met dit onderwijsnummer geregistreerd")
    pupil = Pupil(
        ref="LL-PENDING",
        given_name=given,
        family_name=family,
        bsn=number,
        onderwijsnummer=onr,
        birth_date=birth_date,
        school_code=school_code,
        municipality_code=municipality_code,
    )
    session.add(pupil)
    session.flush()
    pupil.ref = f"LL-{pupil.id:06d}"
    for position, parent in enumerate(parents, start=1):
        session.add(
            Parent(
                pupil_id=key(pupil),
                position=position,
                name=clean_text(parent.name, f"parents[{position}].name"),
                has_authority=parent.has_authority,
            )
        )
    session.add(pupil)
    return pupil.ref


def parents_with_authority(session: Session, pupil: Pupil) -> list[str]:
    """The consent parties (`ouder_1`, `ouder_2`) of the pupil's parents with authority (gezag)."""
    rows = session.exec(select(Parent).where(Parent.pupil_id == pupil.id, Parent.has_authority)).all()
    return [PARENT_PARTIES[p.position - 1] for p in rows]
