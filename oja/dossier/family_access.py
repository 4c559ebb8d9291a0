"""Who of the family is behind a request to `/gezin/...`: a placeholder for the family's login (issue 26).

The family's invitation and login are built apart; they replace `current_family` (and `Member`, with their own class
of the same shape). Until then nobody of a family is logged in: every family page sends the browser to
`/gezin/inloggen`. The pages take the member as an argument (`pages_family.plan_page(request, member)`), so wiring
them to the login is this one function; tests override the dependency `family_member` (FastAPI
`dependency_overrides`) or set `current_family`.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from fastapi import Request
from sqlmodel import Session

from oja.adapters.db import unit_of_work

LOGIN_PAGE = "/gezin/inloggen"


class FamilyMember(Protocol):
    """A logged-in parent or pupil: which party (models.vocabulary.ConsentParty) of which pupil, by which login."""

    @property
    def party(self) -> str: ...  # ouder_1, ouder_2 or leerling

    @property
    def pupil_id(self) -> int: ...

    @property
    def login_id(self) -> object: ...


@dataclasses.dataclass(frozen=True)
class Member:
    party: str
    pupil_id: int
    login_id: int


def current_family(request: Request, session: Session) -> FamilyMember | None:
    """The family member logged in with this request; None: nobody (placeholder until the family's login)."""
    return None


def family_member(request: Request) -> FamilyMember | None:
    """The FastAPI dependency of the family's routes: `current_family`, looked up when called."""
    with unit_of_work() as session:
        return current_family(request, session)
