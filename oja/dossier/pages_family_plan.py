"""The family's own pages (issue 26): the plan in words for a pupil or a parent, and their own subject-access
export. Who is asking comes from the family's login (`family_security.serve_family`, which also refuses a parent
without authority or one the pupil of 16 or over has closed the case to, on every request), so a page never takes a
pupil from the request. Every view and download is a line in the access log, naming the party and the pupil's
reference, never a person.

Dutch by default, English with `?taal=en` (the link at the top of the page switches): a template per language in
`templates/family/<taal>/`, the words for codes from `models.family_words`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from models.errors import UnknownReference
from models.family_words import LANGUAGES, Words
from models.schooldays import today as amsterdam_today
from models.tables import Case
from models.vocabulary import AccessAction
from notifications.render import long_date
from oja.config import PROJECT_DIR
from oja.dossier.family_security import FAMILY_ROLE, FamilyMember, serve_family
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
        role=FAMILY_ROLE,
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


def plan_page(request: Request, session: Session, member: FamilyMember) -> Response:
    """The plan in words for the family member's own pupil; logged."""
    taal = language(request)
    try:
        view = family_view(session, member.pupil_id, member.party, amsterdam_today())
        _log(
            session, request, member, AccessAction.VIEW_FAMILY_PLAN, case_ref=view.case_ref, pupil_refs=[view.pupil_ref]
        )
    except UnknownReference:
        return _render(request, "gone.html", taal, 404)
    return _render(request, "plan.html", taal, view=view, today=amsterdam_today())


def export_download(request: Request, session: Session, member: FamilyMember) -> Response:
    """Everything held about the family's own pupil (AVG art. 15), as a JSON file; logged, a line per case."""
    try:
        data = family_export(session, member.pupil_id, member.party)
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


@router.get("/gezin/plan")
def plan_route(request: Request) -> Response:
    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        return plan_page(request, session, member)

    return serve_family(request, AccessAction.VIEW_FAMILY_PLAN, body)


@router.get("/gezin/inzage")
def export_route(request: Request) -> Response:
    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        return export_download(request, session, member)

    return serve_family(request, AccessAction.EXPORT_FAMILY, body)
