"""Places in group arrangements: taking one (at the plan step, or scaling down to level 1), giving it back, and
the group a case is in now. A group is for level 1 only (`models.lifecycle.LOWEST_IN_SCHOOL`), of the case's school
(when it belongs to one), with a free place.

Every change of place is named in the audit record of the step that made it (`place_text`): the trail says where.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, func, select

from models import lifecycle as lc
from models.errors import InvalidInput, UnknownReference
from models.tables import Case, GroupArrangement, GroupMember
from oja.services.kernel import clean_code
from oja.services.reads import current_group, key


def group_members(session: Session, code: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(GroupMember)
        .where(GroupMember.group_code == code, col(GroupMember.left_on).is_(None))
    ).one()


def group_for(session: Session, case: Case, code: str, *, level: int, field: str = "group_code") -> GroupArrangement:
    """The group the case may take a place in at `level`, locked; refused with every rule it breaks at once."""
    group = session.exec(
        select(GroupArrangement).where(GroupArrangement.code == clean_code(code, field)).with_for_update()
    ).first()
    if group is None:
        raise UnknownReference(field, "groepsarrangement", code.strip().upper())
    rules = []
    if level != lc.LOWEST_IN_SCHOOL:
        rules.append(f"een groep is voor niveau {lc.LOWEST_IN_SCHOOL}; deze casus heeft niveau {level}")
    if group.school_code and group.school_code != case.school_code:
        rules.append(
            f"groep {group.code} hoort bij school {group.school_code}: kies een groep van de school van de casus"
        )
    if current_group(session, case) != group.code and group_members(session, group.code) >= group.capacity:
        rules.append(f"groep {group.code} is vol ({group.capacity} plaatsen): kies een andere groep")
    if rules:
        raise InvalidInput(field, "; ".join(rules))
    return group


def join_group(session: Session, case: Case, code: str, today: dt.date, *, level: int | None = None) -> list[str]:
    """Take a place in the group (leaving another one first); the audit's words for it (`place_text`)."""
    group = group_for(session, case, code, level=case.level if level is None else level)
    if current_group(session, case) == group.code:
        return [f"groep {group.code}"]
    left = left_text(leave_groups(session, case, today))
    session.add(GroupMember(group_code=group.code, case_id=key(case), joined_on=today))
    return [*left, f"groep {group.code}"]


def leave_groups(session: Session, case: Case, today: dt.date) -> list[str]:
    """Give back every place the case has; the codes of the groups left."""
    left = []
    for member in session.exec(
        select(GroupMember).where(GroupMember.case_id == case.id, col(GroupMember.left_on).is_(None))
    ).all():
        member.left_on = today
        session.add(member)
        left.append(member.group_code)
    return left


def place_text(base: str | None, *parts: str) -> str | None:
    """An audit reason with the places taken or given back after it: `herbeoordeling_verkorting; groep GRP-1`."""
    words = [p for p in (base, *parts) if p]
    return "; ".join(words) if words else None


def left_text(codes: list[str]) -> list[str]:
    return [f"groep {c} verlaten" for c in codes]
