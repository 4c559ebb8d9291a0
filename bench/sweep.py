"""Benchmark the daily sweep: the real flow on Prefect against the same work without Prefect.

    python bench/sweep.py --arrangements 100000 [--database-url postgresql://...]

Generates a synthetic region of N active arrangements with realistic due dates,
starts a real SMTP server on localhost, runs the `dagelijkse-herinneringen` flow
on a Prefect test server (in a child process, whose peak memory is measured),
then resets the outbox and runs the same domain code directly (the floor), and
prints one line:

    arrangements=N due=D messages=M sweep_s=S floor_s=F ratio=R peak_mb=P

With --raw it then resets the outbox again and runs a hand-written raw floor on the same data (`raw_floor`:
SQL, the templates through Jinja2, smtplib on one connection), and adds `raw_s=.. floor_ratio=..` (floor/raw).
Every phase must write the same notices and messages, with the same text, and send them all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

SWEEP_DAY = dt.date(2027, 1, 11)  # a Monday: the weekly overview goes out too, in the day's message


class CountingHandler:
    """An SMTP handler that only counts: the server must not be the bottleneck."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.count += 1
        return "250 OK"


def generate(url: str, n: int, seed: int = 7) -> None:
    """A region of `n` active arrangements, inserted in bulk (not through the use cases: that is not measured)."""
    from models.lifecycle import CaseState
    from models.schooldays import next_school_day
    from models.tables import Case, Intervention, Municipality, Plan, Professional, Provider, Pupil, School
    from oja.adapters import migrate
    from oja.adapters.db import get_engine

    rnd = random.Random(seed)
    migrate.upgrade(url)
    engine = get_engine(url)
    n_schools = max(4, n // 500)
    n_workers = max(4, n // 40)
    municipalities = [dict(code=f"GM{i:04d}", name=f"Gemeente {i}") for i in range(1, 15)]
    schools = [
        dict(
            code=f"S{i:04d}",
            name=f"School {i}",
            holiday_region="noord",
            municipality_code=municipalities[i % 14]["code"],
        )
        for i in range(n_schools)
    ]
    providers = [dict(code=f"PRV-{i}", name=f"Aanbieder {i}") for i in range(6)]
    professionals = (
        [
            dict(
                code=f"ZC{i:05d}",
                name=f"Coordinator {i}",
                role="zorgcoordinator",
                email=f"zc{i}@school.example",
                school_code=s["code"],
            )
            for i, s in enumerate(schools)
        ]
        + [
            dict(
                code=f"TL{i:05d}",
                name=f"Teamleider {i}",
                role="teamleider",
                email=f"tl{i}@school.example",
                school_code=s["code"],
            )
            for i, s in enumerate(schools)
        ]
        + [
            dict(
                code=f"JH{i:05d}",
                name=f"Jeugdhulp {i}",
                role="jeugdhulpverlener",
                email=f"jh{i}@provider.example",
                provider_code=providers[i % 6]["code"],
            )
            for i in range(n_workers)
        ]
    )
    professionals = [{"school_code": None, "provider_code": None, **p} for p in professionals]
    day_cache: dict[dt.date, dt.date] = {}

    def school_day(d: dt.date) -> dt.date:
        if d not in day_cache:
            day_cache[d] = next_school_day(d, "noord")
        return day_cache[d]

    with engine.begin() as conn:
        for model, rows in (
            (Municipality, municipalities),
            (School, schools),
            (Provider, providers),
            (Professional, professionals),
        ):
            conn.execute(sa.insert(model), rows)
    chunk = 20000
    for start in range(0, n, chunk):
        ids = range(start + 1, min(n, start + chunk) + 1)
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Pupil),
                [
                    dict(
                        id=i,
                        ref=f"LL-{i:06d}",
                        given_name="Synthetisch",
                        family_name=f"Leerling {i}",
                        birth_date=dt.date(2012, 1, 1) + dt.timedelta(days=i % 2000),
                        school_code=schools[i % n_schools]["code"],
                        municipality_code=municipalities[i % 14]["code"],
                    )
                    for i in ids
                ],
            )
            cases = []
            for i in ids:
                # reviews every 6 school weeks: due dates spread over the coming weeks, a few percent overdue
                offset = rnd.randint(-12, 56) if rnd.random() < 0.97 else rnd.randint(-60, -13)
                cases.append(
                    dict(
                        id=i,
                        ref=f"OJA-2026-{i:06d}",
                        pupil_id=i,
                        school_code=schools[i % n_schools]["code"],
                        state=CaseState.ACTIVE.value,
                        level=rnd.choice((1, 2, 3)),
                        urgency="normaal",
                        opened_on=dt.date(2026, 9, 1),
                        regie_holder_code=f"ZC{i % n_schools:05d}",
                        review_cadence_weeks=6,
                        activated_on=dt.date(2026, 10, 1),
                        next_review_on=school_day(SWEEP_DAY + dt.timedelta(days=offset)),
                        version=1,
                    )
                )
            conn.execute(sa.insert(Case), cases)
            conn.execute(
                sa.insert(Plan),
                [
                    dict(
                        id=i,
                        case_id=i,
                        version=1,
                        start_on=dt.date(2026, 10, 1),
                        planned_end_on=dt.date(2027, 7, 1),
                        review_cadence_weeks=6,
                        regie_holder_code=f"ZC{i % n_schools:05d}",
                        drafted_by=f"ZC{i % n_schools:05d}",
                    )
                    for i in ids
                ],
            )
            conn.execute(
                sa.insert(Intervention),
                [
                    dict(
                        plan_id=i,
                        number=1,
                        provider_code=providers[(i % n_workers) % 6]["code"],
                        professional_code=f"JH{i % n_workers:05d}",
                        hours_per_week=2.0,
                        setting="individueel",
                        swv_share_pct=50,
                    )
                    for i in ids
                ],
            )
    engine.dispose()


def reset_outbox(url: str) -> None:
    from models.tables_outbox import Notice, Outbox
    from oja.adapters.db import get_engine

    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.delete(Notice))
        conn.execute(sa.delete(Outbox))
    engine.dispose()


def child(phase: str, url: str, smtp_url: str) -> None:
    """Run one phase in this (child) process and print its figures as JSON."""
    os.environ["OJA_DATABASE_URL"] = url
    os.environ["OJA_SMTP_URL"] = smtp_url
    if phase == "raw":
        from raw_floor import raw_floor  # beside this script: it imports SWEEP_DAY from here

        figures = raw_floor(url, smtp_url)
        figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return
    if phase == "sweep":
        from prefect.testing.utilities import prefect_test_harness

        from flows.sweep import daily_sweep

        with prefect_test_harness(server_startup_timeout=120):
            t0 = time.perf_counter()
            result = daily_sweep(sweep_date=SWEEP_DAY)
            seconds = time.perf_counter() - t0
        planned, sent = result["planned"], result["dispatch"]["sent"]
    else:
        from oja.adapters.db import get_engine
        from oja.adapters.messages import message_options
        from oja.adapters.notify import build_sender
        from oja.config import get_policy, get_settings
        from oja.services import sweep

        t0 = time.perf_counter()
        settings = get_settings()
        sender = build_sender(settings)
        report, dispatched = sweep.sweep_day(
            get_engine(),
            sender,
            day=SWEEP_DAY,
            policy=get_policy(),
            **message_options(settings),
        )
        sender.close()
        worklist_chars = floor_worklists()  # what the flow does next, minus publishing the artifacts
        seconds = time.perf_counter() - t0
        planned, sent = report.as_dict(), dispatched.sent
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "notices": planned["notices"],
                "candidates": planned["candidates"],
                "messages": planned["messages"],
                "sent": sent,
                "peak_mb": peak_mb,
                **({"worklist_chars": worklist_chars} if phase == "floor" else {}),
            }
        )
    )


def floor_worklists() -> int:
    """Every school's worklist as the daily flow reads it and writes it (markdown), without publishing; the
    characters written."""
    from sqlmodel import Session

    from oja.adapters.db import get_engine
    from oja.config import get_policy
    from oja.services.worklist import open_schools, worklist_markdown, worklists

    with Session(get_engine()) as session:
        codes = open_schools(session)
        lists = worklists(session, school_codes=codes, today=SWEEP_DAY, policy=get_policy())
    return sum(len(worklist_markdown(code, lists[code], SWEEP_DAY)) for code in codes)


def run_child(phase: str, url: str, smtp_url: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--database-url", url, "--smtp-url", smtp_url],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"the {phase} phase failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arrangements", type=int, default=10000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--raw", action="store_true", help="also run a hand-written raw floor: raw_s, floor_ratio")
    parser.add_argument("--phase", choices=["sweep", "floor", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--smtp-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args.phase, args.database_url, args.smtp_url)
        return

    from aiosmtpd.controller import Controller

    tmp = tempfile.mkdtemp(prefix="oja-bench-")
    url = args.database_url or f"sqlite:///{tmp}/oja.db"
    if url.startswith(("postgresql", "postgres")):
        _fresh_postgres(url)
    t0 = time.perf_counter()
    generate(url, args.arrangements)
    print(f"generated {args.arrangements} arrangements in {time.perf_counter() - t0:.1f}s", file=sys.stderr)

    handler = CountingHandler()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    smtp_url = f"mailto://127.0.0.1:{port}?from=oja@example.org"
    try:
        sweep = run_child("sweep", url, smtp_url)
        written = {"sweep": outbox_figures(url)}
        reset_outbox(url)
        floor = run_child("floor", url, smtp_url)
        written["floor"] = outbox_figures(url)
        if args.raw:
            reset_outbox(url)
            raw = run_child("raw", url, smtp_url)
            written["raw"] = outbox_figures(url)
    finally:
        controller.stop()
    assert sweep["sent"] == floor["sent"] == sweep["messages"], (sweep, floor)
    # the same rows written, the same bytes of text in the outbox, every message sent: equivalent work
    assert len(set(written.values())) == 1, written
    assert handler.count == len(written) * sweep["messages"], (handler.count, written)
    assert not args.raw or raw["worklist_chars"] == floor["worklist_chars"], (raw, floor)
    ratio = sweep["seconds"] / floor["seconds"]
    line = (
        f"arrangements={args.arrangements} due={sweep['notices']} messages={sweep['messages']} "
        f"sweep_s={sweep['seconds']:.2f} floor_s={floor['seconds']:.2f} ratio={ratio:.2f} "
        f"peak_mb={sweep['peak_mb']:.0f}"
    )
    if args.raw:
        line += f" raw_s={raw['seconds']:.2f} floor_ratio={floor['seconds'] / raw['seconds']:.2f}"
    print(line)


def outbox_figures(url: str) -> tuple[int, int, int, int]:
    """What a phase wrote: notices, messages, messages sent, and the characters of their subjects and bodies."""
    from oja.adapters.db import get_engine

    engine = get_engine(url)
    with engine.connect() as conn:
        notices = conn.execute(sa.text("SELECT count(*) FROM notice WHERE outbox_id IS NOT NULL")).scalar_one()
        messages, sent, size = conn.execute(
            sa.text(
                "SELECT count(*), sum(CASE WHEN status = 'verzonden' THEN 1 ELSE 0 END),"
                " sum(length(subject) + length(text) + length(html)) FROM outbox"
            )
        ).one()
    engine.dispose()
    return notices, messages, sent, size


def _fresh_postgres(url: str) -> None:
    """Empty the target PostgreSQL database's schema so the bench starts from scratch."""
    from oja.adapters.db import get_engine

    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    main()
