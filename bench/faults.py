"""Fault injection: the sweep and dispatch under crashes, mail outages and dropped database connections.

    python bench/faults.py --rounds 100 [--arrangements 2000] [--database-url postgresql://...] [--hard-kill]

Generates a region (as `bench/sweep.py` does) and starts a real SMTP server on localhost. Each round
takes the next school day and runs the sweep (deciding the reminders) and the dispatch (sending them)
in a child process, while injecting one fault at a random moment:

    kill        the process is terminated mid-run (SIGTERM; with --hard-kill, SIGKILL: no clean-up at all)
    smtp-down   the mail server is down for the whole run
    smtp-refuse the mail server refuses about half of the messages (451, try again later)
    db-drop     every database connection of the run is cut (PostgreSQL: pg_terminate_backend)
    none        no fault

After each faulted run the same day is run again without a fault. At the end the outbox is drained,
and the result is checked against a control region that ran the same days without any fault:

    due        the reminders the control decided
    sent       messages the SMTP server received (distinct Message-IDs)
    duplicates messages received more than once (same Message-ID), beyond the first
    lost       reminders the control decided that were not decided here, plus decided messages that
               never reached the SMTP server

and one line is printed: `rounds=N due=D sent=S duplicates=X lost=Y` (plus the faults injected).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import multiprocessing
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time
from email import message_from_bytes
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

FAULTS = ("kill", "smtp-down", "smtp-refuse", "db-drop", "none")


class FlakyHandler:
    """An SMTP server that remembers every Message-ID it accepted, and can refuse on demand."""

    def __init__(self, seed: int) -> None:
        self.received: collections.Counter[str] = collections.Counter()
        self.refuse_share = 0.0
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            if self.refuse_share and self.rng.random() < self.refuse_share:
                return "451 4.3.0 try again later"
            message_id = message_from_bytes(envelope.original_content or envelope.content)["Message-ID"]
            self.received[str(message_id)] += 1
        return "250 OK"


class MailServer:
    def __init__(self, seed: int) -> None:
        self.handler = FlakyHandler(seed)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=oja@example.org"

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def _round(url: str, smtp_url: str, day: dt.date, hard: bool) -> None:
    """One sweep and dispatch, in a forked child: what the scheduled flows run."""
    from notifications.render import render
    from oja.adapters.db import get_engine
    from oja.adapters.notify import build_sender
    from oja.config import Policy
    from oja.services import dispatch, sweep

    phase = {"now": "plan"}
    stop = threading.Event()

    def on_term(_signum, _frame) -> None:
        if phase["now"] == "dispatch":
            stop.set()  # finish what is in flight, release the rest
        else:
            os._exit(3)  # deciding is one transaction per batch: dying here loses nothing

    if not hard:
        signal.signal(signal.SIGTERM, on_term)
    engine = get_engine(url)
    sweep.plan_notices(engine, day=day, policy=Policy(), render=render)
    phase["now"] = "dispatch"
    from oja.config import Settings

    sender = build_sender(Settings(smtp_url=smtp_url))
    try:
        report = dispatch.dispatch(
            engine, sender, stop=stop, lease=dt.timedelta(seconds=20), retry_after=dt.timedelta(seconds=0)
        )
    finally:
        sender.close()
    os._exit(0 if not report.failed else 4)


def _run(url: str, smtp_url: str, day: dt.date, *, hard: bool = False, fault=None) -> int:
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_round, args=(url, smtp_url, day, hard))
    proc.start()
    if fault is not None:
        fault(proc)
    proc.join(300)
    if proc.is_alive():
        proc.kill()
        proc.join()
        raise RuntimeError(f"round for {day} hung")
    return proc.exitcode


def _drop_connections(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    engine.dispose()


def _notice_keys(url: str) -> set[tuple]:
    from models.tables import Case, Notice
    from oja.adapters.db import get_engine

    with get_engine(url).connect() as conn:
        rows = conn.execute(
            sa.select(Case.ref, Notice.kind, Notice.due_on, Notice.stage, Notice.recipient_code).join(
                Case, Case.id == Notice.case_id
            )
        ).all()
    return {tuple(r) for r in rows}


def _fresh_database(url: str) -> None:
    if url.startswith(("postgresql", "postgres")):
        from sweep import _fresh_postgres

        _fresh_postgres(url)


def _days(n: int, start: dt.date) -> list[dt.date]:
    from models.schooldays import is_school_day

    out, d = [], start
    while len(out) < n:
        if is_school_day(d, "noord"):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--arrangements", type=int, default=2000)
    parser.add_argument("--database-url", default="", help="default: a SQLite file (no db-drop fault there)")
    parser.add_argument("--control-url", default="", help="the control region's database (default: SQLite)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hard-kill", action="store_true", help="kill with SIGKILL instead of SIGTERM")
    args = parser.parse_args()

    from sweep import SWEEP_DAY, generate

    from notifications.render import render
    from oja.adapters.db import get_engine
    from oja.config import Policy
    from oja.services import sweep

    tmp = tempfile.mkdtemp(prefix="oja-faults-")
    url = args.database_url or f"sqlite:///{tmp}/oja.db"
    control = args.control_url or f"sqlite:///{tmp}/control.db"
    postgres = url.startswith(("postgresql", "postgres"))
    for u in (url, control):
        _fresh_database(u)
        generate(u, args.arrangements, seed=args.seed)
        get_engine(u).dispose()
    days = _days(args.rounds, SWEEP_DAY - dt.timedelta(days=21))
    rng = random.Random(args.seed)
    mail = MailServer(args.seed)
    mail.start()
    injected: collections.Counter[str] = collections.Counter()
    t0 = time.perf_counter()
    try:
        for n, day in enumerate(days, start=1):
            fault = rng.choice([f for f in FAULTS if postgres or f != "db-drop"])
            injected[fault] += 1
            delay = rng.uniform(0.0, 0.8)  # a run takes about a second: the fault lands anywhere in it
            action = None
            if fault == "kill":
                sig = signal.SIGKILL if args.hard_kill else signal.SIGTERM

                def action(proc, delay=delay, sig=sig):
                    time.sleep(delay)
                    if proc.is_alive():
                        os.kill(proc.pid, sig)

            elif fault == "db-drop":

                def action(proc, delay=delay):
                    time.sleep(delay)
                    _drop_connections(url)

            elif fault == "smtp-down":
                mail.stop()
            elif fault == "smtp-refuse":
                mail.handler.refuse_share = 0.5
            get_engine(url).dispose()  # no connection crosses the fork
            get_engine(control).dispose()
            _run(url, mail.url, day, hard=args.hard_kill, fault=action)
            mail.handler.refuse_share = 0.0
            mail.start()
            code = _run(url, mail.url, day)  # the re-run after the fault
            print(f"round {n}/{len(days)} {day} {fault}: re-run exit {code}", file=sys.stderr)
            sweep.plan_notices(get_engine(control), day=day, policy=Policy(), render=render)

        # drain: what is still claimed by a killed run waits out its lease, then goes
        from models.tables import Outbox
        from models.vocabulary import OutboxStatus

        for _ in range(10):
            get_engine(url).dispose()
            with get_engine(url).connect() as conn:
                pending = conn.execute(
                    sa.select(sa.func.count()).where(Outbox.status == OutboxStatus.PENDING.value)
                ).scalar()
            if not pending:
                break
            time.sleep(5)
            _run(url, mail.url, days[-1])
        with get_engine(url).connect() as conn:
            rows = conn.execute(sa.select(Outbox.id, Outbox.status, Outbox.sweep_date)).all()
    finally:
        mail.stop()

    expected, decided = _notice_keys(control), _notice_keys(url)
    received = mail.handler.received
    ids = {f"<oja.{d:%Y%m%d}.{i}@example.org>" for i, _status, d in rows}
    undelivered = [i for i, status, d in rows if received[f"<oja.{d:%Y%m%d}.{i}@example.org>"] == 0]
    duplicates = sum(c - 1 for c in received.values() if c > 1)
    strangers = [m for m in received if m not in ids]
    lost = len(expected - decided) + len(undelivered)
    assert not strangers, f"messages the outbox does not know: {strangers[:3]}"
    print(
        f"{len(days)} rounds in {time.perf_counter() - t0:.0f}s; faults {dict(injected)}; "
        f"decided but not in the control: {len(decided - expected)}",
        file=sys.stderr,
    )
    print(f"rounds={len(days)} due={len(expected)} sent={len(received)} duplicates={duplicates} lost={lost}")


if __name__ == "__main__":
    main()
