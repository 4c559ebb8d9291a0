"""The sending seam: one `send(to_email, message, role=...)`, through Apprise.

`Sender` is what the outbox dispatch (`oja.services.dispatch`) needs of a channel. `AppriseSender` sends for
real, `FolderSender` writes .eml files, `RecordingSender` keeps what it is given (for tests).

E-mail is addressed by an Apprise `mailto://` / `mailtos://` URL: Apprise parses
it (host, port, TLS mode, login, sender, extra headers); the message is our own
plain text with our HTML as its alternative, both from the templates (Apprise
would derive the text from the HTML, which cost 2 ms a message). Apprise itself would open a new
SMTP connection per message and pause 5.5 s between two (measured: 38 ms a
message with the pause off, against 3 ms on one open connection), so the built
messages go out over one SMTP connection per sending thread, kept open.
A role can have extra Apprise URLs (a Teams or Slack channel for team leads,
say); those are notified through Apprise with the plain text, throttle off.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from email.charset import BASE64, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import apprise
from apprise.plugins.email.base import NotifyEmail
from apprise.plugins.email.common import SecureMailMode

from models.errors import DeliveryFailed
from notifications.messages import RenderedMessage


class Sender(Protocol):
    """A channel the outbox dispatch sends through (`oja.services.dispatch`); the flows close it after."""

    def has_route(self, role: str | None) -> bool:
        """Whether a message for `role` goes somewhere without an e-mail address (a Teams or Slack channel)."""
        ...

    def send(self, to_email: str | None, message: RenderedMessage, *, role: str | None = None) -> None:
        """Deliver one message, or raise (`DeliveryFailed`): the dispatch then keeps it pending."""
        ...

    def close(self) -> None:
        """Release what the sender holds open (SMTP connections)."""
        ...


_CRLF = compat32.clone(linesep="\r\n")


_UTF8 = Charset("utf-8")
_UTF8.body_encoding = BASE64  # encoded in C; quoted-printable is a Python loop per character


def _mime(*, from_addr: tuple[str, str], to_email: str, message: RenderedMessage, headers: Mapping[str, str]) -> bytes:
    """The e-mail: our plain text with our HTML as its alternative (both rendered from the templates)."""
    mail = MIMEMultipart("alternative")
    mail["From"] = formataddr(from_addr)
    mail["To"] = to_email
    subject: str | Header = message.subject if message.subject.isascii() else Header(message.subject, "utf-8")
    mail["Subject"] = subject  # type: ignore[assignment]  # typeshed: str only; a compat32 message takes a Header
    mail["Date"] = formatdate(localtime=True)
    domain = from_addr[1].rpartition("@")[2] or "oja.local"
    mail["Message-ID"] = f"<{message.message_id}@{domain}>" if message.message_id else make_msgid(domain=domain)
    for name, value in headers.items():
        mail[name] = value
    # typeshed types MIMEText's charset as str; it takes a Charset as well (and passes it to set_payload)
    mail.attach(MIMEText(message.text, "plain", _UTF8))  # type: ignore[arg-type]
    mail.attach(MIMEText(message.html, "html", _UTF8))  # type: ignore[arg-type]
    return mail.as_bytes(policy=_CRLF)  # SMTP wants CRLF line ends; smtplib leaves bytes as they are


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
        raise ValueError(f"{setting}: moet een geldige Apprise-URL zijn ({redact(url)})")
    plugin.request_rate_per_sec = 0  # no 5.5 s pause between messages
    return plugin


def _from_addr(email: NotifyEmail) -> tuple[str, str]:
    """The sender's (name, address) as Apprise parsed them from the URL (its name is False when there is none)."""
    name, address = email.from_addr
    return (name if isinstance(name, str) else "", str(address))


class AppriseSender:
    def __init__(self, smtp_url: str, *, extra_urls: Mapping[str, Sequence[str]] | None = None) -> None:
        if not smtp_url.startswith(("mailto://", "mailtos://")):
            raise ValueError("smtp_url: moet een Apprise-URL zijn die met mailto:// of mailtos:// begint")
        email = _instantiate(smtp_url, "smtp_url")  # refuse a malformed URL now, not at the first send
        if not isinstance(email, NotifyEmail):
            raise ValueError("smtp_url: moet een e-mail-URL zijn")
        self._email: NotifyEmail = email
        self._from = _from_addr(email)
        self._where = redact(smtp_url)
        self._extra = {
            role: [_instantiate(u, f"extra_notify_urls[{role}]") for u in urls]
            for role, urls in (extra_urls or {}).items()
        }
        self._local = threading.local()
        self._connections: list[smtplib.SMTP] = []
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def has_route(self, role: str | None) -> bool:
        return bool(self._extra.get(role or ""))

    # -- e-mail over a kept-open connection -------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        """One TLS context for all of this sender's connections, made at the first that needs it (making one
        loads the system's certificates: tens of milliseconds of CPU, which a mail server that is down used to
        cost at every attempt)."""
        with self._lock:
            if self._tls is None:
                context = ssl.create_default_context()
                if not self._email.verify_certificate:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                self._tls = context
            return self._tls

    def _connect(self) -> smtplib.SMTP:
        e = self._email
        port: int = e.port or 0  # Apprise fills in the mode's default port (0 would be smtplib's default)
        conn: smtplib.SMTP
        if e.secure_mode == SecureMailMode.SSL:
            conn = smtplib.SMTP_SSL(e.smtp_host, port, timeout=e.socket_connect_timeout, context=self._tls_context())
        else:
            conn = smtplib.SMTP(e.smtp_host, port, timeout=e.socket_connect_timeout)
            if e.secure_mode == SecureMailMode.STARTTLS:
                conn.starttls(context=self._tls_context())
        if e.user and e.password:
            conn.login(e.user, e.password)
        with self._lock:
            self._connections.append(conn)
        return conn

    def _connection(self, *, fresh: bool = False) -> smtplib.SMTP:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        if fresh and conn is not None:
            self._drop(conn)
            conn = None
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _drop(self, conn: smtplib.SMTP) -> None:
        self._local.conn = None
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        try:
            conn.close()
        except OSError:
            pass

    def _mail(self, to_email: str, message: RenderedMessage) -> None:
        e = self._email
        body = _mime(
            from_addr=self._from,
            to_email=to_email,
            message=message,
            headers={"X-Application": e.app_id, **e.headers},
        )
        for attempt in (1, 2):
            try:
                conn = self._connection(fresh=attempt == 2)
                conn.sendmail(self._from[1], [to_email], body)
                return
            except smtplib.SMTPServerDisconnected:
                if attempt == 2:  # a kept-open connection may have timed out: one retry on a fresh one
                    raise DeliveryFailed(f"e-mail via {self._where}: the server closed the connection") from None
            except (OSError, smtplib.SMTPException) as exc:
                held: smtplib.SMTP | None = getattr(self._local, "conn", None)
                if held is not None:
                    self._drop(held)
                raise DeliveryFailed(f"e-mail via {self._where} failed: {type(exc).__name__}: {exc}") from None

    def send(self, to_email: str | None, message: RenderedMessage, *, role: str | None = None) -> None:
        if to_email:
            self._mail(to_email, message)
        for plugin in self._extra.get(role or "", []):
            if not plugin.notify(body=message.text, title=message.subject, body_format=apprise.NotifyFormat.TEXT):
                raise DeliveryFailed(f"{plugin.service_name} for role {role} failed")

    def close(self) -> None:
        """Say goodbye on every open SMTP connection."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()


class FolderSender:
    """Writes every e-mail to a folder as an .eml file instead of sending it: `oja sweep` by hand without a
    mail server, like the local mail sink of `oja start`. No extra routes per role: a recipient without an
    e-mail address is undeliverable here."""

    def __init__(self, folder: Path, *, mail_from: str = "oja@localhost") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._from = ("", mail_from)

    def has_route(self, role: str | None) -> bool:
        return False

    def send(self, to_email: str | None, message: RenderedMessage, *, role: str | None = None) -> None:
        if not to_email:
            return
        body = _mime(from_addr=self._from, to_email=to_email, message=message, headers={})
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{message.message_id or uuid.uuid4().hex}.eml"
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(body)
        temporary.replace(self.folder / name)  # a mail client watching the folder never sees half a message

    def close(self) -> None:
        pass


class RecordingSender:
    """Keeps what would be sent: for tests of callers that need no real channel. `routes` are the roles with a
    route besides e-mail; a message to an address in `refuse` fails with `DeliveryFailed`, and is not kept."""

    def __init__(self, routes: Sequence[str] = (), *, refuse: Sequence[str] = ()) -> None:
        self.sent: list[tuple[str | None, RenderedMessage, str | None]] = []
        self._routes = set(routes)
        self._refuse = set(refuse)
        self._lock = threading.Lock()  # the dispatch sends from several threads

    def has_route(self, role: str | None) -> bool:
        return role in self._routes

    def send(self, to_email: str | None, message: RenderedMessage, *, role: str | None = None) -> None:
        if to_email in self._refuse:
            raise DeliveryFailed(f"recording: {to_email} refused")
        with self._lock:
            self.sent.append((to_email, message, role))

    def close(self) -> None:
        pass
