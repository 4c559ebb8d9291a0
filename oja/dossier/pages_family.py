"""The family's own pages (issue 26): the plan in words for a pupil or a parent, and their own subject-access
export. The pages take the logged-in family member as an argument (`plan_page(request, member)`): who that is comes
from the family's login (`family_access.family_member`), so a page never takes a pupil from the request. Every view
and download is a line in the access log, naming the party and the pupil's reference, never a person.

Dutch by default, English with `?taal=en` (the link at the top of the page switches): a template per language in
`templates/family/<taal>/`, the words for codes from `models.family_words`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from models.errors import UnknownReference
from models.family_words import LANGUAGES, Words
from models.schooldays import today as amsterdam_today
from models.vocabulary import AccessAction
from notifications.render import long_date
from oja.adapters.db import unit_of_work
from oja.config import PROJECT_DIR
from oja.dossier.family_access import LOGIN_PAGE, FamilyMember, family_member
from oja.dossier.forms import StrictFormRoute
from oja.dossier.security import client_of
from oja.services.access_log import log_access
from oja.services.family_view import family_export, family_view

router = APIRouter(route_class=StrictFormRoute)
templates = Jinja2Templates(directory=str(PROJECT_DIR / "templates" / "family"))
templates.env.filters["cap"] = lambda text: text[:1].upper() + text[1:]  # `capitalize` would lower a name's capitals


def language(request: Request) -> str:
    """`?taal=en` for English; anything else is Dutch."""
    asked = request.query_params.get("taal", "")
    return asked if asked in LANGUAGES else "nl"


def _log(session: Session, request: Request, member: FamilyMember, action: AccessAction, **what: Any) -> None:
    log_access(
        session,
        professional_code=member.party[:12],
        role=None,
        action=action,
        path=request.url.path,
        client=client_of(request),
        reason=f"gezin: {member.party}, login {member.login_id}"[:300],
        **what,
    )


def _render(request: Request, name: str, taal: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    words = Words(taal)
    return templates.TemplateResponse(
        request,
        f"{taal}/{name}",
        {"t": words, "taal": taal, "day": lambda d: long_date(d, taal) if d else "", **context},
        status_code=status_code,
    )


def plan_page(request: Request, member: FamilyMember) -> Response:
    """The plan in words for the family member's own pupil; logged."""
    taal = language(request)
    try:
        with unit_of_work() as session:
            view = family_view(session, member.pupil_id, member.party, amsterdam_today())
            _log(
                session,
                request,
                member,
                AccessAction.VIEW_FAMILY_PLAN,
                case_ref=view.case_ref,
                pupil_refs=[view.pupil_ref],
            )
    except UnknownReference:
        return _render(request, "gone.html", taal, 404)
    return _render(request, "plan.html", taal, view=view, today=amsterdam_today())


def export_download(request: Request, member: FamilyMember) -> Response:
    """Everything held about the family's own pupil (AVG art. 15), as a JSON file; logged, a line per case."""
    try:
        with unit_of_work() as session:
            data = family_export(session, member.pupil_id)
            ref = str(data["pupil"]["ref"])
            cases = [(ref, str(c["case"]["ref"])) for c in data["cases"]]
            _log(session, request, member, AccessAction.EXPORT_FAMILY, pupil_refs=[ref], cases=cases)
    except UnknownReference:
        return _render(request, "gone.html", language(request), 404)
    name = f"inzage-{ref}-{dt.date.today().isoformat()}.json"
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(LOGIN_PAGE, status_code=303)


@router.get("/gezin/plan")
def plan_route(request: Request, member: FamilyMember | None = Depends(family_member)) -> Response:
    return _to_login(request) if member is None else plan_page(request, member)


@router.get("/gezin/inzage")
def export_route(request: Request, member: FamilyMember | None = Depends(family_member)) -> Response:
    return _to_login(request) if member is None else export_download(request, member)
