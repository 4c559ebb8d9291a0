"""The family's way in (issue 26): the invitation's link sets the password (`/gezin/welkom/<link>`), the login
asks the e-mail address and password (`/gezin/inloggen`) and then the code mailed to them (`/gezin/code`), or
their passkey when they added one (`pages_family_passkey.py`; the code is then mailed only when asked for,
`/gezin/code/mail`), the log-out ends the session. Lock-out, CSRF and sessions as for the professionals, with
cookies and a table of their own (`family_security.py`). The services are `oja.services.family_logins`; a
region with DigiD through a broker replaces this module and that one.

No form here is behind a session, so each carries its own CSRF token, in a cookie too. Every attempt, good or
refused, is in the access log: the actor the party and pupil (`ouder_1 van LL-000123`) when the address or the
link is known, else `onbekend`. The link's secret is never in the log (the path is logged as `/gezin/welkom`).
"""

from __future__ import annotations

import datetime as dt
import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from models.errors import InvalidInput, InvalidInputs
from models.vocabulary import AccessAction, AccessOutcome
from oja.adapters.db import unit_of_work
from oja.dossier.family_security import (
    FAMILY_ROLE,
    current_family,
    family_cookie,
    form_cookie,
    log_family,
    step_cookie,
    with_script,
)
from oja.dossier.forms import StrictFormRoute
from oja.dossier.security import clear_cookie, client_of, page, set_cookie
from oja.services import family_logins, family_mail, family_passkeys
from oja.services.access_log import log_access
from oja.services.logins import tokens_match

router = APIRouter(route_class=StrictFormRoute)
FORM_EXPIRED = "het formulier was verlopen: probeer het opnieuw"
LINK_PATH = "/gezin/welkom"  # the path logged for a link: never its secret
NOT_SENT = "de code kon niet worden verstuurd: probeer het over een paar minuten opnieuw"


def _wait_words(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return "1 minuut" if minutes == 1 else f"{minutes} minuten"


def _log(
    session: Session,
    request: Request,
    who: tuple[str, str] | None,
    action: AccessAction,
    *,
    refused: str | None = None,
    path: str | None = None,
) -> None:
    log_access(
        session,
        professional_code=who[0] if who else "onbekend",
        role=FAMILY_ROLE,
        action=action,
        outcome=AccessOutcome.REFUSED if refused else AccessOutcome.ALLOWED,
        path=path or request.url.path,
        client=client_of(request),
        pupil_refs=[who[1]] if who else [],
        reason=refused,
    )


def _form(request: Request, name: str, status: int = 200, **context: object) -> Response:
    """A family form without a session, with a fresh CSRF token in its cookie."""
    token = secrets.token_urlsafe(32)
    response = page(request, name, None, status, csrf=token, **context)
    set_cookie(request, response, form_cookie(request), token, max_age=3600)
    return response


def _form_ok(request: Request, csrf: str) -> bool:
    return tokens_match(request.cookies.get(form_cookie(request), ""), csrf)


# ---- the invitation's link: the password ------------------------------------------------------------------


@router.get("/gezin/welkom/{token}")
def welcome(request: Request, token: str) -> Response:
    with unit_of_work() as session:
        if family_logins.link_login(session, token, now=dt.datetime.now(dt.UTC)) is None:
            _log(
                session,
                request,
                family_logins.link_party(session, token),
                AccessAction.FAMILY_PASSWORD,
                refused=family_logins.LINK_REFUSED,
                path=LINK_PATH,
            )
            return page(request, "gezin_link.html", None, 410, error=family_logins.LINK_REFUSED)
    return _form(request, "gezin_welkom.html", token=token, errors={})


@router.post("/gezin/welkom/{token}")
def set_password(
    request: Request, token: str, wachtwoord: str = Form(""), wachtwoord_herhaald: str = Form(""), csrf: str = Form("")
) -> Response:
    now = dt.datetime.now(dt.UTC)
    if not _form_ok(request, csrf):
        return _form(request, "gezin_welkom.html", 400, token=token, errors={"formulier": FORM_EXPIRED})
    try:
        with unit_of_work() as session:
            who = family_logins.link_party(session, token)
            try:
                family_logins.use_link(session, token, wachtwoord, wachtwoord_herhaald, now=now)
            except InvalidInput as exc:
                if exc.field != "link":
                    raise
                session.rollback()
                _log(session, request, who, AccessAction.FAMILY_PASSWORD, refused=exc.rule, path=LINK_PATH)
                return page(request, "gezin_link.html", None, 410, error=exc.rule)
            _log(session, request, who, AccessAction.FAMILY_PASSWORD, path=LINK_PATH)
    except InvalidInput as exc:
        errors = {e.field: e.rule for e in (exc.errors if isinstance(exc, InvalidInputs) else (exc,))}
        return _form(request, "gezin_welkom.html", 422, token=token, errors=errors)
    return RedirectResponse("/gezin/inloggen?klaar=1", status_code=303)


# ---- the login: e-mail address and password, then the mailed code ----------------------------------------


@router.get("/gezin/inloggen")
def login_form(request: Request, klaar: str = "") -> Response:
    with unit_of_work() as session:
        if current_family(request, session) is not None:
            return RedirectResponse("/gezin/", status_code=303)
    notice = "Uw wachtwoord is ingesteld. U kunt nu inloggen." if klaar == "1" else None
    return _form(request, "gezin_login.html", error=None, notice=notice)


@router.post("/gezin/inloggen")
def login(
    request: Request, e_mailadres: str = Form("", alias="e-mailadres"), wachtwoord: str = Form(""), csrf: str = Form("")
) -> Response:
    now, client = dt.datetime.now(dt.UTC), client_of(request)
    form_ok = _form_ok(request, csrf)
    step = None
    with unit_of_work() as session:
        who = family_logins.email_party(session, e_mailadres)
        waiting = family_logins.wait_seconds(session, client, e_mailadres, now=now)
        if waiting is not None:
            refusal = f"te veel mislukte pogingen: probeer het over {_wait_words(waiting)} opnieuw"
            _log(session, request, who, AccessAction.FAMILY_LOCKED_OUT, refused=refusal)
        elif not form_ok:
            refusal = FORM_EXPIRED
            family_logins.failed(session, client, e_mailadres, now=now)
            _log(session, request, who, AccessAction.FAMILY_LOGIN_FAILED, refused="formulier verlopen (CSRF)")
        else:
            step = family_logins.check_password(session, e_mailadres, wachtwoord, now=now, client=client)
            refusal = family_logins.REFUSED if step is None else ""
            if step is None:
                _log(session, request, who, AccessAction.FAMILY_LOGIN_FAILED, refused="wachtwoord onjuist")
    if step is None:
        response = _form(
            request, "gezin_login.html", 429 if waiting else 401 if form_ok else 400, error=refusal, notice=None
        )
        if waiting:
            response.headers["Retry-After"] = str(waiting)
        return response
    # committed: now the mail, with the code only (none for a login with a passkey: it is asked first)
    if step.code is not None and not _mailed(step):
        return _form(request, "gezin_login.html", 503, error=NOT_SENT, notice=None)
    response = RedirectResponse("/gezin/code", status_code=303)
    set_cookie(request, response, step_cookie(request), step.pending, max_age=family_logins.CODE_MINUTES * 60)
    return response


def _mailed(step: family_logins.CodeStep) -> bool:
    assert step.code is not None
    return family_mail.send(step.email, family_mail.code_message(step.code, family_logins.CODE_MINUTES))


def _code_page(request: Request, status: int = 200, *, error: str | None = None, sent: bool = False) -> Response:
    """The second step: the passkey when the login has one (and the code by mail when asked), else the code."""
    pending, now = request.cookies.get(step_cookie(request), ""), dt.datetime.now(dt.UTC)
    with unit_of_work() as session:
        login = family_logins.step_login(session, pending, now=now)
        passkey = login is not None and login.id is not None and bool(family_passkeys.passkeys_of(session, login.id))
        code_sent = family_logins.code_sent(session, pending, now=now)
    response = _form(
        request,
        "gezin_code.html",
        status,
        error=error,
        minutes=family_logins.CODE_MINUTES,
        passkey=passkey,
        code_sent=code_sent or not passkey,
        sent=sent,
    )
    return with_script(response) if passkey else response


@router.get("/gezin/code")
def code_form(request: Request, verstuurd: str = "") -> Response:
    if not request.cookies.get(step_cookie(request)):
        return RedirectResponse("/gezin/inloggen", status_code=303)
    return _code_page(request, sent=verstuurd == "1")


@router.post("/gezin/code/mail")
def mail_code(request: Request, csrf: str = Form("")) -> Response:
    """The code by mail after all, for a login with a passkey not at hand."""
    now = dt.datetime.now(dt.UTC)
    if not _form_ok(request, csrf):
        return _code_page(request, 400, error=FORM_EXPIRED)
    with unit_of_work() as session:
        step = family_logins.mail_code(session, request.cookies.get(step_cookie(request), ""), now=now)
    if step is None:
        return RedirectResponse("/gezin/inloggen", status_code=303)
    if not _mailed(step):
        return _code_page(request, 503, error=NOT_SENT)
    return RedirectResponse("/gezin/code?verstuurd=1", status_code=303)


@router.post("/gezin/code")
def code(request: Request, code: str = Form(""), csrf: str = Form("")) -> Response:
    now, client = dt.datetime.now(dt.UTC), client_of(request)
    pending = request.cookies.get(step_cookie(request), "")
    token = ""
    with unit_of_work() as session:
        email = family_logins.pending_email(session, pending) or ""
        who = family_logins.email_party(session, email)
        waiting = family_logins.wait_seconds(session, client, email, now=now)
        login = None
        if waiting is not None:
            refusal = f"te veel mislukte pogingen: probeer het over {_wait_words(waiting)} opnieuw"
            _log(session, request, who, AccessAction.FAMILY_LOCKED_OUT, refused=refusal)
        elif not _form_ok(request, csrf):
            refusal = FORM_EXPIRED
            family_logins.failed(session, client, email, now=now)
            _log(session, request, who, AccessAction.FAMILY_LOGIN_FAILED, refused="formulier verlopen (CSRF)")
        else:
            login = family_logins.check_code(session, pending, code, now=now, client=client)
            refusal = family_logins.CODE_REFUSED
            if login is None:
                _log(session, request, who, AccessAction.FAMILY_LOGIN_FAILED, refused="code onjuist of verlopen")
            else:
                old = request.cookies.get(family_cookie(request), "")
                if old:
                    family_logins.close_session(session, old)  # a session from before the login is never taken over
                assert login.id is not None
                token, _ = family_logins.open_session(session, login.id, now=now)
                _log(session, request, who, AccessAction.FAMILY_LOGIN)
    if not token:
        response = _code_page(request, 429 if waiting else 401, error=refusal)
        if waiting:
            response.headers["Retry-After"] = str(waiting)
        return response
    response = RedirectResponse("/gezin/", status_code=303)
    set_cookie(request, response, family_cookie(request), token)
    clear_cookie(request, response, step_cookie(request))
    clear_cookie(request, response, form_cookie(request))
    return response


@router.post("/gezin/uitloggen")
def logout(request: Request, csrf: str = Form("")) -> Response:
    with unit_of_work() as session:
        member = current_family(request, session)
        if member is not None and not tokens_match(member.csrf, csrf):
            return page(request, "gezin_link.html", None, 403, error="ongeldig formulier (CSRF): log uit via de knop")
        if member is not None:
            family_logins.close_session(session, member.token)
            log_family(session, request, member, AccessAction.FAMILY_LOGOUT)
    response = RedirectResponse("/gezin/inloggen", status_code=303)
    clear_cookie(request, response, family_cookie(request))
    return response
