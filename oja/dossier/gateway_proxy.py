"""The gateway's line to Prefect: where the server is and its secret, and passing a request on (HTTP, streamed; a
websocket, relayed), with the secret instead of the person's cookie. The checks are the gateway's (`gateway.py`).

Prefect on SQLite answers 503 when it is busy ("database is locked": its transaction rolled back, nothing was
done): tried again, as Prefect's own client does. After such an answer Prefect's server drops the connection, so
the next request on it may get no answer at all; a request that is safe to send twice (a read, or a new run that
carries the gateway's idempotency key) is then sent again too. A Submit is tried for up to 90 s: Prefect on SQLite
sometimes holds every write for a minute (its lock wait) while runs run, and a Submit outlasts that. What
is still not answered, or answered 5xx, is answered 502 with a message in Dutch, and written to the dossier's log
with its status (or the kind of failure), the method and the path: codes only. A body that is not strict JSON
(NaN, Infinity, which Python's reader takes and Prefect fails on) is refused with 422 before it is passed on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
import os
import random
import threading
import time
import urllib.parse
from typing import Any

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from oja.adapters.prefect_secret import read_secret
from oja.config import get_settings
from oja.dossier.submit_turn import machine_turn

log = logging.getLogger("oja.gateway")

API_PREFIX = "/api"
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding"}
    | {"upgrade"}
)
# never passed on to Prefect: the person's cookies (the session), a credential of their own, where they came from
DROPPED_REQUEST = HOP_BY_HOP | {"host", "cookie", "authorization", "content-length", "origin", "referer"}
DROPPED_RESPONSE = HOP_BY_HOP | {"set-cookie", "server", "date", "access-control-allow-origin"}
RETRY_WAITS = (0.1, 0.2, 0.4, None)  # Prefect answered 503 (busy): try again after these waits, then give up
# a Submit (a new run, sent again only with its idempotency key): tried again for longer. A try is never cut off
# while Prefect may still make its run (on SQLite it waits up to 60 s for its lock, then answers 503): what the
# gateway gives up on has made no run.
SUBMIT_WAITS = (0.2, 0.4, 0.8, 1.6, *[2.0] * 40, None)  # until SUBMIT_BUDGET, mostly
SUBMIT_TRY = 75.0
SUBMIT_BUDGET = 90.0  # seconds from the first try after which no new try starts: outlasts one 60 s lock wait
SUBMIT_TURN = 2.0  # a try holds the turn (on SQLite: the only Submit in Prefect) this long at most
SUBMITS_ON_POSTGRES = 16  # Submits passed on at once to a Prefect server on PostgreSQL (on SQLite: one)
DEPLOYMENT_KEPT = 60.0  # seconds a deployment's flow and name are kept
NO_PREFECT = "Prefect is nu niet bereikbaar voor de engine. Probeer het over een minuut opnieuw."
PREFECT_FAILED = (
    "Prefect kon dit verzoek niet verwerken. Probeer het opnieuw; blijft het misgaan, meld het de beheerder."
)
NOT_JSON = "Geweigerd: de inhoud van het verzoek is geen geldige JSON."
MAX_BODY = 1_000_000  # Prefect's requests and a step's form are a few kB; nothing the UI sends comes near this
TOO_LARGE = f"Geweigerd: de inhoud van het verzoek is te groot (meer dan {MAX_BODY // 1000} kB)."


class BodyTooLarge(Exception):
    """A request's body is over `MAX_BODY` (by its Content-Length, or as it streams in)."""


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request's body, read no further than `limit` bytes: a declared or streamed length beyond it is refused
    before the rest is read (a client cannot make the gateway hold a body of any size in memory)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:  # "²".isdigit() is True
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


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


def submits_at_once(environ: dict[str, str] | None = None) -> int:
    """How many Submits the gateway passes on to Prefect at the same time. On SQLite one: Prefect's create reads,
    then writes, in a transaction that begins deferred, and when another write commits in between SQLite refuses it
    at once ("database is locked", 503) without waiting; one at a time, creates no longer refuse each other."""
    env = os.environ if environ is None else environ
    url = env.get("PREFECT_SERVER_DATABASE_CONNECTION_URL") or env.get("PREFECT_API_DATABASE_CONNECTION_URL") or ""
    return 1 if not url.strip() or url.strip().startswith("sqlite") else SUBMITS_ON_POSTGRES


def no_constant(name: str) -> Any:
    raise ValueError(f"{name} is geen JSON")


def strict_json(body: bytes) -> bool:
    """Whether a body is JSON as the standard has it."""
    try:
        json.loads(body, parse_constant=no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return True


class Proxy:
    """The connection to the Prefect server: one pool per event loop (a test serves the app in threads of its own)."""

    def __init__(self, configured: Upstream | None = None) -> None:
        self._configured = configured
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._gates: dict[int, asyncio.Semaphore] = {}  # per event loop: the Submits passed on at once
        self._lock = threading.Lock()
        self._deployments: dict[str, tuple[float, str, str]] = {}  # id -> (read at, flow, deployment name)

    @property
    def upstream(self) -> Upstream | None:
        return self._configured or upstream_from_environment()

    def client(self) -> httpx.AsyncClient:
        loop = id(asyncio.get_running_loop())
        with self._lock:
            found = self._clients.get(loop)
            if found is None:
                limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
                found = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), limits=limits)
                self._clients[loop] = found
            return found

    def submit_gate(self) -> asyncio.Semaphore:
        loop = id(asyncio.get_running_loop())
        with self._lock:
            return self._gates.setdefault(loop, asyncio.Semaphore(submits_at_once()))

    async def in_turn(self, outgoing: httpx.Request) -> httpx.Response:
        """A Submit's try in its turn (on SQLite one at a time in all the front's processes, first come first served
        in each). The turn passes on after `SUBMIT_TURN` seconds even when Prefect has not answered yet: one try
        stuck on Prefect's lock holds up no other Submit longer than that."""
        gate = self.submit_gate()
        await gate.acquire()
        sending: asyncio.Future[httpx.Response] | None = None
        try:
            async with contextlib.AsyncExitStack() as turn:
                if submits_at_once() == 1:  # and on SQLite one in every process of the front (`submit_turn`)
                    await turn.enter_async_context(machine_turn())
                sending = asyncio.ensure_future(self.client().send(outgoing, stream=True))
                await asyncio.wait({sending}, timeout=SUBMIT_TURN)
        except BaseException:
            if sending is not None:
                sending.cancel()
            raise
        finally:
            gate.release()
        assert sending is not None
        return await sending

    def url(self, upstream: Upstream, request: Request, path: str) -> str:
        """Prefect's URL for this request: the path the gateway checked, quoted again (a `%00` or a space stays one
        segment as it was), and the query as it came."""
        quoted = urllib.parse.quote(path, safe="/:@!$&'()*+,;=-._~")
        return upstream.url + quoted + (f"?{request.url.query}" if request.url.query else "")

    @staticmethod
    def headers(request: Request, upstream: Upstream) -> list[tuple[str, str]]:
        kept = [(k, v) for k, v in request.headers.items() if k.lower() not in DROPPED_REQUEST]
        return [*kept, ("authorization", upstream.authorization)]

    async def send(self, outgoing: httpx.Request, *, again: bool = False, submit: bool = False) -> httpx.Response:
        """Send (streamed); a 503 is tried again a few times within about a second (`submit`: within
        `SUBMIT_BUDGET`, each try cut off after `SUBMIT_TRY`). `again`: the request may be sent twice, so one that got
        no answer (a dropped connection, a timeout) is tried again as well. Every try that failed is logged."""
        waits = SUBMIT_WAITS if submit else RETRY_WAITS
        started = time.monotonic()
        if submit:
            outgoing.extensions["timeout"] = httpx.Timeout(SUBMIT_TRY, connect=5.0).as_dict()
        for tries, wait in enumerate(waits, 1):
            last = wait is None or (submit and time.monotonic() - started + wait > SUBMIT_BUDGET)
            try:
                answer = await (self.in_turn(outgoing) if submit else self.client().send(outgoing, stream=True))
            except httpx.TransportError as exc:
                log.warning(
                    "gateway: geen antwoord van Prefect (%s) op %s %s, poging %d%s",
                    type(exc).__name__, outgoing.method, outgoing.url.path, tries,
                    "" if again and not last else ", opgegeven",
                )  # fmt: skip
                if not again or last:
                    raise
            else:
                if answer.status_code != 503 or last:
                    if tries > 1 and answer.status_code < 500:
                        log.warning(
                            "gateway: Prefect antwoordde %s op %s %s na %d pogingen",
                            answer.status_code, outgoing.method, outgoing.url.path, tries,
                        )  # fmt: skip
                    return answer
                log.warning(
                    "gateway: Prefect antwoordde 503 op %s %s, poging %d", outgoing.method, outgoing.url.path, tries
                )
                await answer.aclose()
            assert wait is not None
            await asyncio.sleep(wait * random.uniform(0.75, 1.25))  # noqa: S311 - spread, not secrecy
        raise AssertionError("unreachable")  # pragma: no cover - the last try returns or raises

    @staticmethod
    def failed(request: Request, status: int) -> JSONResponse:
        """Prefect itself failed (its log says why): 502 and a message in Dutch, never its own 500."""
        log.warning("gateway: Prefect antwoordde %s op %s %s, opgegeven", status, request.method, request.url.path)
        return JSONResponse({"detail": PREFECT_FAILED}, 502)

    @staticmethod
    def unanswered(request: Request, exc: httpx.HTTPError) -> JSONResponse:
        """No answer from Prefect: 502 and a message in Dutch, and a line in the log (the kind of failure)."""
        log.warning("gateway: geen antwoord van Prefect (%s) op %s %s", type(exc).__name__, request.method,
                    request.url.path)  # fmt: skip
        return JSONResponse({"detail": NO_PREFECT}, 502)

    async def forward(self, request: Request, upstream: Upstream) -> Response:
        """Pass the request on as it is, the answer back as it comes (streamed, still compressed)."""
        try:
            body = await read_body(request)  # Prefect's requests are small JSON searches
        except BodyTooLarge:
            return JSONResponse({"detail": TOO_LARGE}, 413)
        if body and not strict_json(body):
            return JSONResponse({"detail": NOT_JSON}, 422)
        outgoing = self.client().build_request(
            request.method,
            self.url(upstream, request, request.url.path),
            headers=self.headers(request, upstream),
            content=body or None,
        )
        try:
            answer = await self.send(outgoing, again=request.method in ("GET", "HEAD"))
        except httpx.HTTPError as exc:
            return self.unanswered(request, exc)
        if answer.status_code >= 500:
            await answer.aclose()
            return self.failed(request, answer.status_code)
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED_RESPONSE}
        return StreamingResponse(
            answer.aiter_raw(), answer.status_code, headers=headers, background=BackgroundTask(answer.aclose)
        )

    async def forward_json(
        self, request: Request, upstream: Upstream, body: dict[str, Any], *, submit: bool = False
    ) -> tuple[Response, Any]:
        """Pass on a body the gateway changed; the answer back, and read. `submit`: a new run with its idempotency
        key, tried again (longer) when Prefect is busy or does not answer."""
        headers = [(k, v) for k, v in self.headers(request, upstream) if k.lower() != "content-type"]
        outgoing = self.client().build_request(
            request.method,
            self.url(upstream, request, request.url.path),
            headers=[*headers, ("content-type", "application/json")],
            json=body,
        )
        try:
            answer = await self.send(outgoing, again=submit, submit=submit)
            try:
                await answer.aread()
            finally:
                await answer.aclose()
        except httpx.HTTPError as exc:
            return self.unanswered(request, exc), None
        if answer.status_code >= 500:
            return self.failed(request, answer.status_code), None
        try:
            data = answer.json()
        except ValueError:
            data = None
        keep = DROPPED_RESPONSE | {"content-encoding", "content-length"}
        headers_back = {k: v for k, v in answer.headers.items() if k.lower() not in keep}
        return Response(answer.content, answer.status_code, headers=headers_back), data

    async def read(self, upstream: Upstream, path: str) -> Any | None:
        """The engine's own read of Prefect's API (`path` after /api), with the secret; None when there is no such
        thing (404, or an id that is none)."""
        answer = await self.client().get(
            f"{upstream.url}{API_PREFIX}{path}", headers={"Authorization": upstream.authorization}
        )
        if answer.status_code in (404, 422):
            return None
        answer.raise_for_status()
        return answer.json()

    async def deployment(self, upstream: Upstream, deployment_id: str) -> tuple[str, str] | None:
        """(flow name, deployment name) of a deployment, kept a minute; None when Prefect has no such one."""
        found = self._deployments.get(deployment_id)
        if found is not None and time.monotonic() - found[0] < DEPLOYMENT_KEPT:
            return found[1], found[2]
        deployment = await self.read(upstream, f"/deployments/{deployment_id}")
        if deployment is None:
            return None
        flow = await self.read(upstream, f"/flows/{deployment['flow_id']}")
        if flow is None:
            return None
        self._deployments[deployment_id] = (time.monotonic(), flow["name"], deployment["name"])
        return flow["name"], deployment["name"]


async def relay(websocket: WebSocket, upstream: Upstream, path: str) -> None:
    """A websocket to Prefect's (`path`, e.g. /api/events/out) and back: Prefect's own handshake done here with the
    server's secret; a client that offers it (the `prefect` subprotocol) is answered here, its token ignored."""
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
        if "prefect" in offered:
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
