"""What the front believes of a request before the dossier or the gateway sees it: the host it was sent to, and
the client address a proxy forwarded.

- Only the engine's own host names are answered: the host of its public address (`oja.config.dossier_url`, so
  `OJA_DOSSIER_URL` behind a proxy) and the local names (`127.0.0.1`, `localhost`, `[::1]`). Any other `Host`
  gets 400 before a page or a redirect is made from it (a websocket is closed with 1008).
- `X-Forwarded-For` and `X-Forwarded-Proto` count only from the proxy addresses in `FORWARDED_ALLOW_IPS`
  (comma-separated addresses or networks, as uvicorn names the setting; empty by default: nobody's headers count).
  When they do, the direct peer is kept beside the forwarded address (`client_address`): the access log
  writes "203.0.113.99 via 127.0.0.1".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from oja.config import dossier_url

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
PEER = "oja.peer"  # the scope key of the direct peer, when proxies are configured


def trusted_proxies(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The proxy addresses whose forwarded headers count: FORWARDED_ALLOW_IPS, none when it is not set."""
    return [item.strip() for item in environ.get("FORWARDED_ALLOW_IPS", "").split(",") if item.strip()]


def allowed_hosts(environ: Mapping[str, str] = os.environ) -> set[str]:
    """The host names the front answers to: its public address's and the local ones."""
    public = urlsplit(dossier_url(environ)).hostname
    return {*LOCAL_HOSTS, *([public.lower()] if public else [])}


def client_address(connection: HTTPConnection) -> str | None:
    """The client's address as the access log writes it: the address a trusted proxy forwarded and the proxy
    itself ("203.0.113.99 via 127.0.0.1"), or the direct peer's alone."""
    client = connection.client.host if connection.client else None
    peer = connection.scope.get(PEER)
    return f"{client} via {peer}" if peer and client and peer != client else client


def guarded(app: ASGIApp, environ: Mapping[str, str] = os.environ) -> ASGIApp:
    """`app` behind the host check and the forwarded-header rule, with the settings of `environ` now."""
    return KnownHosts(ForwardedFrom(app, trusted_proxies(environ)), allowed_hosts(environ), dossier_url(environ))


class ForwardedFrom:
    """uvicorn's proxy-header rule for the addresses given (none: nothing is believed), keeping the direct peer."""

    def __init__(self, app: ASGIApp, proxies: list[str]) -> None:
        self.app = app
        self.proxies = proxies
        self.forwarded = ProxyHeadersMiddleware(app, trusted_hosts=proxies)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.proxies:
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        if peer:
            scope[PEER] = peer[0]  # the direct peer, before the proxy's client address may replace it
        await self.forwarded(scope, receive, send)  # type: ignore[arg-type]


class KnownHosts:
    """Answer only requests sent to one of `hosts` (compared without the port, case-insensitively)."""

    def __init__(self, app: ASGIApp, hosts: set[str], public_url: str) -> None:
        self.app = app
        self.hosts = hosts
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _host(scope) in self.hosts:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "onbekende hostnaam"})
            return
        text = f"Onbekend adres (Host): open het dossier via {self.public_url}/"
        await PlainTextResponse(text, status_code=400)(scope, receive, send)


def _host(scope: Scope) -> str:
    raw = next((value for name, value in scope["headers"] if name == b"host"), b"").decode("latin-1").strip()
    if raw.startswith("["):  # an IPv6 address: [::1]:4201
        return raw[1 : raw.find("]")].lower() if "]" in raw else ""
    return raw.rsplit(":", 1)[0].lower() if raw.count(":") == 1 else raw.lower()
