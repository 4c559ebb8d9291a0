"""Who may act on which case: plain Python, checked by every use case before it writes.

A professional acts within a scope given by their role and where they work:

    zorgcoordinator, schoolmaatschappelijk_werker, teamleider (of a school)
                         the cases of their own school
    jeugdhulpverlener, teamleider (of a provider)
                         the cases where their provider delivers in the current plan
    wijkteam             the cases of pupils living in their municipality
    manager              no case at all: managers read aggregates (the monitoring artifacts)

The current plan is the newest plan of the case's current episode: a plan from before the case was last reopened
no longer gives its providers access (`CaseScope.providers` holds only the current episode's).

Within its scope, some work belongs to some roles only:

    regie                the core team: zorgcoordinator, schoolmaatschappelijk_werker, jeugdhulpverlener
                         (a regie holder must also be able to act on the case: `regie_refusal`)
    goal texts           everyone who may act on the case except the district team, which reads them
    subject access       the school roles (`may_export`): the pupil's own school exports everything held,
                         another school only its own cases of the pupil

A refusal raises `AccessDenied`, which names the actor, the action and the rule, never anything
about the pupil; the unit of work then rolls the change back and audits the refusal on its own.
"""

from __future__ import annotations

import dataclasses

from models.errors import AccessDenied
from models.vocabulary import Role

SCHOOL_ROLES = {Role.COORDINATOR.value, Role.SCHOOL_SOCIAL_WORKER.value}
REGIE_ROLES = (Role.COORDINATOR.value, Role.SCHOOL_SOCIAL_WORKER.value, Role.YOUTH_WORKER.value)  # the core team
ROLE_WORDS = {  # a role in a sentence (Dutch)
    Role.COORDINATOR.value: "zorgcoördinator",
    Role.SCHOOL_SOCIAL_WORKER.value: "schoolmaatschappelijk werker",
    Role.YOUTH_WORKER.value: "jeugdhulpverlener",
}
EXPORT_RULE = "alleen een school (zorgcoördinator, schoolmaatschappelijk werker, teamleider) geeft inzage aan ouders"
GOALS_RULE = "het wijkteam leest de doelen; het kernteam van school en aanbieder beschrijft ze"


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


def school_reach(actor: Actor) -> bool:
    """A school role (or a school's team lead) with a school: the cases and pupils of that school."""
    return bool(actor.school_code) and (
        actor.role in SCHOOL_ROLES or (actor.role == Role.TEAM_LEAD.value and actor.school_code is not None)
    )


def may_export(actor: Actor) -> bool:
    """Whether the actor may download a pupil's subject-access export (AVG art. 15): the school roles only."""
    return school_reach(actor)


def may_describe_goals(actor: Actor) -> bool:
    """Whether the actor may write goal texts on a case in their scope: not the district team."""
    return actor.role != Role.DISTRICT_TEAM.value


def regie_refusal(holder: Actor, case: CaseScope) -> str | None:
    """Why `holder` cannot hold regie of the case (Dutch), or None when they can: a role of the core team
    (`REGIE_ROLES`), and the case within their scope (for a youth worker: their provider delivers in the plan)."""
    if holder.role not in REGIE_ROLES:
        roles = ", ".join(ROLE_WORDS[r] for r in REGIE_ROLES)
        return f"{holder.code} is {holder.role}: alleen een {roles} kan regiehouder zijn"
    if not may_act(holder, case):
        return f"{holder.code} mag niet handelen in casus {case.ref} ({scope_rule(holder)})"
    return None
