"""The known codes the forms in the Prefect UI offer as choices, each with a label.

A label starts with the code and says which one it is, in codes, roles and the names of organisations:
`PRF-0001 — zorgcoördinator 10HV`, `10HV — Twickel College`, `JEUGDPUNT — Jeugdpunt Twente`,
`GRP-01 — groep JEUGDPUNT 10HV`. Never a person's name (not a professional's either) and nothing about a
pupil: Prefect stores the forms' schemas and every parameter, and shows them to everyone with access.

`code_of` turns a chosen label back into its code (`PRF-0001 — ...` is `PRF-0001`); a bare code stays
as it is, so the API and the tests keep passing bare codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session, col, select

from models.access import REGIE_ROLES
from models.tables import GroupArrangement, Professional, Provider, School
from models.vocabulary import Role

SEPARATOR = " — "  # between the code and the rest of its label; a code never holds a space

Kind = Literal["schools", "providers", "professionals", "regie_holders", "workers", "groups"]
KINDS: tuple[Kind, ...] = ("schools", "providers", "professionals", "regie_holders", "workers", "groups")

ROLE_LABELS: dict[str, str] = {
    Role.COORDINATOR: "zorgcoördinator",
    Role.YOUTH_WORKER: "jeugdhulpverlener",
    Role.SCHOOL_SOCIAL_WORKER: "schoolmaatschappelijk werker",
    Role.DISTRICT_TEAM: "wijkteam",
    Role.TEAM_LEAD: "teamleider",
    Role.MANAGER: "manager",
    Role.PRIVACY_OFFICER: "privacyfunctionaris",
    Role.OPERATOR: "beheerder",
}


@dataclass(frozen=True)
class Choice:
    """One known code and its label (which starts with the code)."""

    code: str
    label: str


def labelled(code: str, *parts: str | None) -> Choice:
    """A choice whose label is the code, the separator and the parts that are there."""
    rest = " ".join(p for p in parts if p)
    return Choice(code, f"{code}{SEPARATOR}{rest}" if rest else code)


def code_of(value: object) -> object:
    """The code in a label chosen in a form (what comes before the separator); anything else as it is."""
    if isinstance(value, str) and SEPARATOR in value:
        return value.split(SEPARATOR, 1)[0].strip()
    return value


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role.replace("_", " "))


def school_choices(session: Session) -> list[Choice]:
    return [labelled(s.code, s.name) for s in session.exec(select(School).order_by(col(School.code)))]


def provider_choices(session: Session) -> list[Choice]:
    return [labelled(p.code, p.name) for p in session.exec(select(Provider).order_by(col(Provider.code)))]


def professional_choices(session: Session) -> list[Choice]:
    """Every professional: the role and where they work (a school, a provider or a municipality), by code."""
    return [
        labelled(p.code, role_label(p.role), p.school_code or p.provider_code or p.municipality_code)
        for p in session.exec(select(Professional).order_by(col(Professional.code)))
    ]


def _label(p: Professional) -> Choice:
    return labelled(p.code, role_label(p.role), p.school_code or p.provider_code or p.municipality_code)


def regie_holder_choices(session: Session) -> list[Choice]:
    """Who can hold regie (`models.access.REGIE_ROLES`): a school's staff by school, then providers' youth workers
    by provider. A form in Prefect is the same for every case, so the case's own school cannot come first; the
    engine refuses anyone who may not act on the case (`models.access.regie_refusal`)."""
    query = select(Professional).where(col(Professional.role).in_(REGIE_ROLES))
    found = session.exec(query).all()
    return [_label(p) for p in sorted(found, key=lambda p: (p.school_code is None, p.school_code or "",
                                                             p.provider_code or "", p.code))]  # fmt: skip


def worker_choices(session: Session) -> list[Choice]:
    """Who can deliver an intervention: the youth workers of a provider, by provider."""
    query = select(Professional).where(
        Professional.role == Role.YOUTH_WORKER.value, col(Professional.provider_code).is_not(None)
    )
    return [_label(p) for p in sorted(session.exec(query).all(), key=lambda p: (p.provider_code or "", p.code))]


def group_choices(session: Session) -> list[Choice]:
    return [
        labelled(g.code, "groep", g.provider_code, g.school_code)
        for g in session.exec(select(GroupArrangement).order_by(col(GroupArrangement.code)))
    ]


def known_codes(session: Session) -> dict[Kind, list[Choice]]:
    """The choices of every kind, each sorted by code; a kind without reference data has none."""
    return {
        "schools": school_choices(session),
        "providers": provider_choices(session),
        "professionals": professional_choices(session),
        "regie_holders": regie_holder_choices(session),
        "workers": worker_choices(session),
        "groups": group_choices(session),
    }
