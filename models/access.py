"""Who may act on which case: plain Python, checked by every use case before it writes.

A professional acts within a scope given by their role and where they work:

    zorgcoordinator, schoolmaatschappelijk_werker, teamleider (of a school)
                         the cases of their own school
    jeugdhulpverlener, teamleider (of a provider)
                         the cases where their provider delivers in the current plan
    wijkteam             the cases of pupils living in their municipality
    manager              no case at all: managers read aggregates (the monitoring artifacts)

A refusal raises `AccessDenied`, which names the actor, the action and the rule, never anything
about the pupil; the unit of work then rolls the change back and audits the refusal on its own.
"""

from __future__ import annotations

import dataclasses

from models.errors import AccessDenied
from models.vocabulary import Role

SCHOOL_ROLES = {Role.COORDINATOR.value, Role.SCHOOL_SOCIAL_WORKER.value}


@dataclasses.dataclass(frozen=True)
class Actor:
    code: str
    role: str
    school_code: str | None = None
    provider_code: str | None = None
    municipality_code: str | None = None


@dataclasses.dataclass(frozen=True)
class CaseScope:
    """What decides access to one case: its reference, school, the pupil's municipality, the providers."""

    ref: str
    school_code: str
    municipality_code: str
    providers: frozenset[str] = frozenset()


def scope_rule(actor: Actor) -> str:
    """The actor's scope in words (Dutch), for the refusal message and the audit record of the refusal."""
    if actor.role == Role.MANAGER.value:
        return "een manager ziet alleen geaggregeerde cijfers, geen casussen"
    if actor.role in SCHOOL_ROLES or (actor.role == Role.TEAM_LEAD.value and actor.school_code):
        return f"alleen casussen van school {actor.school_code}"
    if actor.role == Role.DISTRICT_TEAM.value:
        return f"alleen casussen van inwoners van {actor.municipality_code}"
    if actor.provider_code:
        return f"alleen casussen waarin {actor.provider_code} hulp levert"
    return "geen casussen"


def may_act(actor: Actor, case: CaseScope) -> bool:
    if actor.role == Role.MANAGER.value:
        return False
    if actor.role in SCHOOL_ROLES or (actor.role == Role.TEAM_LEAD.value and actor.school_code):
        return actor.school_code == case.school_code
    if actor.role == Role.DISTRICT_TEAM.value:
        return actor.municipality_code == case.municipality_code
    if actor.role in (Role.YOUTH_WORKER.value, Role.TEAM_LEAD.value):
        return actor.provider_code is not None and actor.provider_code in case.providers
    return False


def check(actor: Actor, case: CaseScope, action: str) -> None:
    """Raise `AccessDenied` unless the actor may take `action` on the case."""
    if not may_act(actor, case):
        raise AccessDenied(actor.code, action, case.ref, scope_rule(actor))
