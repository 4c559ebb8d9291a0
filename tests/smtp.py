"""A real SMTP server on localhost for tests (aiosmtpd), recording what it receives."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
import threading

from aiosmtpd.controller import Controller

from models.vocabulary import DigestKind


@dataclasses.dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: str
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()

    @property
    def digest_kind(self) -> DigestKind:
        """What the message holds, read from its subject."""
        if self.subject.startswith(("OJA weekoverzicht", "OJA weekly")):
            return DigestKind.WEEKLY
        if "weekoverzicht" in self.subject or "weekly overview" in self.subject:
            return DigestKind.COMBINED
        return DigestKind.DAILY


class _Handler:
    def __init__(self, box: list[Received], lock: threading.Lock) -> None:
        self.box = box
        self.lock = lock

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        raw = envelope.content.decode("utf-8", errors="replace")
        message = email.message_from_string(raw, policy=email.policy.default)
        with self.lock:
            self.box.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPServer:
    """Start, stop (to play a mail server that is down) and start again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Handler(self.messages, self._lock), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=oja@example.org"
