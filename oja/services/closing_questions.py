"""The two outcome questions at closing (issue 26, `models.closing`): asked of the family when a case closes after
an arrangement ran, answered on their own page (`/gezin/afsluiting`), counted for the managers.

    ask_family(...)      in the closing decision's own transaction (`review.decide`): a `ClosingAnswer` row per
                         invited family member who may see the case today, and an outbox message to each (a
                         greeting and the link; nothing about the child). The row's unique key (the closing
                         decision, the party) makes the question, and its mail, happen once
    open_question(...)   the party's question of the pupil's latest closing, while it is open
    answer(...)          the party's answers, changed as often as they like until the question closes
    answered(...)        the answers given at closings since a day (codes, by pupil, for the tables)

The e-mail address goes into the outbox row only (as a professional's does), never to Prefect: the dispatch's
report names a message by its id, and a failure's text is stripped of the address (`oja.services.dispatch`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import closing as rules
from models import family
from models.schooldays import add_school_days
from models.tables import Case, Decision, Plan
from models.tables_family import ClosingAnswer, FamilyLogin
from models.tables_outbox import Outbox
from models.vocabulary import DigestKind, OutboxStatus
from notifications.messages import RenderedMessage
from oja.config import Policy, dossier_url
from oja.services import family_members
from oja.services.family_notices import FAMILY_ROLE  # the outbox's role of a family member's message (mail only)
from oja.services.kernel import case_calendar

PAGE = "/gezin/afsluiting"


def question_message(link: str, until: dt.date) -> RenderedMessage:
    """The mail that asks: a greeting, what is asked and why, the link. Nothing about the child, no code."""
    lines = [
        "Hallo,",
        "De extra hulp op school is gestopt. We willen graag weten wat u ervan vond. Het gaat om twee korte "
        "vragen: hoe tevreden u bent, en of u nu verder kunt zonder deze hulp.",
        f"Log in op uw eigen pagina om de vragen te beantwoorden (dat kan tot en met {until:%d-%m-%Y}):",
        link,
        "Uw antwoord is niet verplicht. De school ziet alleen hoeveel mensen tevreden waren, niet wat u zelf "
        "heeft gekozen.",
    ]
    text = "\n\n".join(lines) + "\n"
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    subject = "Twee vragen over de hulp op school"
    return RenderedMessage(subject=subject, text=text, html=f"<html><body>{body}</body></html>")


def _arrangement_ran(session: Session, case: Case) -> bool:
    """Whether help started in the case's current episode (a plan since the last reopening with a start)."""
    started = select(Plan.id).where(
        Plan.case_id == case.id, col(Plan.version) > case.reopened_after_plan, col(Plan.active_from).is_not(None)
    )
    return session.exec(started).first() is not None


def ask_family(
    session: Session, case: Case, decision: Decision, *, today: dt.date, policy: Policy
) -> list[ClosingAnswer]:
    """At a closing decision: ask each invited family member who may see the case today, once (in the caller's
    transaction). Nothing when no arrangement ran in this episode."""
    if not rules.asks(by_decision=True, arrangement_ran=_arrangement_ran(session, case)):
        return []
    assert decision.id is not None and case.id is not None
    until = add_school_days(today, policy.closing_answer_school_days, case_calendar(session, case))
    message = question_message(f"{dossier_url()}{PAGE}", until)
    asked: list[ClosingAnswer] = []
    logins = session.exec(select(FamilyLogin).where(FamilyLogin.pupil_id == case.pupil_id).order_by(FamilyLogin.party))
    for login in logins.all():
        who, _ = family_members.family_of(session, login, today)
        if family.view_refusal(who) is not None:
            continue
        done = session.exec(
            select(ClosingAnswer.id).where(ClosingAnswer.decision_id == decision.id, ClosingAnswer.party == login.party)
        ).first()
        if done is not None:  # never twice
            continue
        mail = Outbox(
            recipient_code=None,
            role=FAMILY_ROLE,
            to_address=login.email,
            digest=DigestKind.DAILY.value,
            sweep_date=today,
            subject=message.subject,
            text=message.text,
            html=message.html,
            status=OutboxStatus.PENDING.value,
        )
        session.add(mail)
        session.flush()
        row = ClosingAnswer(
            case_id=case.id,
            decision_id=decision.id,
            party=login.party,
            asked_on=today,
            open_until=until,
            outbox_id=mail.id,
        )
        session.add(row)
        asked.append(row)
    session.flush()
    return asked


def latest_question(session: Session, pupil_id: int, party: str) -> ClosingAnswer | None:
    """The party's question of the pupil's latest closing that asked them (open or not), or None."""
    query = (
        select(ClosingAnswer)
        .join(Case, col(Case.id) == col(ClosingAnswer.case_id))
        .where(Case.pupil_id == pupil_id, ClosingAnswer.party == party)
        .order_by(col(ClosingAnswer.decision_id).desc())
    )
    return session.exec(query).first()


def open_question(session: Session, pupil_id: int, party: str, today: dt.date) -> ClosingAnswer | None:
    """The party's question while it is open (the latest closing's), or None."""
    question = latest_question(session, pupil_id, party)
    return question if question is not None and rules.is_open(today, question.open_until) else None


def answer(
    session: Session, pupil_id: int, party: str, form: dict[str, object], *, today: dt.date, now: dt.datetime
) -> ClosingAnswer:
    """Record (or change) the party's two answers. Refused (`InvalidInput`, or `InvalidInputs` with every wrong
    field): no question asked of this party, the question closed, a missing or unknown answer."""
    question = latest_question(session, pupil_id, party)
    refusal = rules.closed_refusal(today, question.open_until if question else None)
    if refusal is not None:
        raise refusal
    assert question is not None
    satisfaction, without_help = rules.check_answers(form)
    question.satisfaction, question.without_help, question.answered_at = satisfaction, without_help, now
    session.add(question)
    session.flush()
    return question


@dataclasses.dataclass(frozen=True)
class Answered:
    """One party's answers at one closing: codes, and the pupil (for the count of distinct pupils)."""

    pupil_id: int
    party: str
    satisfaction: str
    without_help: str

    @property
    def informant(self) -> str:
        """`leerling` or `ouders`: the pupil's answers and the parents' are counted apart, never mixed."""
        return family.PUPIL if self.party == family.PUPIL else "ouders"


def answered(session: Session, *, start: dt.date, end: dt.date | None = None) -> list[Answered]:
    """The answers given at closings from `start` (to `end`, both included, by the day asked)."""
    query = (
        select(
            col(Case.pupil_id),
            col(ClosingAnswer.party),
            col(ClosingAnswer.satisfaction),
            col(ClosingAnswer.without_help),
        )
        .join(Case, col(Case.id) == col(ClosingAnswer.case_id))
        .where(col(ClosingAnswer.answered_at).is_not(None), col(ClosingAnswer.asked_on) >= start)
    )
    if end is not None:
        query = query.where(col(ClosingAnswer.asked_on) <= end)
    return [Answered(p, party, sat or "", wh or "") for p, party, sat, wh in session.exec(query).all()]


def forget(session: Session, case_ids: Sequence[int | None]) -> None:
    """With a destroyed dossier: the answers go, and the address in the mails that asked."""
    mails = select(ClosingAnswer.outbox_id).where(col(ClosingAnswer.case_id).in_(case_ids))
    session.exec(sa.update(Outbox).where(col(Outbox.id).in_(mails)).values(to_address=None))
    session.exec(sa.delete(ClosingAnswer).where(col(ClosingAnswer.case_id).in_(case_ids)))
