"""Who of the family may be invited to, and see, the family's own page of a case (issue 26): plain Python.

The parties are those of consent (`models.identity`): `ouder_1`, `ouder_2` (by `Parent.position`) and `leerling`.

    invited       a parent with authority (gezag); the pupil from 12
    sees          a parent: only their own child's case, only with authority, checked at every request (authority
                  removed after the invitation: nothing more); from the pupil's 16th birthday, only when the pupil
                  lets the parents see it (`Pupil.parents_may_see`, default yes)
                  the pupil: their own case, from 12
    decides       the switch for the parents: only the pupil, from 16

A refusal is a rule in Dutch (B1), naming no one: the caller logs it with the pupil's pseudonym and the case.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from models import identity
from models.errors import InvalidInput

PUPIL = identity.PUPIL
PARENTS = ("ouder_1", "ouder_2")
PARTIES = (*PARENTS, PUPIL)
INVITE_AGE = 12  # the pupil is invited from 12
DECIDE_AGE = 16  # from 16 the pupil decides whether the parents see the case
NO_AUTHORITY = "een ouder zonder gezag krijgt geen toegang tot de casus"
TOO_YOUNG = f"een leerling krijgt pas vanaf {INVITE_AGE} jaar een eigen toegang"
CLOSED_BY_PUPIL = f"de leerling (vanaf {DECIDE_AGE} jaar) heeft besloten dat de ouders de casus niet zien"
NOT_DECIDING = f"alleen de leerling zelf, vanaf {DECIDE_AGE} jaar, bepaalt of de ouders de casus zien"
NO_PARENT = "deze ouder staat niet bij de leerling geregistreerd"
EMAIL_MAX = 254
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


@dataclasses.dataclass(frozen=True)
class Family:
    """What decides a party's access: the pupil's age today, the parent's authority (None: no such parent
    registered, or the party is the pupil) and the pupil's switch for the parents."""

    party: str
    pupil_age: int
    parent_has_authority: bool | None
    parents_may_see: bool = True


def age_on(birth_date: dt.date | None, today: dt.date) -> int:
    """Whole years on `today` (a birthday on 29 February counts from 1 March in other years); 0 without a date."""
    if birth_date is None:
        return 0
    had_birthday = (today.month, today.day) >= (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (0 if had_birthday else 1)


def party_of_position(position: int) -> str:
    return f"ouder_{position}"


def invite_refusal(family: Family) -> str | None:
    """Why this party may not be invited, or None."""
    if family.party not in PARTIES:
        raise InvalidInput("partij", f"moet een van {', '.join(PARTIES)} zijn")
    if family.party == PUPIL:
        return TOO_YOUNG if family.pupil_age < INVITE_AGE else None
    if family.parent_has_authority is None:
        return NO_PARENT
    return None if family.parent_has_authority else NO_AUTHORITY


def view_refusal(family: Family) -> str | None:
    """Why this party may not see the case on the family's page today, or None. Checked at every request."""
    refusal = invite_refusal(family)
    if refusal is not None or family.party == PUPIL:
        return refusal
    if family.pupil_age >= DECIDE_AGE and not family.parents_may_see:
        return CLOSED_BY_PUPIL
    return None


def may_decide_for_parents(family: Family) -> bool:
    return family.party == PUPIL and family.pupil_age >= DECIDE_AGE


def actor_words(party: str, pupil_ref: str) -> str:
    """How the access log names a family member: `ouder_1 van LL-000123`, never a name."""
    return f"{party} van {pupil_ref}"


def check_email(value: object, field: str = "e-mailadres") -> str:
    """An e-mail address as typed on a form: trimmed, lower case; refused (naming `field`) when it is not one."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "vul een e-mailadres in")
    email = value.strip().lower()
    if len(email) > EMAIL_MAX:
        raise InvalidInput(field, f"mag niet langer zijn dan {EMAIL_MAX} tekens")
    if not email.isascii() or not _EMAIL.fullmatch(email):
        raise InvalidInput(field, "moet een e-mailadres zijn zoals naam@voorbeeld.nl")
    return email
