"""Two worker processes run the same day's sweep at once on PostgreSQL: every reminder decided and sent once."""

from __future__ import annotations

import collections
import multiprocessing
import socket
import sys
import threading
from email import message_from_bytes
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from models.tables_outbox import Notice, Outbox
from models.vocabulary import OutboxStatus
from notifications.render import render
from oja.adapters.db import get_engine
from oja.config import Policy
from oja.services import sweep

BENCH = Path(__file__).resolve().parents[2] / "bench"


class _Counting:
    def __init__(self) -> None:
        self.ids: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.ids[str(message_from_bytes(envelope.content)["Message-ID"])] += 1
        return "250 OK"


def _worker(url: str, smtp_url: str, day, ready, start, out) -> None:
    """One worker process: the sweep flow's work for the day (decide, then send, overlapped)."""
    from notifications.send import AppriseSender

    sender = AppriseSender(smtp_url)
    get_engine(url).connect().close()
    ready.put(1)
    start.wait(30)
    planned, sent = sweep.sweep_day(get_engine(url), sender, day=day, policy=Policy(), render=render)
    sender.close()
    out.put((planned.notices, sent.sent, sent.failed))


@pytest.mark.postgres
def test_two_worker_processes_sweep_the_same_day_and_nothing_goes_twice(pg_url, tmp_path):
    sys.path.insert(0, str(BENCH))
    from sweep import SWEEP_DAY, generate  # the benchmark's region: many schools, workers, recipients

    control = f"sqlite:///{tmp_path / 'control.db'}"
    for url in (pg_url, control):
        generate(url, 20000, seed=5)
    expected = sweep.plan_notices(get_engine(control), day=SWEEP_DAY, policy=Policy(), render=render)
    get_engine(pg_url).dispose()

    handler = _Counting()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        ctx = multiprocessing.get_context("spawn")
        ready, start, out = ctx.Queue(), ctx.Event(), ctx.Queue()
        smtp_url = f"mailto://127.0.0.1:{port}?from=oja@example.org"
        workers = [ctx.Process(target=_worker, args=(pg_url, smtp_url, SWEEP_DAY, ready, start, out)) for _ in range(2)]
        for w in workers:
            w.start()
        for _ in workers:
            ready.get(timeout=60)
        start.set()  # both are up: they start the same day's sweep at the same moment
        results = [out.get(timeout=240) for _ in workers]
        for w in workers:
            w.join(30)
    finally:
        server.stop()

    assert all(w.exitcode == 0 for w in workers)
    notices, sent, failed = (sum(r[i] for r in results) for i in range(3))
    assert notices == expected.notices > 500  # decided once between them, exactly what one sweep decides
    assert failed == 0 and sent == expected.messages > 30
    assert sum(handler.ids.values()) == len(handler.ids) == expected.messages  # nothing received twice
    with get_engine(pg_url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Notice)).scalar() == expected.notices
        statuses = conn.execute(sa.select(Outbox.status, sa.func.count()).group_by(Outbox.status)).all()
    assert dict(statuses) == {OutboxStatus.SENT: expected.messages}
