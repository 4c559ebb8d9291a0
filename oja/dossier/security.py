"""What every page of the dossier shares: who is logged in, their scope, CSRF, the access log, the headers.

- A session is a random token in an HTTP-only, SameSite=Strict cookie (Secure, and named `__Host-`, over
  HTTPS); it is made anew at every login (no session fixation) and ends at log-out, after 30 minutes idle or
  10 hours (`oja.services.logins`).
- Every form carries the session's CSRF token (the login form a token of its own, in a cookie too): a POST
  without the right one is refused before anything is read or written.
- Every response says `Cache-Control: no-store` and carries a Content-Security-Policy without scripts: a page
  with personal data is kept by no browser cache or proxy, and cannot be framed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, col, select
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.access import Actor
from models.errors import AccessDenied, InvalidInput, UnknownReference
from models.prefect_access import may_use_prefect
from models.tables import Case, Professional, Pupil
from models.vocabulary import AccessAction, AccessOutcome, Role
from models.words import INFORMANTS as INFORMANT_WORDS
from models.words import action_word, reason_words, state_word
from notifications.render import long_date
from oja.adapters.db import get_engine, unit_of_work
from oja.config import PROJECT_DIR
from oja.dossier.front_guard import client_address
from oja.services.access_log import log_access
from oja.services.audit import record_refusal
from oja.services.logins import TOUCH_EVERY, find_session

log = logging.getLogger("oja.dossier")
templates = Jinja2Templates(directory=str(PROJECT_DIR / "templates" / "dossier"))
STATIC = PROJECT_DIR / "templates" / "dossier" / "static"
templates.env.filters["label"] = lambda code: str(code or "").replace("_", " ")  # a stored code, read as words
templates.env.filters["informant"] = lambda code: INFORMANT_WORDS.get(code, code)  # whose GAS scores (models.gas)
templates.env.filters["state"] = lambda code: state_word(str(code or ""))  # a case's state in words
templates.env.filters["action"] = lambda code: action_word(str(code or ""))  # an audited action in words
templates.env.filters["reason"] = reason_words  # an audit record's reason in words
templates.env.filters["d"] = lambda day: day.strftime("%d-%m-%Y") if day else ""  # a date as people write it
templates.env.filters["long"] = lambda day: long_date(day, "nl") if day else ""  # in words, for a family's page
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _local_time(moment: dt.datetime | None) -> str:
    """A stored moment (UTC; SQLite gives it back naive) as the time in Amsterdam."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")


templates.env.filters["time"] = _local_time

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# the evaluation report in the dossier's page: its stylesheet, and the report's inline styles and bars
REPORT_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none';"
    " form-action 'self'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
SCHOOL_ROLES = {Role.COORDINATOR.value, Role.SCHOOL_SOCIAL_WORKER.value, Role.TEAM_LEAD.value}
OVERSIGHT_ROLES = {Role.MANAGER.value, Role.TEAM_LEAD.value}


def secure_request(request: Request) -> bool:
    """Over HTTPS (directly, or behind a proxy of FORWARDED_ALLOW_IPS: `front_guard`): the cookies are Secure then."""
    return request.url.scheme == "https"


def session_cookie(request: Request) -> str:
    return "__Host-oja_sessie" if secure_request(request) else "oja_sessie"


def login_cookie(request: Request) -> str:
    return "__Host-oja_login" if secure_request(request) else "oja_login"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=secure_request(request), httponly=True, samesite="strict"
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    """Remove a cookie with the attributes it was set with: a browser ignores a `__Host-` cookie without Secure,
    so a deletion without them would leave the old cookie in place over HTTPS."""
    response.delete_cookie(name, path="/", secure=secure_request(request), httponly=True, samesite="strict")


def client_of(request: Request) -> str | None:
    """The client address for the access log: "203.0.113.99 via 127.0.0.1" through a trusted proxy."""
    return client_address(request)


@dataclasses.dataclass(frozen=True)
class User:
    """The professional behind this request, with the scope of `models.access` and the session's CSRF token."""

    code: str
    name: str
    role: str
    actor: Actor
    csrf: str
    token: str

    @property
    def school_role(self) -> bool:
        return self.role in SCHOOL_ROLES and self.actor.school_code is not None

    @property
    def sees_cases(self) -> bool:
        return self.role not in (Role.MANAGER.value, Role.PRIVACY_OFFICER.value) and (
            self.school_role or bool(self.actor.provider_code) or bool(self.actor.municipality_code)
        )

    @property
    def sees_reports(self) -> bool:
        return self.role in OVERSIGHT_ROLES

    @property
    def reads_access_log(self) -> bool:
        return self.role == Role.PRIVACY_OFFICER.value

    @property
    def uses_prefect(self) -> bool:
        """Whether the Prefect UI (through the gateway, `/prefect/`) shows this role anything."""
        return may_use_prefect(self.role)

    @property
    def operator(self) -> bool:
        return self.role == Role.OPERATOR.value


def first_page(user: User) -> str:
    """Where a user starts: their cases, else the figures (a manager, a team lead of no school or provider),
    else the access log (the privacy officer), else the Prefect UI (the operator)."""
    if user.operator:
        return "/prefect/"
    if not user.sees_cases and user.sees_reports:
        return "/rapport"
    if not user.sees_cases and user.reads_access_log:
        return "/toegangslog"
    return "/"


def user_of(professional: Professional, csrf: str = "", token: str = "") -> User:
    return User(professional.code, professional.name, professional.role, actor_of(professional), csrf, token)


def actor_of(professional: Professional) -> Actor:
    return Actor(
        professional.code,
        professional.role,
        professional.school_code,
        professional.provider_code,
        professional.municipality_code,
    )


def current_user(request: Request, session: Session) -> User | None:
    """The session's professional. Its last use is written at most once a minute (`TOUCH_EVERY`; idle time counts
    in minutes): a write at the start of every page would hold SQLite's one writer's lock for the whole page, and
    every other page would wait for it (issue 27's profile)."""
    token = request.cookies.get(session_cookie(request), "")
    found = find_session(session, token, now=dt.datetime.now(dt.UTC), touch_every=TOUCH_EVERY)
    if found is None:
        return None
    professional, web_session = found
    return user_of(professional, web_session.csrf_token, token)


class NotLoggedIn(Exception):
    """No live session: the page sends the browser to the login page, and back here afterwards."""


def same_secret(expected: str, given: str) -> bool:
    """Whether `given` is the secret `expected`, in constant time: compared as UTF-8 bytes, since
    `hmac.compare_digest` raises on a `str` that is not ASCII (a token `é` from a form or a cookie)."""
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass"))


def csrf_ok(expected: str, given: Any) -> bool:
    return isinstance(given, str) and bool(expected) and same_secret(expected, given)


class Refused(Exception):
    """The user may not see this page or do this: logged (in a transaction of its own, as the refused one is
    rolled back) and answered with 403 and the rule in Dutch."""

    def __init__(
        self, action: AccessAction, rule: str, *, case_ref: str | None = None, pupil_ref: str | None = None
    ) -> None:
        super().__init__(rule)
        self.action, self.rule, self.case_ref, self.pupil_ref = action, rule, case_ref, pupil_ref


def log_refusal(request: Request, user: User, refused: Refused) -> None:
    """The refusal's line, with the pupil of a refused case looked up: "who looked at my child's file" finds it."""
    with unit_of_work() as session:
        pupil_ref = refused.pupil_ref
        if refused.case_ref and not pupil_ref:
            query = select(Pupil.ref).join(Case, col(Case.pupil_id) == col(Pupil.id))
            pupil_ref = session.exec(query.where(Case.ref == refused.case_ref)).first()
        log_access(
            session,
            professional_code=user.code,
            role=user.role,
            action=refused.action,
            outcome=AccessOutcome.REFUSED,
            path=request.url.path,
            client=client_of(request),
            case_ref=refused.case_ref,
            pupil_refs=[pupil_ref] if pupil_ref else [],
            reason=refused.rule,
        )


def serve(request: Request, action: AccessAction, body: Callable[[Session, User], Response]) -> Response:
    """Run a page for the logged-in user in one transaction (its access-log lines commit with it, before the
    page is sent). No session: to the login page. A refusal of scope (`Refused`, or the services'
    `AccessDenied`): logged, and 403 with the rule. An unknown reference: 404. Bad input the page did not
    catch itself: 400 with the field and rule."""
    user: User | None = None
    try:
        with unit_of_work() as session:
            user = current_user(request, session)
            if user is None:
                raise NotLoggedIn
            return body(session, user)
    except NotLoggedIn:
        return to_login(request)
    except AccessDenied as exc:
        assert user is not None
        refused = Refused(
            action,
            exc.scope,
            case_ref=exc.subject if exc.subject.startswith("OJA-") else None,
            pupil_ref=exc.subject if exc.subject.startswith("LL-") else None,
        )
        log_refusal(request, user, refused)
        if refused.case_ref:  # on the case's audit trail too, as a refused step in Prefect is
            record_refusal(get_engine(), exc)
        return page(request, "refused.html", user, 403, rule=refused.rule)
    except Refused as exc:
        assert user is not None
        log_refusal(request, user, exc)
        return page(request, "refused.html", user, 403, rule=exc.rule)
    except UnknownReference as exc:
        return page(request, "not_found.html", user, 404, error=exc)
    except InvalidInput as exc:
        return page(request, "not_found.html", user, 400, error=exc)


def logged(
    session: Session,
    request: Request,
    user: User,
    action: AccessAction,
    *,
    case_ref: str | None = None,
    pupil_refs: list[str] | None = None,
    reason: str | None = None,
    cases: list[tuple[str, str]] | None = None,
) -> None:
    log_access(
        session,
        professional_code=user.code,
        role=user.role,
        action=action,
        path=request.url.path,
        client=client_of(request),
        case_ref=case_ref,
        pupil_refs=pupil_refs or [],
        reason=reason,
        cases=cases or [],
    )


def page(request: Request, name: str, user: User | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, {"user": user, "today": dt.date.today(), **context}, status_code=status_code
    )


def safe_next(path: str | None) -> str:
    """A path on this site to return to after login (never another site: `//evil` or `https://...`)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def to_login(request: Request) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse("/inloggen?volgende=" + quote(safe_next(request.url.path)), status_code=303)


class SecurityHeaders:
    """The headers of `HEADERS` and the CSP on every response. An error no page caught is logged by its type
    and path only (its message may quote a database row: a name, a BSN) and answered with a page in Dutch.

    Plain ASGI: Starlette's `BaseHTTPMiddleware` (`app.middleware("http")`) ran every request in a task group of
    its own with a stream between it and the page, a fifth of the event loop's time under load (issue 27)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        secure = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", CSP)
                if secure:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception as exc:  # noqa: BLE001 - the last stop before the server would log the message
            log.error(
                "fout bij %s %s: %s (de melding zelf wordt niet gelogd)",
                scope.get("method", ""),
                scope.get("path", ""),
                type(exc).__name__,
            )
            if started:  # part of the answer is sent: the connection ends (the server closes it), no page
                raise
            await page(Request(scope), "error.html", None, 500)(scope, receive, with_headers)


def static_file(name: str) -> Path:
    return STATIC / name
