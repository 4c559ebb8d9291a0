"""The two outcome questions at closing on the family's own page (issue 26, `models.closing`): `/gezin/afsluiting`
shows the party's questions while they are open (and their answers, which they may change until the question
closes), takes the answers (POST, with the session's CSRF token; every wrong field named at once, in Dutch, 422),
thanks them and says what happens with the answer. Dutch by default, English with `?taal=en`. Who asks comes from
the family's login (`family_security.serve_family`); every view, answer and refusal is a line in the access log
with the party and the pupil's reference, never the answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from models import closing_words
from models.closing import SATISFACTION_FIELD, WITHOUT_HELP_FIELD, is_open
from models.errors import InvalidInput, InvalidInputs
from models.family import PUPIL
from models.schooldays import today as amsterdam_today
from models.tables import Case
from models.tables_family import ClosingAnswer
from models.vocabulary import AccessAction, AccessOutcome
from oja.dossier.family_security import FamilyMember, log_family, serve_family
from oja.dossier.forms import StrictFormRoute
from oja.dossier.pages_family_plan import _render, language
from oja.services import closing_questions
from oja.services.logins import tokens_match

router = APIRouter(route_class=StrictFormRoute)
FIELDS = (SATISFACTION_FIELD, WITHOUT_HELP_FIELD)
CSRF_RULE = "het formulier is verlopen of niet van deze site (CSRF)"


def _log(
    session: Session, request: Request, member: FamilyMember, case: Case | None, what: str, refused: bool = False
) -> None:
    log_family(
        session,
        request,
        member,
        AccessAction.FAMILY_OUTCOME,
        outcome=AccessOutcome.REFUSED if refused else AccessOutcome.ALLOWED,
        case_ref=case.ref if case else None,
        reason=f"gezin: {member.party}, login {member.login_id}: {what}"[:300],
    )


def _state(question: ClosingAnswer | None, today: dt.date) -> str:
    if question is None:
        return "geen"
    return "open" if is_open(today, question.open_until) else "gesloten"


def _page(
    request: Request,
    member: FamilyMember,
    question: ClosingAnswer | None,
    status_code: int = 200,
    *,
    errors: list[InvalidInput] | None = None,
    chosen: dict[str, str] | None = None,
    thanks: bool = False,
) -> Response:
    taal = language(request)
    today = amsterdam_today()
    if chosen is None and question is not None:
        chosen = {SATISFACTION_FIELD: question.satisfaction or "", WITHOUT_HELP_FIELD: question.without_help or ""}
    messages = [
        (
            e.field,
            closing_words.ERRORS_EN.get(e.field, e.rule) if taal == "en" else f"{e.rule[:1].upper()}{e.rule[1:]}.",
        )
        for e in errors or []
    ]
    context: dict[str, Any] = {
        "member": member,
        "pupil": member.party == PUPIL,
        "state": _state(question, today),
        "question": question,
        "fields": FIELDS,
        "ask": lambda field: closing_words.question(taal, member.party, field),
        "choices": lambda field: closing_words.choices(taal, field),
        "chosen": chosen or {},
        "errors": messages,
        "error_of": dict(messages),
        "thanks": thanks,
        "csrf": member.csrf,
    }
    return _render(request, "afsluiting.html", taal, status_code, **context)


@router.get("/gezin/afsluiting")
def questions_page(request: Request, bedankt: str = "") -> Response:
    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        question = closing_questions.latest_question(session, member.pupil_id, member.party)
        _log(session, request, member, case, "vragen bij afsluiten bekeken")
        return _page(request, member, question, thanks=bedankt == "1" and question is not None)

    return serve_family(request, AccessAction.FAMILY_OUTCOME, body)


@router.post("/gezin/afsluiting")
def questions_answer(
    request: Request, tevredenheid: str = Form(""), verder_zonder_hulp: str = Form(""), csrf: str = Form("")
) -> Response:
    data = {SATISFACTION_FIELD: tevredenheid, WITHOUT_HELP_FIELD: verder_zonder_hulp}

    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        if not tokens_match(member.csrf, csrf):
            _log(session, request, member, case, CSRF_RULE, refused=True)
            return _page(request, member, None, 403, errors=[InvalidInput("csrf", CSRF_RULE)])
        today = amsterdam_today()
        question = closing_questions.latest_question(session, member.pupil_id, member.party)
        if _state(question, today) != "open":
            _log(session, request, member, case, "geen open vragen", refused=True)
            return _page(request, member, question, 403)
        chosen = dict(data)
        try:
            closing_questions.answer(
                session, member.pupil_id, member.party, dict(data), today=today, now=dt.datetime.now(dt.UTC)
            )
        except InvalidInputs as several:
            _log(session, request, member, case, "antwoord onvolledig", refused=True)
            return _page(request, member, question, 422, errors=list(several.errors), chosen=chosen)
        except InvalidInput as one:
            _log(session, request, member, case, "antwoord onvolledig", refused=True)
            return _page(request, member, question, 422, errors=[one], chosen=chosen)
        _log(session, request, member, case, "antwoord opgeslagen")
        english = "&taal=en" if language(request) == "en" else ""
        return RedirectResponse(f"/gezin/afsluiting?bedankt=1{english}", status_code=303)

    return serve_family(request, AccessAction.FAMILY_OUTCOME, body)
