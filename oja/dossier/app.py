"""The engine's web front: the dossier (the login, the log-out, and the pages of `pages_*.py`, every response
carrying the headers of `security.py`) and, on the same address behind the same login, the Prefect UI and API
through the gateway (`gateway.py`: `/prefect/...`, `/api/...`). `create_app()` is what uvicorn serves (`oja dossier`,
`oja start`)."""

from __future__ import annotations

import datetime as dt
import secrets

from fastapi import FastAPI, Form, Request
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from models.tables import Professional
from models.vocabulary import AccessAction, AccessOutcome
from oja.adapters.db import unit_of_work
from oja.dossier import (
    api_description,
    pages_cases,
    pages_family,
    pages_family_closing,
    pages_family_consent,
    pages_family_invite,
    pages_family_login,
    pages_family_opinion,
    pages_family_passkey,
    pages_family_plan,
    pages_groups,
    pages_oversight,
    pages_pupils,
)
from oja.dossier.body_limits import BodyLimit
from oja.dossier.forms import StrictFormRoute, http_error_page
from oja.dossier.front_guard import guarded
from oja.dossier.gateway import Gateway, front
from oja.dossier.gateway_proxy import Upstream
from oja.dossier.security import (
    SecurityHeaders,
    clear_cookie,
    client_of,
    csrf_ok,
    current_user,
    first_page,
    login_cookie,
    page,
    safe_next,
    session_cookie,
    set_cookie,
    static_file,
    user_of,
)
from oja.services.access_log import log_access
from oja.services.logins import authenticate, close_session, open_session, tokens_match


def create_app(upstream: Upstream | None = None) -> ASGIApp:
    """The dossier and, under `/prefect` and `/api`, the gateway to Prefect (at `upstream`; by default the server
    that PREFECT_API_URL names, with the secret of `oja.adapters.prefect_secret`), both behind `front_guard` (the
    host names answered, the proxies believed)."""
    return guarded(front(create_dossier(), Gateway(upstream)))


# Every page module, as create_app includes it (tests/dossier/test_hostile_routes.py attacks all of their routes).
FAMILY_ROUTERS = (  # issue 26: the family's own way in
    pages_family_invite,
    pages_family_login,
    pages_family_passkey,
    pages_family,
    pages_family_plan,
    pages_family_closing,
    pages_family_opinion,
    pages_family_consent,
)
ROUTERS = (pages_cases, pages_pupils, pages_oversight, pages_groups, api_description, *FAMILY_ROUTERS)


def create_dossier() -> FastAPI:
    app = FastAPI(title="OJA-dossier", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit)  # the login before a body, and every body capped (inside the headers below)
    app.router.route_class = StrictFormRoute  # every form read strictly (`forms.py`), the login's too
    app.exception_handler(StarletteHTTPException)(http_error_page)  # a 404 or 405 in Dutch, not in JSON
    app.add_middleware(SecurityHeaders)

    @app.get("/gezond", include_in_schema=False)
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        path = static_file(name)
        if "/" in name or not path.is_file():
            return PlainTextResponse("niet gevonden", status_code=404)
        return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/inloggen")
    def login_form(request: Request, volgende: str = "/") -> Response:
        with unit_of_work() as session:
            if current_user(request, session) is not None:
                return RedirectResponse(safe_next(volgende), status_code=303)
        token = secrets.token_urlsafe(32)
        response = page(request, "login.html", None, next=safe_next(volgende), csrf=token, error=None)
        set_cookie(request, response, login_cookie(request), token, max_age=3600)
        return response

    @app.post("/inloggen")
    def login(
        request: Request,
        gebruikersnaam: str = Form(""),
        wachtwoord: str = Form(""),
        code: str = Form(""),
        csrf: str = Form(""),
        volgende: str = Form("/"),
    ) -> Response:
        target = safe_next(volgende)
        # a form whose token does not match its cookie (any text: non-ASCII too) is a failed attempt like any other
        form_ok = tokens_match(request.cookies.get(login_cookie(request), ""), csrf)
        now = dt.datetime.now(dt.UTC)
        with unit_of_work() as session:
            result = authenticate(
                session, gebruikersnaam, wachtwoord, code, now=now, client=client_of(request), form_ok=form_ok
            )
            typed = (gebruikersnaam or "").strip().upper()[:12]
            # a known code, or "onbekend": what was typed may be a password in the wrong field, or a name
            who = typed if typed and session.get(Professional, typed) is not None else "onbekend"
            if result.professional is None:
                action = AccessAction.LOCKED_OUT if result.locked else AccessAction.LOGIN_FAILED
                log_access(
                    session,
                    professional_code=who,
                    role=None,
                    action=action,
                    outcome=AccessOutcome.REFUSED,
                    path=request.url.path,
                    client=client_of(request),
                    reason=result.refusal
                    if form_ok or result.retry_after
                    else "formulier verlopen of niet van deze browser (CSRF)",
                )
            else:
                old = request.cookies.get(session_cookie(request), "")
                if old:
                    close_session(session, old)  # a session from before the login is never taken over
                professional = result.professional
                token, _ = open_session(session, professional.code, now=now)
                log_access(
                    session,
                    professional_code=result.professional.code,
                    role=result.professional.role,
                    action=AccessAction.LOGIN,
                    path=request.url.path,
                    client=client_of(request),
                )
        if result.professional is None:
            status = 429 if result.retry_after else 401 if form_ok else 400
            response = login_again(request, target, result.refusal or "", status)
            if result.retry_after:
                response.headers["Retry-After"] = str(result.retry_after)
            return response
        response = RedirectResponse(target if target != "/" else first_page(user_of(professional)), status_code=303)
        set_cookie(request, response, session_cookie(request), token)
        clear_cookie(request, response, login_cookie(request))
        return response

    def login_again(request: Request, target: str, error: str, status: int) -> Response:
        token = secrets.token_urlsafe(32)
        response = page(request, "login.html", None, status, next=target, csrf=token, error=error)
        set_cookie(request, response, login_cookie(request), token, max_age=3600)
        return response

    @app.post("/uitloggen")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        with unit_of_work() as session:
            user = current_user(request, session)
            if user is not None and csrf_ok(user.csrf, csrf):
                close_session(session, user.token)
                log_access(
                    session,
                    professional_code=user.code,
                    role=user.role,
                    action=AccessAction.LOGOUT,
                    path=request.url.path,
                    client=client_of(request),
                )
        response = RedirectResponse("/inloggen", status_code=303)
        if user is not None and not csrf_ok(user.csrf, csrf):
            return PlainTextResponse("ongeldig formulier (CSRF): log uit via de knop", status_code=403)
        clear_cookie(request, response, session_cookie(request))
        return response

    for module in ROUTERS:
        app.include_router(module.router)
    return app
