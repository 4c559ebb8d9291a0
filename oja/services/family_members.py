"""Who a family member is today, for the rules of `models.family`: their party, the pupil's age, the parent's
authority and the pupil's switch for the parents, read anew at every request (authority may have been removed).

Reads only, and nothing of the dossier's other services: the sweep's mails (`family_notices`), consent
(`family_consent`), the questions at closing (`closing_questions`), the login (`family_logins`) and the family's
pages all ask here.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from models import family as rules
from models.tables import Parent, Pupil
from models.tables_family import FamilyLogin


def family_of(session: Session, login: FamilyLogin, today: dt.date) -> tuple[rules.Family, Pupil]:
    """What decides the login's access today, and the pupil."""
    pupil = session.get(Pupil, login.pupil_id)
    assert pupil is not None
    return family(session, pupil, login.party, today), pupil


def family(session: Session, pupil: Pupil, party: str, today: dt.date) -> rules.Family:
    """What decides the access of `party` of `pupil` today."""
    authority = None
    if party in rules.PARENTS:
        found = parent(session, pupil, party)
        authority = found.has_authority if found is not None else None
    return rules.Family(party, rules.age_on(pupil.birth_date, today), authority, pupil.parents_may_see)


def parent(session: Session, pupil: Pupil, party: str) -> Parent | None:
    """The parent `ouder_1` or `ouder_2` of the pupil, if registered."""
    position = int(party.removeprefix("ouder_"))
    return session.exec(select(Parent).where(Parent.pupil_id == pupil.id, Parent.position == position)).first()
