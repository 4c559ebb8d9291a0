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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

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
    from models.tables import Notice, Outbox
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


MARK_SENT = "UPDATE outbox SET status = 'verzonden', sent_at = ?, claim_token = NULL WHERE id = ? AND claim_token = ?"


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


def raw_worklists(cur: Any, q: Callable[[str], str], left: Callable[[str, dt.date], int]) -> int:
    """Every school's worklist by hand, as markdown (the active arrangements the generated region holds: the
    next review); the characters written. `left`: school days from the sweep day to a date, for a school."""
    cur.execute(
        q(
            "SELECT c.school_code, c.ref, c.state, c.level, c.urgency, c.next_review_on, p.regie_holder_code"
            " FROM oja_case c"
            " LEFT JOIN plan p ON p.case_id = c.id AND p.version = (SELECT max(version) FROM plan WHERE case_id = c.id)"
            " WHERE c.state != 'gesloten'"
        )
    )
    rank = {"normaal": 0, "hoog": 1, "acuut": 2}
    lists: dict[str, list[tuple[Any, ...]]] = {}
    for school, ref, state, level, urgency, due, regie in cur.fetchall():
        due = due if isinstance(due, dt.date) else dt.date.fromisoformat(due)
        late = due < SWEEP_DAY and left(school, due) < 0
        lists.setdefault(school, []).append((not late, due, -rank[urgency], ref, state, level, regie))
    chars = 0
    header = "| Referentie | Status | Niveau | Volgende termijn | Wat | Regiehouder | Volgende stap |\n|" + "---|" * 7
    for school in sorted(lists):
        rows = sorted(lists[school])
        lines = [f"# Werklijst {school}, {SWEEP_DAY.isoformat()}", ""]
        late = sum(not r[0] for r in rows)
        cases = "1 open casus" if len(rows) == 1 else f"{len(rows)} open casussen"
        lines += [f"{cases}, waarvan {late} te laat; de dringendste eerst.", "", header]
        for on_time, due, _, ref, state, level, regie in rows:
            when = due.isoformat() if on_time else f"**te laat** {due.isoformat()}"
            lines.append(f"| {ref} | {state} | {level} | {when} | evaluatie | {regie or ''} | evaluatie-vastleggen |")
        chars += len("\n".join([*lines, ""]))
    return chars


def raw_floor(url: str, smtp_url: str) -> dict:
    """The same day's work written by hand, as a yardstick for the project's floor: the deadlines in reach by
    one indexed SQL selection, Jinja2 digests from the project's templates, the notice and outbox rows in
    one transaction per batch of recipients, then `smtplib` over one connection, each message marked sent
    as soon as the server took it. The generated region holds active arrangements only, so this selects the
    review deadlines (and the weekly overview of them); `main` checks that it wrote what the floor wrote."""
    import bisect
    import smtplib
    import uuid
    from email.charset import BASE64, Charset
    from email.header import Header
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    from email.policy import compat32
    from email.utils import formatdate
    from urllib.parse import urlsplit

    import jinja2
    import pendulum

    from models.schooldays import SchoolCalendar, is_school_day
    from notifications.messages import Digest, DueItem
    from notifications.render import KIND_ORDER, TEMPLATES
    from oja.adapters.db import get_engine
    from oja.config import default_case_url

    day, language = SWEEP_DAY, "nl"
    engine = get_engine(url)
    dbapi = engine.raw_connection()
    postgres = engine.dialect.name == "postgresql"

    def q(sql: str) -> str:
        return sql.replace("?", "%s") if postgres else sql

    def as_date(value: object) -> dt.date:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

    def now() -> object:
        moment = dt.datetime.now(dt.UTC)
        return moment if postgres else moment.replace(tzinfo=None).isoformat(" ")

    t0 = time.perf_counter()
    cur = dbapi.cursor()
    # the calendars: a running count of school days per (region, closing days), around the sweep day
    closed: dict[str, set[dt.date]] = {}
    cur.execute("SELECT school_code, day FROM school_closure")
    for school, closure in cur.fetchall():
        closed.setdefault(school, set()).add(as_date(closure))
    cur.execute("SELECT code, name, holiday_region FROM school")
    schools = {code: (name, SchoolCalendar(region, frozenset(closed.get(code, ())))) for code, name, region in cur}
    span = [day + dt.timedelta(days=i) for i in range(-400, 121)]
    open_days = {cal: [d for d in span if is_school_day(d, cal)] for _, cal in schools.values()}
    in_school = {code for code, (_, cal) in schools.items() if is_school_day(day, cal)}

    def left(cal: SchoolCalendar, due: dt.date) -> int:  # school days from the sweep day to `due`
        days = open_days[cal]
        return bisect.bisect_right(days, due) - bisect.bisect_right(days, day)

    horizon = max(open_days[cal][bisect.bisect_right(open_days[cal], day) + 4] for _, cal in schools.values())
    cur.execute("SELECT code, name, role, email, school_code FROM professional")
    people = {code: (name, role, email, school) for code, name, role, email, school in cur}
    team_leads: dict[str, list[str]] = {}
    for code, (_, role, _, school) in people.items():
        if role == "teamleider":
            team_leads.setdefault(school, []).append(code)

    # the deadlines in reach: one indexed selection, the workers of the newest plan with them
    cur.execute(
        q(
            "SELECT c.id, c.ref, c.school_code, c.next_review_on, c.regie_holder_code, i.professional_code"
            " FROM oja_case c"
            " LEFT JOIN plan p ON p.case_id = c.id"
            "  AND p.version = (SELECT max(version) FROM plan WHERE case_id = c.id)"
            " LEFT JOIN intervention i ON i.plan_id = p.id"
            " WHERE c.state = 'actief' AND c.next_review_on <= ?"
        ),
        (horizon.isoformat(),),
    )
    cases: dict[int, list] = {}
    for case_id, ref, school, due, regie, worker in cur:
        if school in in_school:
            case = cases.setdefault(case_id, [ref, school, as_date(due), regie, set()])
            if worker:
                case[4].add(worker)
    week_stage = day.isocalendar().year * 100 + day.isocalendar().week
    notices: dict[str, list[tuple]] = {}  # per recipient: (case_id, kind, due_on, stage, school_days, ref, school)
    for case_id, (ref, school, due, regie, workers) in cases.items():
        n = left(schools[school][1], due)
        targets: list[tuple[str, int, Iterable[str]]] = []
        if n > 0 and n <= 5:
            targets.append(("evaluatie_binnenkort", 1 if n == 1 else 5, {regie, *workers} - {None}))
        elif n == 0:
            targets.append(("evaluatie_vandaag", 0, {regie, *workers} - {None}))
        elif n <= -5:
            targets.append(("evaluatie_te_laat", -5, team_leads.get(school, [])))
        if day.weekday() == 0 and 0 <= n <= 5 and regie:
            targets.append(("komende_week", week_stage, [regie]))
        for kind, stage, codes in targets:
            for code in codes:
                notices.setdefault(code, []).append((case_id, kind, due, stage, n, ref, school))

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([TEMPLATES / language, TEMPLATES]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    dates: dict[dt.date, str] = {}

    def long_date(d: dt.date) -> str:
        if d not in dates:
            dates[d] = pendulum.date(d.year, d.month, d.day).format("dddd D MMMM YYYY", locale=language)
        return dates[d]

    env.filters["long_date"] = long_date
    macros = env.get_template("_labels.j2").module
    phrases: dict[tuple, str] = {}

    class Labels:  # the wording, once per distinct phrase
        @staticmethod
        def heading(kind: str) -> str:
            return phrases.get((kind,)) or phrases.setdefault((kind,), macros.heading(kind))

        @staticmethod
        def what(item: DueItem) -> str:
            key = ("what", item.kind, item.due_on, item.since)
            return phrases.get(key) or phrases.setdefault(key, macros.what(item))

        @staticmethod
        def when(item: DueItem) -> str:
            key = ("when", item.kind, item.school_days)
            return phrases.get(key) or phrases.setdefault(key, macros.when(item))

    env.globals["labels"] = Labels
    subject_t, text_t, html_t = (env.get_template(f"{n}.j2") for n in ("subject.txt", "digest.txt", "digest.html"))
    case_url = os.environ.get("OJA_CASE_URL") or default_case_url()

    def render(code: str, rows: list[tuple]) -> tuple[str, str, str, str]:
        items = [DueItem(ref, sc, schools[sc][0], kind, due, abs(n)) for _, kind, due, _, n, ref, sc in rows]
        week = sum(i.kind == "komende_week" for i in items)
        kind = "dag" if not week else "week" if week == len(items) else "dag_week"
        digest = Digest(code, people[code][0], kind, day, items, language, case_url)
        groups = []
        for kind in KIND_ORDER:
            of_kind = sorted((i for i in items if i.kind == kind), key=lambda i: (i.due_on, i.case_ref))
            if of_kind:
                groups.append({"kind": kind, "items": of_kind})
        context = {
            "digest": digest,
            "groups": groups,
            "count": len(items),
            "attention": len(items) - week,
            "week": week,
            "link": lambda item: case_url.replace("{case_ref}", item.case_ref),
        }
        subject = " ".join(subject_t.render(context).split())
        return kind, subject, text_t.render(context), html_t.render(context)

    # the notices and their messages, a batch of recipients a transaction
    recipients = sorted(notices)
    written = 0
    for start in range(0, len(recipients), 200):
        for code in recipients[start : start + 200]:
            rows = notices[code]
            cur.executemany(
                q(
                    "INSERT INTO notice (case_id, kind, due_on, stage, school_days, recipient_code, sweep_date)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
                ),
                [(r[0], r[1], r[2].isoformat(), r[3], r[4], code, day.isoformat()) for r in rows],
            )
            kind, subject, text, html = render(code, rows)
            name, role, email, _ = people[code]
            cur.execute(
                q(
                    "INSERT INTO outbox (recipient_code, role, to_address, digest, sweep_date, subject, text, html,"
                    " status, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'wachtend', 0, ?) RETURNING id"
                ),
                (code, role, email, kind, day.isoformat(), subject, text, html, now()),
            )
            (outbox_id,) = cur.fetchone()
            cur.execute(
                q("UPDATE notice SET outbox_id = ? WHERE recipient_code = ? AND sweep_date = ? AND outbox_id IS NULL"),
                (outbox_id, code, day.isoformat()),
            )
            written += 1
        dbapi.commit()

    # sending: one claim, one SMTP connection, each message marked sent once the server took it
    token = uuid.uuid4().hex
    cur.execute(q("UPDATE outbox SET claim_token = ?, attempts = attempts + 1 WHERE status = 'wachtend'"), (token,))
    dbapi.commit()
    cur.execute(q("SELECT id, to_address, subject, text, html FROM outbox WHERE claim_token = ? ORDER BY id"), (token,))
    claimed = cur.fetchall()
    target = urlsplit(smtp_url)
    sender = "oja@example.org"
    utf8 = Charset("utf-8")
    utf8.body_encoding = BASE64
    crlf = compat32.clone(linesep="\r\n")
    smtp = smtplib.SMTP(target.hostname, target.port)
    sent = 0
    for outbox_id, to, subject, text, html in claimed:
        mail = MIMEMultipart("alternative")
        mail["From"], mail["To"] = sender, to
        mail["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = f"<oja.{day:%Y%m%d}.{outbox_id}@example.org>"
        mail.attach(MIMEText(text, "plain", utf8))
        mail.attach(MIMEText(html, "html", utf8))
        smtp.sendmail(sender, [to], mail.as_bytes(policy=crlf))
        cur.execute(
            q(MARK_SENT),
            (now(), outbox_id, token),
        )
        dbapi.commit()
        sent += 1
    smtp.quit()
    worklist_chars = raw_worklists(cur, q, lambda school, due: left(schools[school][1], due))
    seconds = time.perf_counter() - t0
    cur.execute("SELECT count(*) FROM notice")
    (decided,) = cur.fetchone()
    dbapi.close()
    return {"seconds": seconds, "notices": decided, "messages": written, "sent": sent, "worklist_chars": worklist_chars}


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
