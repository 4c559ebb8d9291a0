"""The sending seam: one `send(to_email, message, role=...)`, through Apprise.

E-mail goes through an Apprise `mailto://` / `mailtos://` URL (HTML with a plain
text alternative, which Apprise derives from the HTML); a role can have extra
Apprise URLs (a Teams or Slack channel for team leads, say), which get the plain
text. Apprise waits 5.5 s between two messages through one service object by
default; that throttle is switched off here, since the outbox paces the work.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise

from notifications.messages import RenderedMessage


class DeliveryFailed(Exception):
    """A message could not be delivered to a target; the target is named without its secrets."""


def redact(url: str) -> str:
    """A URL without user and password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _instantiate(url: str, setting: str) -> apprise.plugins.NotifyBase:
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        raise ValueError(f"{setting}: not a valid Apprise URL ({redact(url)})")
    plugin.request_rate_per_sec = 0  # no 5.5 s pause between messages
    return plugin


class AppriseSender:
    def __init__(self, smtp_url: str, *, extra_urls: Mapping[str, Sequence[str]] | None = None) -> None:
        if not smtp_url.startswith(("mailto://", "mailtos://")):
            raise ValueError("smtp_url: an Apprise mailto:// or mailtos:// URL")
        _instantiate(smtp_url, "smtp_url")  # refuse a malformed URL now, not at the first send
        self._smtp_url = smtp_url
        self._extra = {
            role: [_instantiate(u, f"extra_notify_urls[{role}]") for u in urls]
            for role, urls in (extra_urls or {}).items()
        }
        self._mailers: dict[str, apprise.plugins.NotifyBase] = {}
        self._lock = threading.Lock()

    def has_route(self, role: str | None) -> bool:
        return bool(self._extra.get(role or ""))

    def _mailer(self, to_email: str):
        with self._lock:
            mailer = self._mailers.get(to_email)
            if mailer is None:
                parts = urlsplit(self._smtp_url)
                query = [(k, v) for k, v in parse_qsl(parts.query) if k != "to"] + [("to", to_email)]
                url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
                mailer = self._mailers[to_email] = _instantiate(url, "smtp_url")
            return mailer

    def send(self, to_email: str | None, message: RenderedMessage, *, role: str | None = None) -> None:
        if to_email:
            ok = self._mailer(to_email).notify(
                body=message.html, title=message.subject, body_format=apprise.NotifyFormat.HTML
            )
            if not ok:
                raise DeliveryFailed(f"e-mail via {redact(self._smtp_url)} failed")
        for plugin in self._extra.get(role or "", []):
            if not plugin.notify(body=message.text, title=message.subject, body_format=apprise.NotifyFormat.TEXT):
                raise DeliveryFailed(f"{plugin.service_name} for role {role} failed")


class RecordingSender:
    """Keeps what would be sent: for tests of callers that need no real channel."""

    def __init__(self, routes: Sequence[str] = ()) -> None:
        self.sent: list[tuple[str | None, RenderedMessage, str | None]] = []
        self._routes = set(routes)

    def has_route(self, role: str | None) -> bool:
        return role in self._routes

    def send(self, to_email: str | None, message: RenderedMessage, *, role: str | None = None) -> None:
        self.sent.append((to_email, message, role))
