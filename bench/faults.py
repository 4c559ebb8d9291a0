"""Fault injection on the deployed path: the daily sweep as production runs it, under crashes and outages.

    python bench/faults.py --rounds 100 [--arrangements 4000] [--database-url postgresql://...] [--hard-kill]

Generates a region (as `bench/sweep.py` does; its reviews spread over the bench's school days), starts a
real SMTP server on localhost and the engine as production runs it: a Prefect server of its own (a
temporary PREFECT_HOME, SQLite), the process work pool `oja` with **17 Herinneringsronde** and **18
Berichten versturen** deployed from `prefect.yaml`, and the engine's worker (`oja worker`), which forks each flow
run from its warm parent (`oja.entrypoints.warm_runs`). The settings reach the flow runs through the worker's
environment (`OJA_DATABASE_URL`, `OJA_SMTP_URL`, a short `OJA_DISPATCH_LEASE_SECONDS` and
`OJA_DISPATCH_RETRY_SECONDS`). Each round takes the next school day, creates a run of the sweep deployment for it
(deciding the reminders with the sending overlapped: `plan_and_send` inside `graceful_stop()`), and injects one
fault at a random moment of the run (mostly while the day's reminders are decided and sent, otherwise anywhere, the
process's start-up included):

    kill            the flow run's process is terminated (SIGTERM; with --hard-kill, SIGKILL: no clean-up)
    server-restart  the Prefect server is killed and started again on the same port
    worker-kill     the worker is killed (SIGKILL), its warm parent then ends too; a new worker takes the next runs.
                    Its run goes on until its next log line: Prefect's console handler exits when the pipe to the
                    worker is gone
    smtp-down       the mail server is down for the whole run
    smtp-refuse     the mail server refuses about half of the messages (451, try again later)
    db-drop         every database connection of the run is cut (PostgreSQL: pg_terminate_backend)
    none            no fault

After each faulted run the same day is run again without a fault. At the end the outbox is drained (runs
of the send deployment, until nothing is pending), and the result is checked against a control region
that decided the same days without any fault:

    due        the reminders the control decided
    sent       messages the SMTP server received (distinct Message-IDs)
    duplicates messages received more than once (same Message-ID), beyond the first
    lost       reminders the control decided that were not decided here, plus decided messages that
               never reached the SMTP server

and one line is printed: `rounds=N due=D sent=S duplicates=X lost=Y seconds=T` and the faults injected.
Every server, worker and flow-run process the bench starts is ended when it ends, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import datetime as dt
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from email import message_from_bytes
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from deployed import SEND, SWEEP, Engine, _alive, _free_port  # noqa: E402 - beside this script

FAULTS = ("kill", "server-restart", "worker-kill", "smtp-down", "smtp-refuse", "db-drop", "none")
LEASE_SECONDS = 5  # a killed run's claims come back this soon (the least the setting allows)


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
        self.port = _free_port()
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


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


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
    from models.tables import Case
    from models.tables_outbox import Notice
    from oja.adapters.db import get_engine

    with get_engine(url).connect() as conn:
        rows = conn.execute(
            sa.select(Case.ref, Notice.kind, Notice.due_on, Notice.stage, Notice.recipient_code).join(
                Case, Case.id == Notice.case_id
            )
        ).all()
    return {tuple(r) for r in rows}


def _pending(url: str) -> int:
    from models.tables_outbox import Outbox
    from models.vocabulary import OutboxStatus
    from oja.adapters.db import get_engine

    engine = get_engine(url)
    engine.dispose()  # a dropped connection must not linger in the pool
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(Outbox.status == OutboxStatus.PENDING.value)).scalar_one()


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


GENERATED_SCHOOL_DAYS = 50  # `bench/sweep.py` puts the reviews due in about this many school days from the first


def _spread(url: str, days: list[dt.date]) -> None:
    """Spread the region's reviews over the bench's days (in the same way in every database): as generated,
    they fall due in the first fifty or so, and a longer bench would find nothing to send after those."""
    from models.tables import Case
    from oja.adapters.db import get_engine

    stretch = len(days) / GENERATED_SCHOOL_DAYS
    if stretch <= 1:
        return
    calendar = _days(round(len(days) * 1.5) + 200, days[0])
    engine = get_engine(url)
    with engine.begin() as conn:
        rows = conn.execute(sa.select(Case.id, Case.next_review_on).where(Case.next_review_on >= days[0])).all()
        last = len(calendar) - 1
        moved = [
            {"cid": case_id, "due": calendar[min(round(bisect.bisect_left(calendar, due) * stretch), last)]}
            for case_id, due in rows
        ]
        if moved:
            conn.execute(
                sa.update(Case.__table__)
                .where(Case.__table__.c.id == sa.bindparam("cid"))
                .values(next_review_on=sa.bindparam("due")),
                moved,
            )
    engine.dispose()


class Moments:
    """When a fault lands: mostly while the day's reminders are decided and sent (from the moment the run
    started running, which calls `plan_and_send` first, to a little after the end of that task as the day's
    first runs so far had it), otherwise anywhere from the start of the run's process, its start-up included."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lifetimes: list[float] = []  # of the runs' processes
        self.spans: list[float] = []  # from running to the end of plan_and_send, in a day's first run

    def record(self, engine: Engine, run_id: str, started: float, *, first: bool) -> None:
        self.lifetimes.append(time.time() - started)
        span = engine.work_span(run_id) if first else None
        if span is not None:
            self.spans.append(span)

    def wait(self, engine: Engine, run_id: str, pid: int | None) -> str:
        """Wait for the fault's moment; where it is, for the log."""
        if not self.spans or self.rng.random() < 0.25:
            delay = self.rng.uniform(0.0, statistics.median(self.lifetimes) if self.lifetimes else 6.0)
            time.sleep(delay)
            return f"{delay:.1f}s after the run's start"
        while pid is not None and _alive(pid) and engine.running_since(run_id) is None:
            time.sleep(0.05)
        delay = self.rng.uniform(0.0, 1.2 * statistics.median(self.spans[-20:]))
        time.sleep(delay)
        return f"{delay:.1f}s into the sweep"


class Faults:
    """One fault injected into one run, at a moment `Moments` picks."""

    def __init__(self, engine: Engine, mail: MailServer, url: str, hard: bool, moments: Moments) -> None:
        self.engine, self.mail, self.url, self.hard, self.moments = engine, mail, url, hard, moments

    def before(self, fault: str) -> None:
        if fault == "smtp-down":
            self.mail.stop()
        elif fault == "smtp-refuse":
            self.mail.handler.refuse_share = 0.5

    def during(self, fault: str, run_id: str, pid: int | None) -> str:
        """Inject the fault at its moment; where that was."""
        if fault not in ("kill", "server-restart", "worker-kill", "db-drop"):
            return "the whole run"
        moment = self.moments.wait(self.engine, run_id, pid)
        if fault == "kill":
            if pid is not None and _alive(pid):
                os.kill(pid, signal.SIGKILL if self.hard else signal.SIGTERM)
        elif fault == "server-restart":
            self.engine.restart_server()
        elif fault == "worker-kill":
            self.engine.kill_worker()
        elif fault == "db-drop":
            _drop_connections(self.url)
        return moment

    def after(self) -> None:
        self.mail.handler.refuse_share = 0.0
        self.mail.start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--arrangements", type=int, default=4000)
    parser.add_argument(
        "--database-url", default="", help="default: a SQLite file (no db-drop fault there); PostgreSQL is emptied"
    )
    parser.add_argument("--control-url", default="", help="the control region's database (default: SQLite)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hard-kill", action="store_true", help="kill the flow run with SIGKILL instead of SIGTERM")
    parser.add_argument("--faults", default=",".join(FAULTS), help="the faults to draw from (comma-separated)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) at the end")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="oja-faults-"))
    # the bench's own Prefect client talks to the bench's server, never to one configured elsewhere
    for key in [k for k in os.environ if k.startswith(("PREFECT_", "OJA_"))]:
        del os.environ[key]
    os.environ["PREFECT_HOME"] = str(tmp / "prefect")

    from sweep import SWEEP_DAY, generate

    from notifications.render import render
    from oja.adapters.db import get_engine
    from oja.config import Policy
    from oja.services import sweep

    url = args.database_url or f"sqlite:///{tmp}/oja.db"
    control = args.control_url or f"sqlite:///{tmp}/control.db"
    postgres = url.startswith(("postgresql", "postgres"))
    for u in (url, control):
        _fresh_database(u)
        generate(u, args.arrangements, seed=args.seed)
        get_engine(u).dispose()
    chosen = [f for f in args.faults.split(",") if f in FAULTS and (postgres or f != "db-drop")]
    if not chosen:
        parser.error(f"--faults: choose from {', '.join(FAULTS)} (db-drop only on PostgreSQL)")
    days = _days(args.rounds, SWEEP_DAY - dt.timedelta(days=21))
    for u in (url, control):
        _spread(u, days)
    rng = random.Random(args.seed)
    mail = MailServer(args.seed)
    settings = {
        "OJA_DATABASE_URL": url,
        "OJA_SMTP_URL": mail.url,
        "OJA_DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        "OJA_DISPATCH_RETRY_SECONDS": "0",
    }
    engine = Engine(tmp, settings)
    os.environ["PREFECT_API_URL"] = engine.api_url
    moments = Moments(rng)
    faults = Faults(engine, mail, url, args.hard_kill, moments)
    injected: collections.Counter[str] = collections.Counter()
    states: collections.Counter[str] = collections.Counter()
    previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)  # stopped: the engine's processes too
    t0 = time.perf_counter()
    try:
        mail.start()
        engine.start_server()
        engine.deploy()
        engine.start_worker()
        print(f"engine up on {engine.api_url} in {time.perf_counter() - t0:.0f}s ({tmp})", file=sys.stderr)
        for n, day in enumerate(days, start=1):
            fault = rng.choice(chosen)
            injected[fault] += 1
            engine.ensure_running()
            faults.before(fault)
            run = engine.create_run(SWEEP, {"sweep_date": day.isoformat()})
            pid = engine.process(run)
            started = time.time()
            moment = faults.during(fault, run, pid)
            faulted = engine.finish(run, pid)
            faults.after()
            if fault in ("none", "smtp-down", "smtp-refuse"):  # a whole first run: how long the work takes
                moments.record(engine, run, started, first=True)
            engine.ensure_running()  # a worker killed: a new one takes the next runs
            rerun = engine.create_run(SWEEP, {"sweep_date": day.isoformat()})
            pid = engine.process(rerun)
            started = time.time()
            state = engine.finish(rerun, pid)
            moments.record(engine, rerun, started, first=False)
            states[f"{fault}:{faulted}"] += 1
            print(
                f"round {n}/{len(days)} {day} {fault} ({moment}): run {faulted}, re-run {state} "
                f"({time.time() - started:.1f}s)",
                file=sys.stderr,
            )
            sweep.plan_notices(get_engine(control), day=day, policy=Policy(), render=render)

        # drain: what a killed run still holds waits out its lease, then 18 Berichten versturen sends it
        for _ in range(10):
            if not _pending(url):
                break
            time.sleep(LEASE_SECONDS)
            engine.ensure_running()
            run = engine.create_run(SEND, {})
            print(f"drain: {engine.finish(run, engine.process(run))}", file=sys.stderr)
        from models.tables_outbox import Outbox

        with get_engine(url).connect() as conn:
            rows = conn.execute(sa.select(Outbox.id, Outbox.status, Outbox.sweep_date)).all()
    except KeyboardInterrupt:
        print("interrupted: stopping the engine", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        engine.close()
        mail.stop()
        signal.signal(signal.SIGTERM, previous_sigterm)
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.perf_counter() - t0

    expected, decided = _notice_keys(control), _notice_keys(url)
    received = mail.handler.received
    ids = {f"<oja.{d:%Y%m%d}.{i}@example.org>" for i, _status, d in rows}
    undelivered = [i for i, _status, d in rows if received[f"<oja.{d:%Y%m%d}.{i}@example.org>"] == 0]
    duplicates = sum(c - 1 for c in received.values() if c > 1)
    strangers = [m for m in received if m not in ids]
    lost = len(expected - decided) + len(undelivered)
    assert not strangers, f"messages the outbox does not know: {strangers[:3]}"
    print(
        f"{len(days)} rounds in {seconds:.0f}s; workers started {engine.workers_started}; "
        f"faulted runs ended {dict(sorted(states.items()))}; decided but not in the control: {len(decided - expected)}",
        file=sys.stderr,
    )
    print(
        f"rounds={len(days)} due={len(expected)} sent={len(received)} duplicates={duplicates} lost={lost} "
        f"seconds={seconds:.0f} " + " ".join(f"{f}={injected[f]}" for f in FAULTS if injected[f])
    )


if __name__ == "__main__":
    main()
