"""The family's passkeys (issue 26): adding one on the home page (`/gezin/passkeys/opties`, `/gezin/passkeys`),
removing one (`/gezin/passkeys/<n>/verwijderen`), and the login's second step with one instead of the mailed code
(`/gezin/passkey/opties`, `/gezin/passkey/inloggen`). The ceremonies are `oja.services.family_passkeys`; the
relying party is the dossier's public address (`oja.config.dossier_url`, OJA_DOSSIER_URL behind a proxy), and an
answer made for any other origin or host is refused.

The ceremonies' endpoints take and give JSON (the page's script, `templates/dossier/static/family_passkey.js`):
`{"csrf": ..., "credential": ...}`; a refusal is a 4xx with its rule in Dutch as plain text. Their CSRF token is the
session's (adding) or the login form's own cookie (signing in), and only `application/json` is read, which a form
of another site cannot send. Every sign-in, addition and removal, good or refused, is in the access log.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from models.vocabulary import AccessAction, AccessOutcome
from oja.adapters.db import unit_of_work
from oja.config import dossier_url
from oja.dossier.family_security import current_family, family_cookie, form_cookie, log_family, step_cookie
from oja.dossier.forms import StrictFormRoute
from oja.dossier.pages_family_login import FORM_EXPIRED, _log, _wait_words
from oja.dossier.security import clear_cookie, client_of, page, set_cookie
from oja.services import family_logins, family_passkeys
from oja.services.logins import tokens_match

router = APIRouter(route_class=StrictFormRoute)
NOT_LOGGED_IN = "u bent niet meer ingelogd: log opnieuw in"
STEP_OVER = "de stap is verlopen: log opnieuw in"
NOT_JSON = "het verzoek is geen JSON"


def _rp() -> family_passkeys.RelyingParty:
    return family_passkeys.relying_party(dossier_url())


def _refuse(status: int, rule: str) -> Response:
    return PlainTextResponse(rule, status_code=status)


async def _json(request: Request) -> dict[str, Any] | None:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return None
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _csrf(body: dict[str, Any]) -> str:
    value = body.get("csrf")
    return value if isinstance(value, str) else ""


# ---- adding and removing, on the home page -------------------------------------------------------------------


@router.post("/gezin/passkeys/opties")
async def add_options(request: Request) -> Response:
    body = await _json(request)
    return await run_in_threadpool(_add_options, request, body)


def _add_options(request: Request, body: dict[str, Any] | None) -> Response:
    if body is None:
        return _refuse(415, NOT_JSON)
    with unit_of_work() as session:
        member = current_family(request, session)
        if member is None:
            return _refuse(401, NOT_LOGGED_IN)
        if not tokens_match(member.csrf, _csrf(body)):
            return _refuse(403, FORM_EXPIRED)
        options = family_passkeys.registration_options(
            session, member.login_id, member.token, _rp(), now=dt.datetime.now(dt.UTC)
        )
    return Response(options, media_type="application/json")


@router.post("/gezin/passkeys")
async def add(request: Request) -> Response:
    body = await _json(request)
    return await run_in_threadpool(_add, request, body)


def _add(request: Request, body: dict[str, Any] | None) -> Response:
    if body is None:
        return _refuse(415, NOT_JSON)
    with unit_of_work() as session:
        member = current_family(request, session)
        if member is None:
            return _refuse(401, NOT_LOGGED_IN)
        if not tokens_match(member.csrf, _csrf(body)):
            log_family(
                session, request, member, AccessAction.FAMILY_PASSKEY_ADDED,
                outcome=AccessOutcome.REFUSED, reason="formulier verlopen (CSRF)",
            )  # fmt: skip
            return _refuse(403, FORM_EXPIRED)
        done = family_passkeys.register(
            session, member.login_id, member.token, body.get("credential"), _rp(), now=dt.datetime.now(dt.UTC)
        )
        if done.passkey is None:
            log_family(
                session, request, member, AccessAction.FAMILY_PASSKEY_ADDED,
                outcome=AccessOutcome.REFUSED, reason=done.reason,
            )  # fmt: skip
            return _refuse(422, done.reason)
        log_family(session, request, member, AccessAction.FAMILY_PASSKEY_ADDED, reason=done.passkey.name)
    return JSONResponse({"naar": "/gezin/?passkey=toegevoegd"})


@router.post("/gezin/passkeys/{number}/verwijderen")
def remove(request: Request, number: str, csrf: str = Form("")) -> Response:
    with unit_of_work() as session:
        member = current_family(request, session)
        if member is None:
            return RedirectResponse("/gezin/inloggen", status_code=303)
        action = AccessAction.FAMILY_PASSKEY_REMOVED
        if not tokens_match(member.csrf, csrf):
            log_family(session, request, member, action, outcome=AccessOutcome.REFUSED, reason="formulier (CSRF)")
            return page(request, "gezin_link.html", None, 403, member=member, error=FORM_EXPIRED)
        known = number.isascii() and number.isdigit() and len(number) < 10
        removed = family_passkeys.remove(session, member.login_id, int(number)) if known else None
        if removed is None:
            rule = "deze passkey bestaat niet (meer)"
            log_family(session, request, member, action, outcome=AccessOutcome.REFUSED, reason=rule)
            return page(request, "gezin_link.html", None, 404, member=member, error=rule)
        log_family(session, request, member, action, reason=removed.name)
    return RedirectResponse("/gezin/?passkey=verwijderd", status_code=303)


# ---- the login's second step ---------------------------------------------------------------------------------


@router.post("/gezin/passkey/opties")
async def sign_in_options(request: Request) -> Response:
    body = await _json(request)
    return await run_in_threadpool(_sign_in_options, request, body)


def _sign_in_options(request: Request, body: dict[str, Any] | None) -> Response:
    if body is None:
        return _refuse(415, NOT_JSON)
    if not tokens_match(request.cookies.get(form_cookie(request), ""), _csrf(body)):
        return _refuse(403, FORM_EXPIRED)
    now, pending = dt.datetime.now(dt.UTC), request.cookies.get(step_cookie(request), "")
    with unit_of_work() as session:
        email = family_logins.pending_email(session, pending) or ""
        waiting = family_logins.wait_seconds(session, client_of(request), email, now=now)
        if waiting is not None:
            return _refuse(429, f"te veel mislukte pogingen: probeer het over {_wait_words(waiting)} opnieuw")
        options = family_passkeys.sign_in_options(session, pending, _rp(), now=now)
    return _refuse(410, STEP_OVER) if options is None else Response(options, media_type="application/json")


@router.post("/gezin/passkey/inloggen")
async def sign_in(request: Request) -> Response:
    body = await _json(request)
    return await run_in_threadpool(_sign_in, request, body)


def _sign_in(request: Request, body: dict[str, Any] | None) -> Response:
    """As the mailed code's step (`pages_family_login.code`), with the passkey's answer."""
    if body is None:
        return _refuse(415, NOT_JSON)
    now, client = dt.datetime.now(dt.UTC), client_of(request)
    pending = request.cookies.get(step_cookie(request), "")
    token = ""
    with unit_of_work() as session:
        email = family_logins.pending_email(session, pending) or ""
        who = family_logins.email_party(session, email)
        waiting = family_logins.wait_seconds(session, client, email, now=now)
        if waiting is not None:
            refusal = f"te veel mislukte pogingen: probeer het over {_wait_words(waiting)} opnieuw"
            _log(session, request, who, AccessAction.FAMILY_LOCKED_OUT, refused=refusal)
            return _refuse(429, refusal)
        if not tokens_match(request.cookies.get(form_cookie(request), ""), _csrf(body)):
            family_logins.failed(session, client, email, now=now)
            _log(session, request, who, AccessAction.FAMILY_LOGIN_FAILED, refused="formulier verlopen (CSRF)")
            return _refuse(403, FORM_EXPIRED)
        signed = family_passkeys.sign_in(session, pending, body.get("credential"), _rp(), now=now, client=client)
        if signed.login is None or signed.login.id is None:
            _log(session, request, who, AccessAction.FAMILY_LOGIN_FAILED, refused=f"passkey: {signed.reason}")
            return _refuse(401, f"{signed.reason}. U kunt ook een code per e-mail vragen")
        old = request.cookies.get(family_cookie(request), "")
        if old:
            family_logins.close_session(session, old)  # a session from before the login is never taken over
        token, _ = family_logins.open_session(session, signed.login.id, now=now)
        _log(session, request, who, AccessAction.FAMILY_LOGIN, path="/gezin/passkey/inloggen")
    response = JSONResponse({"naar": "/gezin/"})
    set_cookie(request, response, family_cookie(request), token)
    clear_cookie(request, response, step_cookie(request))
    clear_cookie(request, response, form_cookie(request))
    return response
