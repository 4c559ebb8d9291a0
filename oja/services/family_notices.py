"""The sweep's mails to the family about their view at a review (issue 26; rules in `models.family_opinion`).

On a school day of the pupil's school, every family member with a login (invited, password set) who may see the
case today (`models.family.view_refusal`: authority, the 16+ pupil's switch) is asked for their view once the
window of the coming review opens, and reminded a few school days before it if they have not given it. Each mail is
decided once (`family_notice`'s unique key, also with two sweeps at once) and queued in the outbox in the same
transaction; it holds a greeting and the link to the family's page, nothing about the child.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models import family as family_rules
from models import family_opinion as rules
from models.lifecycle import CaseState
from models.schooldays import SchoolDayIndex, is_school_day
from models.tables import Case, utcnow
from models.tables_family import ClosingAnswer, FamilyLogin
from models.tables_family_opinion import FamilyNotice, FamilyOpinion
from models.tables_outbox import Outbox
from models.vocabulary import OutboxStatus
from oja.config import Policy, dossier_url
from oja.services import family_mail
from oja.services.calendar import school_calendars
from oja.services.family_members import family_of

FAMILY_ROLE = "gezin"  # the outbox's role of a family member's message
FAMILY_DIGEST = "gezin"
PAGE = "/gezin/mijn-mening"


def _insert_once(session: Session, row: dict[str, Any]) -> int | None:
    """The new notice's id, or None when it was decided before (by this sweep or another)."""
    key = ["login_id", "case_id", "due_on", "kind"]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(FamilyNotice).values(**row).on_conflict_do_nothing(index_elements=key)
    found = session.connection().execute(insert.returning(col(FamilyNotice.id))).first()
    return None if found is None else int(found[0])


def plan_family_notices(session: Session, *, day: dt.date, policy: Policy, link: str | None = None) -> int:
    """Decide and queue the day's mails about the family's view, in the caller's transaction; how many."""
    link = link or dossier_url() + PAGE
    calendars = school_calendars(session)
    stmt = (
        select(Case, FamilyLogin)
        .join(FamilyLogin, col(FamilyLogin.pupil_id) == col(Case.pupil_id))
        .where(
            Case.state == CaseState.ACTIVE.value,
            col(Case.next_review_on).is_not(None),
            col(FamilyLogin.password_hash).is_not(None),
        )
        .order_by(col(Case.id), col(FamilyLogin.id))
    )
    queued = 0
    for case, login in session.exec(stmt).all():
        calendar = calendars.get(case.school_code)
        due = case.next_review_on
        if calendar is None or due is None or not is_school_day(day, calendar):
            continue
        left = SchoolDayIndex(calendar, min(day, due), max(day, due)).between(day, due)
        given = session.exec(
            select(FamilyOpinion.id).where(
                FamilyOpinion.case_id == case.id, FamilyOpinion.due_on == due, FamilyOpinion.party == login.party
            )
        ).first()
        kind = rules.notice_due(
            left,
            open_days=policy.family_view_school_days,
            remind_days=policy.family_view_reminder_school_days,
            given=given is not None,
        )
        if kind is None:
            continue
        if family_rules.view_refusal(family_of(session, login, day)[0]) is not None:
            continue  # no authority (any more), or the pupil of 16+ closed the case to the parents
        row = {"login_id": login.id, "case_id": case.id, "due_on": due, "kind": kind.value, "sweep_date": day}
        notice_id = _insert_once(session, row)
        if notice_id is None:
            continue
        message = family_mail.opinion_message(link, reminder=kind is rules.FamilyNoticeKind.REMINDER)
        outbox = Outbox(
            recipient_code=None,
            role=FAMILY_ROLE,
            to_address=login.email,
            digest=FAMILY_DIGEST,
            sweep_date=day,
            subject=message.subject,
            text=message.text,
            html=message.html,
            status=OutboxStatus.PENDING.value,
            created_at=utcnow(),
        )
        session.add(outbox)
        session.flush()
        session.execute(sa.update(FamilyNotice).where(col(FamilyNotice.id) == notice_id).values(outbox_id=outbox.id))
        queued += 1
    return queued


def lapse_reason(engine: sa.Engine, outbox_id: int, *, today: dt.date) -> str | None:
    """Just before a family member's message is sent (`dispatch`): why it no longer holds, in codes, or None. The
    review recorded meanwhile, the view given (a reminder), authority removed or the case closed to the parents.
    The questions at closing (`closing_questions`) hold once asked: the answers stay open their period."""
    with Session(engine) as session:
        row = session.exec(
            select(FamilyNotice, FamilyLogin, Case)
            .join(FamilyLogin, col(FamilyLogin.id) == col(FamilyNotice.login_id))
            .join(Case, col(Case.id) == col(FamilyNotice.case_id))
            .where(FamilyNotice.outbox_id == outbox_id)
        ).first()
        if row is None:  # not a mail asking for a view: the questions at closing hold once asked
            asked = session.exec(select(ClosingAnswer.id).where(ClosingAnswer.outbox_id == outbox_id)).first()
            return None if asked is not None else "geen gezinsbericht meer bij dit bericht"
        notice, login, case = row
        given = session.exec(
            select(FamilyOpinion.id).where(
                FamilyOpinion.case_id == case.id,
                FamilyOpinion.due_on == notice.due_on,
                FamilyOpinion.party == login.party,
            )
        ).first()
        may_see = family_rules.view_refusal(family_of(session, login, today)[0]) is None
        active = case.state == CaseState.ACTIVE.value and case.next_review_on == notice.due_on
        if rules.notice_holds(notice.kind, case_active=active, given=given is not None, may_see=may_see):
            return None
        return f"{case.ref} {notice.kind} {login.party}: geldt niet meer"
