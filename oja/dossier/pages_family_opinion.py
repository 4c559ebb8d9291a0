"""The family's own view at every review (issue 26, hoorrecht): `/gezin/mijn-mening`, for the pupil and each parent
who may see the case (`family_security.serve_family` checks it at every request). Per goal of the current plan, in
words as the plan page shows it, a score on the scale in plain words (or "weet ik niet"), and two text boxes: what
goes well, what should change. Open from `family_view_school_days` school days before the review until the review is
recorded (`oja.services.family_opinion`); changed as often as they like until then.

The POST carries the session's CSRF token; a wrong form is answered 422 with every wrong field named in Dutch, and
nothing written; a refusal (CSRF, closed) is logged. Every view and every view given is a line in the access log
(the words never: they stay in the database).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from models.errors import InvalidInput, InvalidInputs
from models.family import PUPIL
from models.family_words import SCALE_VALUES
from models.schooldays import today as amsterdam_today
from models.tables import Case
from models.vocabulary import AccessAction, AccessOutcome
from oja.config import get_policy
from oja.dossier.family_security import FamilyMember, log_family, serve_family
from oja.dossier.forms import StrictFormRoute
from oja.dossier.pages_family_plan import _render, language
from oja.services.family_opinion import give_opinion, opinion_page
from oja.services.logins import tokens_match

router = APIRouter(route_class=StrictFormRoute)
PATH = "/gezin/mijn-mening"
CSRF_RULE = "het formulier is verlopen of niet van deze site (CSRF)"
MAX_FIELDS = 40  # the goals of a plan, the two texts and the token


def _show(
    request: Request, session: Session, member: FamilyMember, case: Case | None, status: int = 200, **extra: Any
) -> Response:
    view = opinion_page(session, case, member.party, amsterdam_today(), get_policy())
    return _render(
        request,
        "opinion.html",
        language(request),
        status,
        view=view,
        member=member,
        pupil_self=member.party == PUPIL,
        scale=SCALE_VALUES,
        saved=request.query_params.get("opgeslagen") == "1",
        now=dt.datetime.now(dt.UTC),
        **extra,
    )


@router.get(PATH)
def opinion_form(request: Request) -> Response:
    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        log_family(session, request, member, AccessAction.VIEW_FAMILY_OPINION, case_ref=case.ref if case else None)
        return _show(request, session, member, case)

    return serve_family(request, AccessAction.VIEW_FAMILY_OPINION, body)


@router.post(PATH)
async def opinion_save(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    fields = {k: str(v) for k, v in form.items()}

    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        ref = case.ref if case else None
        action = AccessAction.GIVE_FAMILY_OPINION
        if not tokens_match(member.csrf, fields.get("csrf", "")):
            log_family(session, request, member, action, outcome=AccessOutcome.REFUSED, case_ref=ref, reason=CSRF_RULE)
            return _render(request, "refused.html", language(request), 403, rule=CSRF_RULE)
        try:
            give_opinion(
                session,
                case,
                member.party,
                fields,
                today=amsterdam_today(),
                now=dt.datetime.now(dt.UTC),
                policy=get_policy(),
            )
        except InvalidInputs as several:
            session.rollback()  # nothing half-written
            errors = {e.field: e.rule for e in several.errors}
            return _refused_form(request, session, member, case, errors)
        except InvalidInput as one:
            session.rollback()
            if one.field == "mening":  # no review to give a view for, or recorded already
                log_family(
                    session, request, member, action, outcome=AccessOutcome.REFUSED, case_ref=ref, reason=one.rule
                )
                return _render(request, "refused.html", language(request), 409, rule=one.rule)
            return _refused_form(request, session, member, case, {one.field: one.rule})
        log_family(session, request, member, action, case_ref=ref, reason="mening gegeven")
        suffix = "&taal=en" if language(request) == "en" else ""
        return RedirectResponse(f"{PATH}?opgeslagen=1{suffix}", status_code=303)

    def _refused_form(
        request: Request, session: Session, member: FamilyMember, case: Case | None, errors: dict[str, str]
    ) -> Response:
        reason = "formulier onjuist: " + ", ".join(errors)  # the fields' names, never what was typed
        log_family(
            session,
            request,
            member,
            AccessAction.GIVE_FAMILY_OPINION,
            outcome=AccessOutcome.REFUSED,
            case_ref=case.ref if case else None,
            reason=reason[:300],
        )
        return _show(request, session, member, case, 422, errors=errors, given=fields)

    return await run_in_threadpool(serve_family, request, AccessAction.GIVE_FAMILY_OPINION, body)
