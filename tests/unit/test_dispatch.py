"""The outbox dispatch with a recording sender: what goes out, and what stays pending. No SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, SQLModel, select

from models.tables import Professional
from models.tables_outbox import Outbox
from models.vocabulary import DigestKind, OutboxStatus
from notifications.send import RecordingSender, Sender
from oja.adapters.db import get_engine
from oja.services import dispatch

DAY = dt.date(2026, 11, 23)


@pytest.fixture
def engine(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'oja.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s, s.begin():
        s.add(Professional(code="PRF-ZC", name="Zorgcoördinator", role="zorgcoordinator"))
        s.add(Professional(code="PRF-TL", name="Teamleider", role="teamleider"))
    return engine


def _queue(engine, *rows: tuple[str, str, str | None]) -> list[int]:
    """Pending outbox messages as (recipient, role, address); their ids in order."""
    with Session(engine) as s, s.begin():
        messages = [
            Outbox(
                recipient_code=code,
                role=role,
                to_address=address,
                digest=DigestKind.DAILY.value,
                sweep_date=DAY,
                subject=f"Herinnering {code}",
                text=f"tekst {code}",
                html=f"<p>{code}</p>",
            )
            for code, role, address in rows
        ]
        s.add_all(messages)
        s.flush()
        return [m.id for m in messages]


def _outbox(engine) -> dict[int, Outbox]:
    with Session(engine) as s:
        return {m.id: m for m in s.exec(select(Outbox))}


def test_dispatch_sends_each_pending_message_once_and_marks_it_sent(engine):
    ids = _queue(engine, ("PRF-ZC", "zorgcoordinator", "zc@school.example"), ("PRF-TL", "teamleider", None))
    sender = RecordingSender(routes=["teamleider"])  # the team lead has a channel besides e-mail
    _typed: Sender = sender  # the fake fits the seam the dispatch calls

    report = dispatch.dispatch(engine, sender)

    assert (report.sent, report.failed, report.undeliverable, report.errors) == (2, 0, 0, [])
    got = sorted(sender.sent, key=lambda s: s[1].message_id)
    assert [(to, m.subject, m.text, m.html, m.message_id, role) for to, m, role in got] == [
        (
            "zc@school.example",
            "Herinnering PRF-ZC",
            "tekst PRF-ZC",
            "<p>PRF-ZC</p>",
            f"oja.20261123.{ids[0]}",
            "zorgcoordinator",
        ),
        (None, "Herinnering PRF-TL", "tekst PRF-TL", "<p>PRF-TL</p>", f"oja.20261123.{ids[1]}", "teamleider"),
    ]
    rows = _outbox(engine)
    assert {i: (rows[i].status, rows[i].attempts, rows[i].claim_token) for i in ids} == {
        ids[0]: (OutboxStatus.SENT.value, 1, None),
        ids[1]: (OutboxStatus.SENT.value, 1, None),
    }
    assert all(rows[i].sent_at is not None and rows[i].last_error is None for i in ids)

    assert dispatch.dispatch(engine, sender).sent == 0  # nothing pending: nothing goes again
    assert len(sender.sent) == 2


def test_a_failed_message_stays_pending_and_one_without_a_route_is_undeliverable(engine):
    ok, refused, nowhere = _queue(
        engine,
        ("PRF-ZC", "zorgcoordinator", "zc@school.example"),
        ("PRF-TL", "teamleider", "tl@school.example"),
        ("PRF-TL", "teamleider", None),  # no address and no route for the role
    )
    sender = RecordingSender(refuse=["tl@school.example"])

    report = dispatch.dispatch(engine, sender)

    assert (report.sent, report.failed, report.undeliverable) == (1, 1, 1)
    assert report.errors == [f"outbox {refused}: recording: tl@school.example refused"]
    assert [to for to, _, _ in sender.sent] == ["zc@school.example"]
    rows = _outbox(engine)
    assert rows[ok].status == OutboxStatus.SENT.value
    assert rows[refused].status == OutboxStatus.PENDING.value  # tried again by a later run, after the retry pause
    assert rows[refused].last_error == f"outbox {refused}: recording: tl@school.example refused"
    assert rows[refused].sent_at is None and rows[refused].claim_token is None
    assert rows[refused].claimed_until is not None  # held back for the retry pause, not taken again at once
    assert (rows[nowhere].status, rows[nowhere].last_error) == (
        OutboxStatus.UNDELIVERABLE.value,
        "no address for the recipient",
    )

    assert dispatch.dispatch(engine, RecordingSender()).sent == 0  # within the retry pause nothing is resent


class ThreadRecordingSender(RecordingSender):
    """Records which sending thread (an SMTP connection each, in the real sender) sent each message."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()

    def send(self, to_email, message, *, role=None) -> None:
        import threading
        import time

        self.threads.add(threading.current_thread().name)
        time.sleep(0.02)  # an SMTP conversation: long enough for the other threads to take the next message
        super().send(to_email, message, role=role)


@pytest.mark.parametrize(("setting", "connections"), [("1", 1), ("3", 3)])
def test_the_smtp_connections_setting_bounds_the_messages_sent_at_once(engine, monkeypatch, setting, connections):
    from oja.config import Settings

    monkeypatch.setenv("OJA_SMTP_CONNECTIONS", setting)
    _queue(engine, *[("PRF-ZC", "zorgcoordinator", f"{i}@school.example") for i in range(12)])
    sender = ThreadRecordingSender()
    report = dispatch.dispatch(engine, sender, **Settings().dispatch_options)
    assert report.sent == 12
    assert len(sender.threads) == connections


class SlowSender(RecordingSender):
    """An SMTP server that takes `seconds` per message."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def send(self, to_email, message, *, role=None) -> None:
        import time

        time.sleep(self.seconds)
        super().send(to_email, message, role=role)


def test_a_batch_slower_than_its_lease_releases_what_it_could_not_send_in_time_and_sends_nothing_twice(engine):
    """A claim runs out after the lease, and another run may then claim the message: a message whose claim
    would hold for less than the margin (half a short lease) is released and claimed afresh, never sent late."""
    ids = _queue(engine, *[("PRF-ZC", "zorgcoordinator", f"{i}@school.example") for i in range(3)])
    sender = SlowSender(0.6)  # the third message would start 1.2 s into a claim that must end by 1.0 s
    report = dispatch.dispatch(engine, sender, concurrency=1, lease=dt.timedelta(seconds=2))
    assert (report.sent, report.stopped) == (3, 1)
    assert sorted(to for to, _, _ in sender.sent) == ["0@school.example", "1@school.example", "2@school.example"]
    rows = _outbox(engine)
    assert [rows[i].attempts for i in ids] == [1, 1, 2]  # the third claimed again, with a fresh lease
    assert all(rows[i].status == OutboxStatus.SENT.value for i in ids)
