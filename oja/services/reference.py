"""Reference data: municipalities, schools, providers, professionals and group arrangements (entered through
the CLI and the demo; group arrangements also in the dossier, by the operator: `oja/dossier/pages_groups.py`)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from sqlmodel import Session, col, select

from models.errors import InvalidInput
from models.tables import (
    Case,
    GroupArrangement,
    GroupMember,
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


GROUP_FIELDS = ("code", "provider_code", "professional_code", "school_code", "capacity", "hours_per_week")


@dataclasses.dataclass(frozen=True)
class GroupLine:
    """A group arrangement as the operator sees it: codes and numbers, the places taken now."""

    code: str
    provider_code: str
    professional_code: str
    school_code: str | None
    capacity: int
    taken: int
    hours_per_week: float


def list_groups(session: Session) -> list[GroupLine]:
    return [
        GroupLine(
            g.code, g.provider_code, g.professional_code, g.school_code, g.capacity, group_members(session, g.code),
            g.hours_per_week,
        )
        for g in session.exec(select(GroupArrangement).order_by(col(GroupArrangement.code))).all()
    ]  # fmt: skip


def check_group(
    session: Session,
    *,
    code: str,
    provider_code: str,
    professional_code: str,
    capacity: int,
    hours_per_week: float,
    school_code: str | None = None,
) -> list[InvalidInput]:
    """Every rule a group arrangement's values break, all at once (field by field, in the form's order)."""
    problems: list[InvalidInput] = []

    def check(rule: Callable[[], object]) -> object:
        try:
            return rule()
        except InvalidInput as exc:
            problems.append(exc)
            return None

    code = str(check(lambda: clean_code(code, "code")) or "")
    provider = check(
        lambda: load(session, Provider, clean_code(provider_code, "provider_code"), "provider_code", "aanbieder")
    )
    prof = check(lambda: load_actor(session, professional_code, "professional_code"))
    if isinstance(provider, Provider) and isinstance(prof, Professional) and prof.provider_code != provider.code:
        problems.append(
            InvalidInput(
                "professional_code",
                f"moet een professional van aanbieder {provider.code} zijn; {prof.code} werkt daar niet",
            )
        )
    school = school_code and check(
        lambda: load(session, School, clean_code(school_code, "school_code"), "school_code", "school")
    )
    if not 2 <= capacity <= 30:
        problems.append(InvalidInput("capacity", "een groep moet 2 tot en met 30 plaatsen hebben"))
    if not 0 < hours_per_week <= 40:
        problems.append(InvalidInput("hours_per_week", "moet meer dan 0 en hoogstens 40 uur per week zijn"))
    if code:
        members = group_members(session, code)
        if members > capacity:
            problems.append(
                InvalidInput("capacity", f"mag niet kleiner zijn dan het aantal leerlingen in de groep nu ({members})")
            )
        if isinstance(school, School):
            elsewhere = session.exec(
                select(Case.school_code)
                .join(GroupMember, col(GroupMember.case_id) == col(Case.id))
                .where(
                    GroupMember.group_code == code, col(GroupMember.left_on).is_(None), Case.school_code != school.code
                )
            ).first()
            if elsewhere is not None:
                problems.append(
                    InvalidInput(
                        "school_code",
                        f"de groep heeft nu leerlingen van school {elsewhere}: laat de school leeg of kies {elsewhere}",
                    )
                )
    return problems


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
    """A group arrangement: one professional of its provider, 2 to 30 places, hours a week for the whole group,
    for one school or any. Refused on the first rule broken; `check_group` names them all."""
    problems = check_group(
        session, code=code, provider_code=provider_code, professional_code=professional_code, capacity=capacity,
        hours_per_week=hours_per_week, school_code=school_code or None,
    )  # fmt: skip
    if problems:
        raise problems[0]
    code = clean_code(code, "code")
    school = clean_code(school_code, "school_code") if school_code else None
    provider, prof = clean_code(provider_code, "provider_code"), clean_code(professional_code, "professional_code")
    group = session.get(GroupArrangement, code) or GroupArrangement(
        code=code, provider_code=provider, professional_code=prof, capacity=capacity, hours_per_week=0
    )
    group.provider_code, group.professional_code, group.school_code = provider, prof, school
    group.capacity, group.hours_per_week = capacity, float(hours_per_week)
    session.add(group)
