"""The gateway: the Prefect UI and API behind the dossier's login, on the dossier's own address.

People reach Prefect only here: `/prefect/...` is the UI, `/api/...` its API (HTTP, and the websockets that
stream logs and events). The Prefect server itself listens on loopback and asks for a secret of its own, which only
the engine's processes have (`oja/adapters/prefect_secret.py`). For every request the gateway

1. finds the signed-in professional from the dossier's session cookie: no session, and a page is sent to the login
   page (and back afterwards), an API call gets 401;
2. refuses a request that changes something unless its `Origin` (else its `Referer`) is the engine's own;
3. asks `models/prefect_access.py` whether the person's role may make it (an allow-list: anything else is refused);
4. for a step (a deployment's run) binds the form's `actor` to the person (`gateway_steps.py`);
5. passes it on with the server's secret (`gateway_proxy.py`), and writes every change (allowed or refused) and
   every refused read to the access log, with the step and the run (`gateway_log.py`).

The UI's own page and settings: `gateway_ui.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping

import anyio
import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from models.prefect_access import Decision, Kind, decide, is_read
from models.vocabulary import AccessAction, AccessOutcome, Role
from oja.adapters.db import unit_of_work
from oja.config import dossier_url
from oja.dossier.gateway_log import Journal
from oja.dossier.gateway_proxy import API_PREFIX, NO_PREFECT, Proxy, Upstream, relay
from oja.dossier.gateway_steps import change_run, refusal, start_run
from oja.dossier.gateway_ui import UI_PREFIX, UI_SETTINGS_SHOWN, ui
from oja.dossier.security import User, user_of
from oja.services.logins import TOUCH_EVERY, find_session

log = logging.getLogger("oja.gateway")

CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PAGE_THREADS = 8  # the pages (and the dossier's other work in threads) at once per process
SESSION_READS = 4  # the gateway's session reads at once per process, in threads of their own
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # the UI's requests carry their Origin (no-referrer would send "null")
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
NOT_LOGGED_IN = "U bent niet ingelogd, of uw sessie is verlopen: log opnieuw in."
FOREIGN_ORIGIN = (
    "Geweigerd: dit verzoek komt niet van de pagina's van de engine zelf (Origin of Referer ontbreekt of is "
    "een andere site). Er is niets gewijzigd."
)


def origin_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(headers: Mapping[str, str], scheme: str) -> bool:
    """A change comes from the engine's own pages: its Origin, else its Referer, is the engine's (as configured,
    OJA_DOSSIER_URL, or as this request reached it); a browser that says the request is cross-site is refused
    whatever it claims. Neither header: refused (a browser always sends one of them with a change)."""
    if headers.get("sec-fetch-site", "") == "cross-site":
        return False
    host = headers.get("host", "")
    own = {o for o in (origin_of(dossier_url()), f"{scheme}://{host}".lower() if host else "") if o}
    origin = headers.get("origin", "").strip()
    if origin:
        return origin.lower() in own
    referer = headers.get("referer", "").strip()
    return bool(referer) and origin_of(referer) in own


class Gateway:
    """The ASGI application of `/prefect/...` and `/api/...` (`front` routes them here)."""

    def __init__(self, upstream: Upstream | None = None) -> None:
        self.proxy = Proxy(upstream)
        self.journal = Journal()
        self._session_reads: dict[int, anyio.CapacityLimiter] = {}  # per event loop (a test serves in threads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.websocket(WebSocket(scope, receive, send))
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self.http(request)
        except httpx.InvalidURL:  # a path or query no HTTP request may carry on
            response = JSONResponse({"detail": "Geweigerd: dit adres is ongeldig."}, 400)
        except httpx.HTTPError as exc:  # Prefect away while the gateway asked it something of its own
            log.warning("gateway: geen antwoord van Prefect (%s) bij %s %s", type(exc).__name__, request.method,
                        request.url.path)  # fmt: skip
            response = JSONResponse({"detail": NO_PREFECT}, 502)
        except Exception as exc:  # noqa: BLE001 - the last stop: never a traceback (or a row) to the person
            log.error("gateway: fout bij %s %s: %s", request.method, request.url.path, type(exc).__name__)
            response = JSONResponse({"detail": "Er ging iets mis in de engine; probeer het opnieuw."}, 500)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        await response(scope, receive, send)

    async def user(self, cookies: Mapping[str, str], secure: bool) -> User | None:
        """Who is logged in: the dossier's session (its last use written at most once a minute)."""
        token = cookies.get("__Host-oja_sessie" if secure else "oja_sessie", "")
        if not token:
            return None

        def find() -> User | None:
            with unit_of_work() as session:
                found = find_session(session, token, now=dt.datetime.now(dt.UTC), touch_every=TOUCH_EVERY)
                return None if found is None else user_of(found[0], found[1].csrf_token, token)

        return await anyio.to_thread.run_sync(find, limiter=self.session_reads())

    def session_reads(self) -> anyio.CapacityLimiter:
        """The threads of the gateway's session reads, their own: under load the pages fill the default threads
        (`front`: PAGE_THREADS), and a Prefect tab's read that waited behind them took a page's time (issue 27)."""
        loop = id(asyncio.get_running_loop())
        found = self._session_reads.get(loop)
        if found is None:
            found = self._session_reads[loop] = anyio.CapacityLimiter(SESSION_READS)
        return found

    async def http(self, request: Request) -> Response:
        path = request.url.path
        is_ui = path == UI_PREFIX or path.startswith(UI_PREFIX + "/")
        user = await self.user(request.cookies, request.url.scheme == "https")
        if user is None:
            if is_ui and request.method in ("GET", "HEAD"):
                target = path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse("/inloggen?volgende=" + urllib.parse.quote(target, safe=""), 303)
            return JSONResponse({"detail": NOT_LOGGED_IN, "inloggen": "/inloggen"}, 401)
        if request.method.upper() in CHANGING and not same_origin(request.headers, request.url.scheme):
            await self.journal.log(
                request, user, AccessAction.PREFECT_CHANGED, AccessOutcome.REFUSED, reason=FOREIGN_ORIGIN
            )
            return JSONResponse({"detail": FOREIGN_ORIGIN}, 403)
        upstream = self.proxy.upstream
        if upstream is None:
            return JSONResponse({"detail": NO_PREFECT}, 503)
        if is_ui:
            return await ui(request, user, self.proxy, upstream, self.journal)
        return await self.api(request, user, upstream, path.removeprefix(API_PREFIX) or "/")

    async def api(self, request: Request, user: User, upstream: Upstream, path: str) -> Response:
        decision = decide(user.role, request.method, path)
        if not decision.allowed:
            if decision.read or (decision.rule is None and is_read(request.method, path)):
                await self.journal.refused_read(request, user, decision.reason)
            else:
                await self.refused_write(request, user, upstream, path, decision)
            return refusal(decision.reason)
        assert decision.rule is not None
        kind = decision.rule.kind
        if kind == Kind.READ or (kind == Kind.SETTINGS and user.role == Role.OPERATOR.value):
            response = await self.proxy.forward(request, upstream)
        elif kind == Kind.SETTINGS:
            response = JSONResponse(UI_SETTINGS_SHOWN)
        elif kind == Kind.START_RUN:
            response = await start_run(request, user, self.proxy, upstream, self.journal, path.split("/")[2])
        elif kind in (Kind.RUN_STATE, Kind.RESUME):
            response = await change_run(request, user, self.proxy, upstream, self.journal, path.split("/")[2], kind)
        else:
            response = await self.proxy.forward(request, upstream)
            outcome = AccessOutcome.ALLOWED if response.status_code < 400 else AccessOutcome.REFUSED
            reason = f"{request.method} {path} ({response.status_code})"
            await self.journal.log(request, user, AccessAction.PREFECT_CHANGED, outcome, reason=reason)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def refused_write(
        self, request: Request, user: User, upstream: Upstream, path: str, decision: Decision
    ) -> None:
        """A change the role may not make, in the access log: a step with its deployment, a run with its id."""
        kind = decision.rule.kind if decision.rule is not None else Kind.WRITE
        target = path.split("/")[2] if kind in (Kind.START_RUN, Kind.RUN_STATE, Kind.RESUME) else ""
        step = None
        if kind == Kind.START_RUN:
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                found = await self.proxy.deployment(upstream, target)
                step = found[1] if found else None
        action = {
            Kind.START_RUN: AccessAction.STEP_STARTED,
            Kind.RUN_STATE: AccessAction.RUN_CHANGED,
            Kind.RESUME: AccessAction.RUN_CHANGED,
        }.get(kind, AccessAction.PREFECT_CHANGED)
        run_id = target if kind in (Kind.RUN_STATE, Kind.RESUME) else None
        await self.journal.log(
            request, user, action, AccessOutcome.REFUSED, reason=decision.reason, step=step, run_id=run_id
        )

    async def websocket(self, websocket: WebSocket) -> None:
        """The live logs and events (`/api/logs/out`, `/api/events/out`): the same login, origin and allow-list."""
        secure = websocket.url.scheme == "wss"
        user = await self.user(websocket.cookies, secure)
        upstream = self.proxy.upstream
        if user is None or upstream is None or not websocket.url.path.startswith(API_PREFIX + "/"):
            await websocket.close(code=1008, reason="niet ingelogd")
            return
        if not same_origin(websocket.headers, "https" if secure else "http"):  # another site's page (CSWSH)
            await websocket.close(code=1008, reason="andere herkomst")
            return
        decision = decide(user.role, "WS", websocket.url.path.removeprefix(API_PREFIX))
        if not decision.allowed:
            await self.journal.refused_read(websocket, user, decision.reason)
            await websocket.close(code=1008, reason="geweigerd")
            return
        await relay(websocket, upstream, websocket.url.path)


def front(dossier: ASGIApp, gateway: Callable[[Scope, Receive, Send], Awaitable[None]]) -> ASGIApp:
    """One address for both surfaces: `/prefect/...` and `/api/...` to the gateway, everything else the dossier.
    The pages run in at most `PAGE_THREADS` threads of a process at once (anyio's default threads: 40), each with
    a database connection (`oja.adapters.db.POOL`): more would only wait for the one interpreter lock of the
    process, holding a connection."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        limiter = anyio.to_thread.current_default_thread_limiter()
        if limiter.total_tokens != PAGE_THREADS:
            limiter.total_tokens = PAGE_THREADS
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if path.startswith((API_PREFIX + "/", UI_PREFIX + "/")) or path in (UI_PREFIX, API_PREFIX):
            await gateway(scope, receive, send)
        else:
            await dossier(scope, receive, send)

    return app
