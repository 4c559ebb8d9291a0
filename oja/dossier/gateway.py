"""The gateway: the Prefect UI and API behind the dossier's login, on the dossier's own address.

People reach Prefect only here: `/prefect/...` is the UI, `/api/...` its API (HTTP, and the websockets that
stream logs and events). The Prefect server itself listens on loopback and asks for a secret of its own, which only
the engine's processes have (`oja/adapters/prefect_secret.py`). For every request the gateway

1. finds the signed-in professional from the dossier's session cookie: no session, and a page is sent to the login
   page (and back afterwards), an API call gets 401;
2. refuses a request that changes something unless its `Origin` (else its `Referer`) is the engine's own;
3. asks `models/prefect_access.py` whether the person's role may make it (an allow-list: anything else is refused);
4. for a step (a deployment's run) binds the form's `actor` to the person (filled in when empty, refused when it
   names someone else), refuses `job_variables`, and tags the run `door:<code>`; a retry, cancel or resume only of
   one's own run;
5. passes it on with the server's secret, and writes every change (allowed or refused) and every refused read to
   the access log, with the step and the run.

A small proxy written here, not a proxy library: the checks in 3-4 need the request's body and the signed-in
person, which a general proxy (in front of the app) cannot see; httpx (already Prefect's client) carries the HTTP,
`websockets` (Prefect's own) the websockets. `docs/architecture.md` says more.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime as dt
import html
import json
import logging
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import httpx
from sqlmodel import col, select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from models.prefect_access import (
    Capability,
    Decision,
    Kind,
    StepRefused,
    actor_of,
    bind_actor,
    capabilities,
    decide,
    is_read,
    may_use_prefect,
    run_tags,
    state_change_allowed,
)
from models.tables import Case, Pupil
from models.vocabulary import AccessAction, AccessOutcome, Role
from oja.adapters.db import unit_of_work
from oja.adapters.prefect_secret import read_secret
from oja.config import dossier_url, get_settings
from oja.deployments import LIFECYCLE_FLOWS
from oja.dossier.security import CSP as DOSSIER_CSP
from oja.dossier.security import User, page, user_of
from oja.services.access_log import log_access
from oja.services.choices import role_label
from oja.services.logins import TOUCH_EVERY, find_session

log = logging.getLogger("oja.gateway")

UI_PREFIX = "/prefect"
API_PREFIX = "/api"
CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding"}
    | {"upgrade"}
)
# never passed on to Prefect: the person's cookies (the session), a credential of their own, where they came from
DROPPED_REQUEST = HOP_BY_HOP | {"host", "cookie", "authorization", "content-length", "origin", "referer"}
DROPPED_RESPONSE = HOP_BY_HOP | {"set-cookie", "server", "date", "access-control-allow-origin"}
MAX_BODY = 1_000_000  # a step's form is a few hundred bytes; Prefect's own limits apply to what is passed on
RETRY_WAITS = (0.1, 0.2, 0.4, None)  # Prefect answered 503 (busy): try again after these waits, then give up
REFUSED_READ_EVERY = 60.0  # a refused read is logged once a minute per person and endpoint (the UI polls)
CASE_REF = re.compile(r"^OJA-\d{4}-\d{6}$")
PUPIL_REF = re.compile(r"^LL-\d{6}$")

# the Prefect UI is a script: its own headers, still no framing, no other site's scripts or connections
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # the UI's requests carry their Origin (no-referrer would send "null")
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

# what the UI reads of the server's settings, for anyone but the operator (who gets them all, secrets masked)
UI_SETTINGS_SHOWN = {
    "server": {"ui": {"enabled": True, "v2_enabled": False, "show_promotional_content": False}},
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": False,  # the key the UI 3.8 reads (no Prefect Cloud advertising)
}
NOT_LOGGED_IN = "U bent niet ingelogd, of uw sessie is verlopen: log opnieuw in."
FOREIGN_ORIGIN = (
    "Geweigerd: dit verzoek komt niet van de pagina's van de engine zelf (Origin of Referer ontbreekt of is "
    "een andere site). Er is niets gewijzigd."
)
PREFECT_FAILED = (
    "Prefect kon dit verzoek niet verwerken. Probeer het opnieuw; blijft het misgaan, meld het de beheerder."
)
NO_PREFECT = "Prefect is nu niet bereikbaar voor de engine. Probeer het over een minuut opnieuw."


@dataclasses.dataclass(frozen=True)
class Upstream:
    """Where the Prefect server is, and its secret (basic authentication)."""

    url: str  # e.g. http://127.0.0.1:4200 (no /api)
    secret: str

    @property
    def authorization(self) -> str:
        return "Basic " + base64.b64encode(self.secret.encode()).decode()

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")


def upstream_from_environment() -> Upstream | None:
    """The Prefect server `oja start` gave this process: PREFECT_API_URL, and the secret (None: not configured)."""
    api = os.environ.get("PREFECT_API_URL", "").strip().rstrip("/")
    if not api:
        return None
    return Upstream(api.removesuffix("/api"), read_secret(get_settings().home.resolve()))


def target(upstream: Upstream, request: Request, path: str) -> str:
    """Prefect's URL for this request: the path the gateway checked, quoted again (a `%00` or a space stays one
    segment as it was), and the query as it came."""
    quoted = urllib.parse.quote(path, safe="/:@!$&'()*+,;=-._~")
    return upstream.url + quoted + (f"?{request.url.query}" if request.url.query else "")


def _strict_json(body: bytes) -> bool:
    """Whether a body is JSON as the standard has it (Python's own reader takes NaN and Infinity, Prefect fails on
    them)."""
    try:
        json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return True


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is geen JSON")


def origin_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


class Gateway:
    """The ASGI application of `/prefect/...` and `/api/...` (`front` routes them here)."""

    def __init__(self, upstream: Upstream | None = None) -> None:
        self._configured = upstream
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._lock = threading.Lock()
        self._flows: dict[str, tuple[float, str, str]] = {}  # deployment id -> (read at, flow, deployment name)
        self._refused_reads: dict[tuple[str, str], float] = {}

    # --- plumbing ---------------------------------------------------------------------------------------------

    @property
    def upstream(self) -> Upstream | None:
        return self._configured or upstream_from_environment()

    def client(self) -> httpx.AsyncClient:
        """One connection pool to Prefect per event loop (a test serves the app in threads of its own)."""
        loop = id(asyncio.get_running_loop())
        with self._lock:
            found = self._clients.get(loop)
            if found is None:
                limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
                found = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), limits=limits)
                self._clients[loop] = found
            return found

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
        except Exception as exc:  # noqa: BLE001 - the last stop: never a traceback (or a row) to the person
            log.error("gateway: fout bij %s %s: %s", request.method, request.url.path, type(exc).__name__)
            response = JSONResponse({"detail": "Er ging iets mis in de engine; probeer het opnieuw."}, 500)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        await response(scope, receive, send)

    # --- who is asking ----------------------------------------------------------------------------------------

    async def user(self, cookies: Mapping[str, str], secure: bool) -> User | None:
        token = cookies.get("__Host-oja_sessie" if secure else "oja_sessie", "")
        if not token:
            return None

        def find() -> User | None:
            with unit_of_work() as session:
                found = find_session(session, token, now=dt.datetime.now(dt.UTC), touch_every=TOUCH_EVERY)
                return None if found is None else user_of(found[0], found[1].csrf_token, token)

        return await anyio.to_thread.run_sync(find)

    @staticmethod
    def own_origins(scheme: str, host: str) -> set[str]:
        """The engine's origin as configured (OJA_DOSSIER_URL), and as this request reached it."""
        return {o for o in (origin_of(dossier_url()), f"{scheme}://{host}".lower() if host else "") if o}

    def same_origin(self, headers: Mapping[str, str], scheme: str) -> bool:
        """A change comes from the engine's own pages: its Origin, else its Referer, is ours; a browser that says
        the request is cross-site is refused whatever it claims."""
        if headers.get("sec-fetch-site", "") == "cross-site":
            return False
        own = self.own_origins(scheme, headers.get("host", ""))
        origin = headers.get("origin", "").strip()
        if origin:
            return origin.lower() in own
        referer = headers.get("referer", "").strip()
        return bool(referer) and origin_of(referer) in own

    # --- HTTP -------------------------------------------------------------------------------------------------

    async def http(self, request: Request) -> Response:
        path = request.url.path
        ui = path == UI_PREFIX or path.startswith(UI_PREFIX + "/")
        secure = request.url.scheme == "https"
        user = await self.user(request.cookies, secure)
        if user is None:
            if ui and request.method in ("GET", "HEAD"):
                target = path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse("/inloggen?volgende=" + urllib.parse.quote(target, safe=""), 303)
            return JSONResponse({"detail": NOT_LOGGED_IN, "inloggen": "/inloggen"}, 401)
        if request.method.upper() in CHANGING and not self.same_origin(request.headers, request.url.scheme):
            await self.log(request, user, AccessAction.PREFECT_CHANGED, AccessOutcome.REFUSED, reason=FOREIGN_ORIGIN)
            return JSONResponse({"detail": FOREIGN_ORIGIN}, 403)
        upstream = self.upstream
        if upstream is None:
            return JSONResponse({"detail": NO_PREFECT}, 503)
        if ui:
            return await self.ui(request, user, upstream)
        return await self.api(request, user, upstream, path.removeprefix(API_PREFIX) or "/")

    async def ui(self, request: Request, user: User, upstream: Upstream) -> Response:
        if request.method not in ("GET", "HEAD"):
            return JSONResponse({"detail": "de Prefect UI wordt alleen gelezen"}, 405)
        if not may_use_prefect(user.role):
            rule = f"de rol {user.role} heeft geen toegang tot Prefect"
            await self.refused_read(request, user, rule)
            refused = page(request, "refused.html", user, 403, rule=rule)
            refused.headers["Cache-Control"] = "no-store"
            refused.headers["Content-Security-Policy"] = DOSSIER_CSP
            return refused
        path = request.url.path
        if path == UI_PREFIX + "/v2" or path.startswith(UI_PREFIX + "/v2/"):
            return RedirectResponse(UI_PREFIX + "/", 303)  # one UI: the one the steps' links open
        if path == UI_PREFIX + "/ui-settings":
            return await self.ui_settings(request, upstream)
        if path.startswith(UI_PREFIX + "/assets/") or path.startswith(UI_PREFIX + "/ico/"):
            response = await self.forward(request, upstream, request.url.path)  # hashed files: may be kept
        else:
            response = await self.ui_page(request, user, upstream)  # the page itself: with the engine's bar
            response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = UI_CSP
        return response

    async def ui_page(self, request: Request, user: User, upstream: Upstream) -> Response:
        """The UI's page (the same index.html for every route of the UI) with the engine's bar in it: who is logged
        in, the way back to the dossier, log out; and the menu without what the role may not open."""
        url = target(upstream, request, request.url.path)
        headers = [(k, v) for k, v in self.outgoing_headers(request, upstream) if k.lower() != "accept-encoding"]
        try:
            answer = await self.client().get(url, headers=[*headers, ("accept-encoding", "identity")])
        except httpx.HTTPError:
            return JSONResponse({"detail": NO_PREFECT}, 502)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED_RESPONSE | {"content-length"}}
        if "text/html" not in answer.headers.get("content-type", ""):
            return Response(answer.content, answer.status_code, headers=kept)
        page_html = answer.text.replace("</body>", engine_bar(user) + "</body>", 1)
        return Response(page_html, answer.status_code, headers=kept, media_type="text/html")

    async def ui_settings(self, request: Request, upstream: Upstream) -> Response:
        """Prefect's UI settings, told the API is here (the gateway, on this address), that no password of
        Prefect's own is asked (the engine's login is), and that there is one UI (V1, what the links open)."""
        answer = await self.client().get(
            upstream.url + UI_PREFIX + "/ui-settings", headers={"Authorization": upstream.authorization}
        )
        settings = answer.json()
        settings.update(
            api_url=f"{request.url.scheme}://{request.headers.get('host', '')}{API_PREFIX}",
            auth=None,
            default_ui="v1",
            available_uis=["v1"],
            v2_base_url=None,
        )
        return JSONResponse(settings, headers={"Cache-Control": "no-store"})

    async def api(self, request: Request, user: User, upstream: Upstream, path: str) -> Response:
        decision = decide(user.role, request.method, path)
        if not decision.allowed:
            if decision.read or (decision.rule is None and is_read(request.method, path)):
                await self.refused_read(request, user, decision.reason)
            else:
                await self.log_refused_write(request, user, upstream, path, decision)
            return self.refusal(decision.reason)
        assert decision.rule is not None
        kind = decision.rule.kind
        if kind == Kind.READ or (kind == Kind.SETTINGS and user.role == Role.OPERATOR.value):
            response = await self.forward(request, upstream, request.url.path)
        elif kind == Kind.SETTINGS:
            response = JSONResponse(UI_SETTINGS_SHOWN)
        elif kind == Kind.START_RUN:
            response = await self.start_run(request, user, upstream, path)
        elif kind in (Kind.RUN_STATE, Kind.RESUME):
            response = await self.change_run(request, user, upstream, path, kind)
        else:
            response = await self.forward(request, upstream, request.url.path)
            outcome = AccessOutcome.ALLOWED if response.status_code < 400 else AccessOutcome.REFUSED
            reason = f"{request.method} {path} ({response.status_code})"
            await self.log(request, user, AccessAction.PREFECT_CHANGED, outcome, reason=reason)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def log_refused_write(
        self, request: Request, user: User, upstream: Upstream, path: str, decision: Decision
    ) -> None:
        """A change the role may not make, in the access log: a step with its deployment, a run with its id."""
        kind = decision.rule.kind if decision.rule is not None else Kind.WRITE
        target = path.split("/")[2] if kind in (Kind.START_RUN, Kind.RUN_STATE, Kind.RESUME) else ""
        step = None
        if kind == Kind.START_RUN:
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                found = await self.deployment(upstream, target)
                step = found[1] if found else None
        action = {
            Kind.START_RUN: AccessAction.STEP_STARTED,
            Kind.RUN_STATE: AccessAction.RUN_CHANGED,
            Kind.RESUME: AccessAction.RUN_CHANGED,
        }.get(kind, AccessAction.PREFECT_CHANGED)
        run_id = target if kind in (Kind.RUN_STATE, Kind.RESUME) else None
        await self.log(request, user, action, AccessOutcome.REFUSED, reason=decision.reason, step=step, run_id=run_id)

    @staticmethod
    def refusal(rule: str, status: int = 403) -> JSONResponse:
        return JSONResponse({"detail": f"Geweigerd: {rule}."}, status)

    # --- a step -----------------------------------------------------------------------------------------------

    async def body_json(self, request: Request) -> dict[str, Any]:
        body = await request.body()
        if len(body) > MAX_BODY:
            raise StepRefused("inhoud", f"is te groot (meer dan {MAX_BODY // 1000} kB)", 413)
        try:
            data = json.loads(body or b"{}", parse_constant=_no_constant)  # NaN, Infinity: not JSON
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise StepRefused("inhoud", "is geen geldige JSON", 422) from None
        if not isinstance(data, dict):
            raise StepRefused("inhoud", "moet een JSON-object zijn", 422)
        return data

    async def deployment(self, upstream: Upstream, deployment_id: str) -> tuple[str, str] | None:
        """(flow name, deployment name) of a deployment, kept a minute; None when Prefect has no such one."""
        found = self._flows.get(deployment_id)
        if found is not None and time.monotonic() - found[0] < 60:
            return found[1], found[2]
        headers = {"Authorization": upstream.authorization}
        answer = await self.client().get(f"{upstream.url}{API_PREFIX}/deployments/{deployment_id}", headers=headers)
        if answer.status_code in (404, 422):
            return None
        answer.raise_for_status()
        deployment = answer.json()
        flow = await self.client().get(f"{upstream.url}{API_PREFIX}/flows/{deployment['flow_id']}", headers=headers)
        flow.raise_for_status()
        self._flows[deployment_id] = (time.monotonic(), flow.json()["name"], deployment["name"])
        return flow.json()["name"], deployment["name"]

    async def start_run(self, request: Request, user: User, upstream: Upstream, path: str) -> Response:
        """A deployment's run: a lifecycle step bound to the person; anything else only for the operator."""
        deployment_id = path.split("/")[2]
        operator = user.role == Role.OPERATOR.value
        step: str | None = None
        form: dict[str, Any] = {}
        try:
            found = await self.deployment(upstream, deployment_id)
            if found is None:
                raise StepRefused("deployment", "deze stap bestaat niet (meer) in Prefect", 404)
            flow, step = found
            body = await self.body_json(request)
            raw_form = body.get("parameters", {}).get("form") if isinstance(body.get("parameters"), dict) else None
            form = raw_form if isinstance(raw_form, dict) else {}
            lifecycle = flow in LIFECYCLE_FLOWS
            if not lifecycle and not operator:
                raise StepRefused(
                    "deployment", f"{step} is geen stap van de levenscyclus: alleen de beheerder start die", 403
                )
            if body.get("job_variables") and not operator:
                raise StepRefused("job_variables", "alleen de beheerder mag die bij een run zetten")
            state = body.get("state")
            if state is not None and not (
                isinstance(state, dict) and str(state.get("type", "")).upper() == "SCHEDULED"
            ):
                raise StepRefused("state", "een nieuwe run begint als Scheduled", 422)
            if lifecycle:
                body["parameters"] = bind_actor(body.get("parameters"), user.code)
                form = body["parameters"]["form"]
            body["tags"] = run_tags(body.get("tags"), user.code)
        except StepRefused as refused:
            await self.log_step(request, user, AccessAction.STEP_STARTED, AccessOutcome.REFUSED, step, None, form,
                                reason=str(refused))  # fmt: skip
            return self.refusal(str(refused), refused.status)
        response, answer = await self.forward_json(request, upstream, body)
        run_id = answer.get("id") if isinstance(answer, dict) and response.status_code < 400 else None
        outcome = AccessOutcome.ALLOWED if run_id else AccessOutcome.REFUSED
        reason = f"{step} gestart" if run_id else f"Prefect weigerde de run ({response.status_code})"
        await self.log_step(request, user, AccessAction.STEP_STARTED, outcome, step, run_id, form, reason=reason)
        return response

    async def change_run(self, request: Request, user: User, upstream: Upstream, path: str, kind: Kind) -> Response:
        """A retry, a cancel or a resume: of one's own run of a lifecycle step only (the operator: any run)."""
        run_id = path.split("/")[2]
        operator = user.role == Role.OPERATOR.value
        step: str | None = None
        form: dict[str, Any] = {}
        try:
            body = await self.body_json(request)
            headers = {"Authorization": upstream.authorization}
            answer = await self.client().get(f"{upstream.url}{API_PREFIX}/flow_runs/{run_id}", headers=headers)
            if answer.status_code in (404, 422):
                raise StepRefused("flow_run", "deze run bestaat niet", 404)
            answer.raise_for_status()
            run = answer.json()
            parameters = run.get("parameters") or {}
            given = parameters.get("form") if isinstance(parameters, dict) else None
            form = given if isinstance(given, dict) else {}
            found = await self.deployment(upstream, run["deployment_id"]) if run.get("deployment_id") else None
            step = found[1] if found else None
            if not operator:
                if found is None or found[0] not in LIFECYCLE_FLOWS:
                    raise StepRefused("flow_run", "alleen runs van stappen van de levenscyclus", 403)
                if actor_of(parameters) != user.code:
                    raise StepRefused("flow_run", "alleen uw eigen stappen: deze run is gezet door een ander", 403)
                if kind == Kind.RUN_STATE and not state_change_allowed(body.get("state")):
                    raise StepRefused("state", "u kunt een eigen run alleen opnieuw starten of annuleren")
            if kind == Kind.RESUME and isinstance(body.get("run_input"), dict) and "actor" in body["run_input"]:
                bound = bind_actor({"form": body["run_input"]}, user.code)
                body["run_input"] = bound["form"]
        except StepRefused as refused:
            await self.log_step(request, user, AccessAction.RUN_CHANGED, AccessOutcome.REFUSED, step, run_id, form,
                                reason=str(refused))  # fmt: skip
            return self.refusal(str(refused), refused.status)
        response, _ = await self.forward_json(request, upstream, body)
        outcome = AccessOutcome.ALLOWED if response.status_code < 400 else AccessOutcome.REFUSED
        what = "hervat" if kind == Kind.RESUME else f"naar {str((body.get('state') or {}).get('type', '')).lower()}"
        reason = f"run {what} ({response.status_code})"
        await self.log_step(request, user, AccessAction.RUN_CHANGED, outcome, step, run_id, form, reason=reason)
        return response

    # --- passing on -------------------------------------------------------------------------------------------

    def outgoing_headers(self, request: Request, upstream: Upstream) -> list[tuple[str, str]]:
        kept = [(k, v) for k, v in request.headers.items() if k.lower() not in DROPPED_REQUEST]
        return [*kept, ("authorization", upstream.authorization)]

    async def send(self, outgoing: httpx.Request) -> httpx.Response:
        """Send to Prefect (streamed); a 503 (Prefect's SQLite busy: nothing was done) is tried again, as Prefect's
        own client does, a few times within about a second."""
        for wait in RETRY_WAITS:
            answer = await self.client().send(outgoing, stream=True)
            if answer.status_code != 503 or wait is None:
                return answer
            await answer.aclose()
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover - the last wait is None

    @staticmethod
    def prefect_failed(request: Request, status: int) -> JSONResponse:
        """Prefect itself failed (its log says why): 502 and a message in Dutch, never its own 500."""
        log.warning("gateway: Prefect antwoordde %s op %s %s", status, request.method, request.url.path)
        return JSONResponse({"detail": PREFECT_FAILED}, 502)

    async def forward(self, request: Request, upstream: Upstream, path: str) -> Response:
        """Pass the request on as it is, the answer back as it comes (streamed, still compressed)."""
        url = target(upstream, request, path)
        body = await request.body()  # Prefect's requests are small JSON searches; a length, not a chunked stream
        if body and not _strict_json(body):
            return JSONResponse({"detail": "Geweigerd: de inhoud van het verzoek is geen geldige JSON."}, 422)
        outgoing = self.client().build_request(
            request.method, url, headers=self.outgoing_headers(request, upstream), content=body or None
        )
        try:
            answer = await self.send(outgoing)
        except httpx.HTTPError:
            return JSONResponse({"detail": NO_PREFECT}, 502)
        if answer.status_code >= 500:
            await answer.aclose()
            return self.prefect_failed(request, answer.status_code)
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED_RESPONSE}
        return StreamingResponse(
            answer.aiter_raw(), answer.status_code, headers=headers, background=BackgroundTask(answer.aclose)
        )

    async def forward_json(self, request: Request, upstream: Upstream, body: dict[str, Any]) -> tuple[Response, Any]:
        """Pass on a body the gateway changed; the answer back, and read."""
        url = target(upstream, request, request.url.path)
        headers = [(k, v) for k, v in self.outgoing_headers(request, upstream) if k.lower() != "content-type"]
        outgoing = self.client().build_request(
            request.method, url, headers=[*headers, ("content-type", "application/json")], json=body
        )
        try:
            answer = await self.send(outgoing)
            try:
                await answer.aread()
            finally:
                await answer.aclose()
        except httpx.HTTPError:
            return JSONResponse({"detail": NO_PREFECT}, 502), None
        if answer.status_code >= 500:
            return self.prefect_failed(request, answer.status_code), None
        try:
            data = answer.json()
        except ValueError:
            data = None
        keep = DROPPED_RESPONSE | {"content-encoding", "content-length"}
        headers_back = {k: v for k, v in answer.headers.items() if k.lower() not in keep}
        return Response(answer.content, answer.status_code, headers=headers_back), data

    # --- the access log ---------------------------------------------------------------------------------------

    async def log(
        self,
        where: Request | WebSocket,
        user: User,
        action: AccessAction,
        outcome: AccessOutcome,
        *,
        reason: str,
        step: str | None = None,
        run_id: str | None = None,
        case_ref: str | None = None,
        pupil_ref: str | None = None,
    ) -> None:
        client = where.client.host if where.client else None
        path = where.url.path

        def write() -> None:
            with unit_of_work() as session:
                pupil = pupil_ref
                if case_ref and not pupil:
                    query = (
                        select(Pupil.ref).join(Case, col(Case.pupil_id) == col(Pupil.id)).where(Case.ref == case_ref)
                    )
                    pupil = session.exec(query).first()
                log_access(
                    session,
                    professional_code=user.code,
                    role=user.role,
                    action=action,
                    outcome=outcome,
                    path=path,
                    client=client,
                    case_ref=case_ref,
                    pupil_refs=[pupil] if pupil else [],
                    reason=reason,
                    step=step,
                    run_id=run_id,
                )

        await anyio.to_thread.run_sync(write)

    async def log_step(
        self,
        request: Request,
        user: User,
        action: AccessAction,
        outcome: AccessOutcome,
        step: str | None,
        run_id: str | None,
        form: Mapping[str, Any],
        *,
        reason: str,
    ) -> None:
        case_ref = form.get("case_ref") if isinstance(form.get("case_ref"), str) else None
        pupil_ref = form.get("pupil_ref") if isinstance(form.get("pupil_ref"), str) else None
        await self.log(
            request,
            user,
            action,
            outcome,
            reason=reason,
            step=step,
            run_id=run_id,
            case_ref=case_ref if case_ref and CASE_REF.match(case_ref) else None,
            pupil_ref=pupil_ref if pupil_ref and PUPIL_REF.match(pupil_ref) else None,
        )

    async def refused_read(self, request: Request, user: User, rule: str) -> None:
        """A refused read in the access log: once a minute per person and endpoint (the UI asks again and again)."""
        key = (user.code, f"{request.method} {request.url.path}")
        now = time.monotonic()
        if now - self._refused_reads.get(key, -REFUSED_READ_EVERY) < REFUSED_READ_EVERY:
            return
        self._refused_reads[key] = now
        await self.log(request, user, AccessAction.PREFECT_READ, AccessOutcome.REFUSED, reason=rule)

    # --- websockets -------------------------------------------------------------------------------------------

    async def websocket(self, websocket: WebSocket) -> None:
        """The live logs and events (`/api/logs/out`, `/api/events/out`): the same login, origin and allow-list;
        Prefect's own handshake done here with the server's secret."""
        secure = websocket.url.scheme == "wss"
        user = await self.user(websocket.cookies, secure)
        path = websocket.url.path.removeprefix(API_PREFIX)
        scheme = "https" if secure else "http"
        upstream = self.upstream
        if user is None or upstream is None or not websocket.url.path.startswith(API_PREFIX + "/"):
            await websocket.close(code=1008, reason="niet ingelogd")
            return
        if not self.same_origin(websocket.headers, scheme):  # a websocket from another site's page (CSWSH)
            await websocket.close(code=1008, reason="andere herkomst")
            return
        decision: Decision = decide(user.role, "WS", path)
        if not decision.allowed:
            await self.log(websocket, user, AccessAction.PREFECT_READ, AccessOutcome.REFUSED, reason=decision.reason)
            await websocket.close(code=1008, reason="geweigerd")
            return
        await _relay(websocket, upstream, websocket.url.path)


async def _relay(websocket: WebSocket, upstream: Upstream, path: str) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    offered = [p.strip() for h in websocket.headers.getlist("sec-websocket-protocol") for p in h.split(",")]
    try:
        remote = await connect(
            upstream.ws_url + path,
            subprotocols=["prefect"],  # type: ignore[list-item]
            additional_headers={"Authorization": upstream.authorization},
            open_timeout=10,
        )
    except (OSError, ConnectionClosed, TimeoutError):
        await websocket.close(code=1011, reason="Prefect niet bereikbaar")
        return
    async with remote:
        await remote.send(json.dumps({"type": "auth", "token": upstream.secret}))
        greeting = json.loads(await remote.recv())
        if greeting.get("type") != "auth_success":
            await websocket.close(code=1011, reason="Prefect weigerde")
            return
        if "prefect" in offered:  # the client does Prefect's handshake: answered here (its token is not Prefect's)
            await websocket.accept(subprotocol="prefect")
            first = await websocket.receive_json()
            if not isinstance(first, dict) or first.get("type") != "auth":
                await websocket.close(code=1008, reason="eerst een auth-bericht")
                return
            await websocket.send_json({"type": "auth_success"})
        else:
            await websocket.accept()

        async def inbound() -> None:
            with contextlib.suppress(WebSocketDisconnect, ConnectionClosed):
                while True:
                    await remote.send(await websocket.receive_text())

        async def outbound() -> None:
            with contextlib.suppress(WebSocketDisconnect, ConnectionClosed, RuntimeError):
                async for message in remote:
                    await websocket.send_text(message if isinstance(message, str) else message.decode())

        tasks = [asyncio.create_task(inbound()), asyncio.create_task(outbound())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
    with contextlib.suppress(RuntimeError):
        await websocket.close()


# the menu items of the Prefect UI a role may not open (their pages would only show refusals)
MENU = {
    "/prefect/blocks": Capability.ADMINISTER,
    "/prefect/variables": Capability.ADMINISTER,
    "/prefect/automations": Capability.ADMINISTER,
    "/prefect/concurrency-limits": Capability.ADMINISTER,
    "/prefect/events": Capability.READ_EVENTS,
}


def engine_bar(user: User) -> str:
    """The engine's bar in the Prefect UI (no script: a link and a form): who is logged in, back to the dossier,
    log out; and a style hiding the menu items the role may not open."""
    allowed = capabilities(user.role)
    hidden = [f'a[href="{href}"]' for href, needed in MENU.items() if needed not in allowed]
    style = f"<style>{', '.join(hidden)} {{ display: none !important; }}</style>" if hidden else ""
    who = html.escape(f"{user.code} · {role_label(user.role)}")
    return (
        f'{style}<link rel="stylesheet" href="/static/gateway.css">'
        '<nav class="oja-balk" aria-label="OJA-engine">'
        f'<a href="/">← Dossier</a><span class="oja-wie">{who}</span>'
        '<form method="post" action="/uitloggen">'
        f'<input type="hidden" name="csrf" value="{html.escape(user.csrf)}">'
        '<button type="submit">Uitloggen</button></form></nav>'
    )


def front(dossier: ASGIApp, gateway: Callable[[Scope, Receive, Send], Awaitable[None]]) -> ASGIApp:
    """One address for both surfaces: `/prefect/...` and `/api/...` to the gateway, everything else the dossier."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if path.startswith((API_PREFIX + "/", UI_PREFIX + "/")) or path in (UI_PREFIX, API_PREFIX):
            await gateway(scope, receive, send)
        else:
            await dossier(scope, receive, send)

    return app
