"""The hand-written raw floor of `bench/sweep.py --raw`: the daily sweep's work on the generated region without
the project's code paths, to measure the project's own floor against (`floor_ratio`).

One indexed SQL selection of the reviews in reach, the project's templates through Jinja2, the notice and
outbox rows, `smtplib` on one connection with each message marked sent, every school's worklist as markdown.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from sweep import SWEEP_DAY

MARK_SENT = "UPDATE outbox SET status = 'verzonden', sent_at = ?, claim_token = NULL WHERE id = ? AND claim_token = ?"


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
