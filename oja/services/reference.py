"""Reference data: municipalities, schools, providers, professionals and group arrangements (entered through
the CLI and the demo)."""

from __future__ import annotations

import re

from sqlmodel import Session

from models.errors import InvalidInput
from models.tables import (
    GroupArrangement,
    Municipality,
    Professional,
    Provider,
    School,
)
from models.vocabulary import (
    HolidayRegion,
    Role,
)
from oja.services.groups import group_members
from oja.services.kernel import (
    choice,
    clean_code,
    clean_text,
    load,
    load_actor,
)


def upsert_municipality(session: Session, *, code: str, name: str, district_team_email: str | None = None) -> None:
    code = (code or "").strip().upper()
    if not re.match(r"^GM\d{4}$", code):
        raise InvalidInput("code", "moet een gemeentecode zijn: GM en 4 cijfers (CBS), bijvoorbeeld GM0164")
    obj = session.get(Municipality, code) or Municipality(code=code, name="")
    obj.name = clean_text(name, "name")
    obj.district_team_email = district_team_email
    session.add(obj)


def upsert_school(session: Session, *, code: str, name: str, holiday_region: str, municipality_code: str) -> None:
    code = clean_code(code, "code")
    load(session, Municipality, municipality_code, "municipality_code", "gemeente")
    obj = session.get(School, code) or School(code=code, name="", holiday_region="", municipality_code="")
    obj.name = clean_text(name, "name")
    obj.holiday_region = choice(holiday_region, HolidayRegion, "holiday_region")
    obj.municipality_code = municipality_code
    session.add(obj)


def upsert_provider(session: Session, *, code: str, name: str) -> None:
    code = clean_code(code, "code")
    obj = session.get(Provider, code) or Provider(code=code, name="")
    obj.name = clean_text(name, "name")
    session.add(obj)


def upsert_professional(
    session: Session,
    *,
    code: str,
    name: str,
    role: str,
    email: str | None = None,
    school_code: str | None = None,
    provider_code: str | None = None,
    municipality_code: str | None = None,
) -> None:
    code = clean_code(code, "code")
    role = choice(role, Role, "role")
    if school_code:
        load(session, School, school_code, "school_code", "school")
    if provider_code:
        load(session, Provider, provider_code, "provider_code", "aanbieder")
    if municipality_code:
        load(session, Municipality, municipality_code, "municipality_code", "gemeente")
    obj = session.get(Professional, code) or Professional(code=code, name="", role=role)
    obj.name = clean_text(name, "name")
    obj.role = role
    obj.email = email
    obj.school_code = school_code
    obj.provider_code = provider_code
    obj.municipality_code = municipality_code
    session.add(obj)


def upsert_group(
    session: Session,
    *,
    code: str,
    provider_code: str,
    professional_code: str,
    capacity: int,
    hours_per_week: float,
    school_code: str | None = None,
) -> None:
    """A group arrangement: one professional, a number of places, hours a week for the whole group."""
    code = clean_code(code, "code")
    provider = load(session, Provider, clean_code(provider_code, "provider_code"), "provider_code", "aanbieder")
    prof = load_actor(session, professional_code, "professional_code")
    if prof.provider_code != provider.code:
        raise InvalidInput(
            "professional_code",
            f"moet een professional van aanbieder {provider.code} zijn; {prof.code} werkt daar niet",
        )
    if school_code:
        load(session, School, school_code, "school_code", "school")
    if not 2 <= capacity <= 30:
        raise InvalidInput("capacity", "een groep moet 2 tot en met 30 plaatsen hebben")
    if not 0 < hours_per_week <= 40:
        raise InvalidInput("hours_per_week", "moet meer dan 0 en hoogstens 40 uur per week zijn")
    members = group_members(session, code)
    if members > capacity:
        raise InvalidInput("capacity", f"mag niet kleiner zijn dan het aantal leden nu ({members})")
    group = session.get(GroupArrangement, code) or GroupArrangement(
        code=code, provider_code=provider.code, professional_code=prof.code, capacity=capacity, hours_per_week=0
    )
    group.provider_code, group.professional_code, group.school_code = provider.code, prof.code, school_code
    group.capacity, group.hours_per_week = capacity, float(hours_per_week)
    session.add(group)
