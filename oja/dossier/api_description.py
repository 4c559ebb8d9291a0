"""The dossier's OpenAPI description, for operators (role `beheerder`) only: the fuzzing of every route (issue 24)
needs no hand-written schema. FastAPI's public `/docs`, `/redoc` and `/openapi.json` stay off (`create_dossier`);
this route serves the description behind the login. A visitor without a session gets 404 (nothing says there is
a description), a professional of another role 403 with the rule, logged as every refusal is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlmodel import Session

from models.vocabulary import AccessAction, Role
from oja.adapters.db import unit_of_work
from oja.dossier.security import Refused, User, current_user, serve

router = APIRouter()
ONLY_OPERATORS = "alleen beheerders zien de beschrijving van de API"


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> Response:
    with unit_of_work() as session:
        if current_user(request, session) is None:
            return PlainTextResponse("niet gevonden", status_code=404)

    def body(session: Session, user: User) -> Response:
        if user.role != Role.OPERATOR.value:
            raise Refused(AccessAction.VIEW_API, ONLY_OPERATORS)
        return JSONResponse(describe(request.app))

    return serve(request, AccessAction.VIEW_API, body)


def describe(app: FastAPI) -> dict[str, Any]:
    return get_openapi(title=app.title, version=app.version, routes=app.routes)
