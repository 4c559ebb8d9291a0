"""The daily sweep: decide which reminders are due, once, and send them after.

Two phases, each in batches (never a transaction, task or flow run per case):

1. `plan_notices` reads the cases with a deadline in reach, computes the current
   stage of each deadline (`models.reminders`), and per recipient inserts the new
   notices (a unique key makes every decision happen once, also when two sweeps
   run at the same time) and one rendered outbox message listing them, in the
   same transaction.
2. `dispatch` claims pending outbox messages (SKIP LOCKED on PostgreSQL), sends
   each through the sender and marks it sent; a failure leaves it pending for the
   next attempt.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, func, select

from models.lifecycle import CaseState
from models.reminders import NoticeKind, Stage, erasure_stage, late_stage, review_stage, triage_stage
from models.schooldays import SchoolCalendar, SchoolDayIndex, add_school_days, is_school_day
from models.tables import (
    Case,
    ErasureRequest,
    Intervention,
    Notice,
    Outbox,
    Plan,
    Professional,
    Pupil,
    Referral,
    School,
    utcnow,
)
from models.vocabulary import Role
from notifications.messages import Digest, DueItem, RenderedMessage
from oja.config import Policy
from oja.services.calendar import school_calendars

if TYPE_CHECKING:  # not imported at run time: the sending seam pulls in Apprise
    from notifications.send import Sender

RECIPIENT_CHUNK = 200  # recipients per transaction
LOOKBACK_DAYS = 400  # overdue further back than this counts as that far


@dataclasses.dataclass
class SweepReport:
    sweep_date: dt.date
    regions_in_school: list[str]
    candidates: int = 0
    notices: int = 0
    messages: int = 0
    by_kind: Counter = dataclasses.field(default_factory=Counter)

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["sweep_date"] = self.sweep_date.isoformat()
        d["by_kind"] = dict(self.by_kind)
        return d


@dataclasses.dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    undeliverable: int = 0
    stopped: int = 0  # released unsent because the process was asked to stop
    errors: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class _Candidate:
    recipient: str
    case_id: int
    kind: str
    due_on: dt.date
    stage: int
    school_days: int
    case_ref: str
    school_code: str
    since: dt.date | None = None  # where the deadline counts from a day worth naming: the referral's date
    request_ref: str | None = None  # an erasure request's reference, shown instead of the case's

    @property
    def key(self) -> tuple:
        return (self.recipient, self.case_id, self.kind, self.due_on, self.stage)


class _Directory:
    """Schools, their calendars and school-day indexes, and who is to be told what."""

    def __init__(self, session: Session, day: dt.date, *, with_index: bool = True) -> None:
        self.schools = {s.code: s for s in session.exec(select(School)).all()}
        self.calendars = school_calendars(session)  # the region's holidays and each school's own closing days
        calendars = set(self.calendars.values()) if with_index else set()
        start, end = day - dt.timedelta(days=LOOKBACK_DAYS), day + dt.timedelta(days=120)
        self.index = {c: SchoolDayIndex(c, start, end) for c in calendars}
        self.professionals = {p.code: p for p in session.exec(select(Professional)).all()}
        self.coordinators: dict[str, list[str]] = defaultdict(list)
        self.team_leads: dict[str | None, list[str]] = defaultdict(list)
        self.district_teams: dict[str, list[str]] = defaultdict(list)
        for p in self.professionals.values():
            if p.role == Role.DISTRICT_TEAM.value and p.municipality_code:
                self.district_teams[p.municipality_code].append(p.code)
            if p.role == Role.COORDINATOR.value and p.school_code:
                self.coordinators[p.school_code].append(p.code)
            elif p.role == Role.TEAM_LEAD.value:
                self.team_leads[p.school_code].append(p.code)

    def calendar(self, school_code: str) -> SchoolCalendar:
        return self.calendars[school_code]

    def school_days(self, school_code: str, day: dt.date, due: dt.date) -> int:
        index = self.index[self.calendar(school_code)]
        due = min(max(due, index.start), index.end)
        return index.between(day, due)

    def leads_for(self, school_code: str) -> list[str]:
        return self.team_leads.get(school_code) or self.team_leads.get(None, [])


def _stream(session: Session, stmt) -> Iterator:
    yield from session.execute(stmt.execution_options(yield_per=5000))


def _current_plan_workers(session: Session, case_ids: list[int]) -> dict[int, set[str]]:
    """The professionals delivering each case's current plan (its highest version)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # the ids as one array parameter: no statement with thousands of placeholders
        match = Plan.case_id == sa.any_(sa.bindparam("ids", type_=postgresql.ARRAY(sa.Integer)))
        chunk = 50_000
    else:
        match = Plan.case_id.in_(sa.bindparam("ids", expanding=True))
        chunk = 900
    stmt = (
        select(Plan.case_id, Plan.version, Intervention.professional_code)
        .outerjoin(Intervention, sa.and_(Intervention.plan_id == Plan.id, Intervention.professional_code.is_not(None)))
        .where(match)
    )  # a newer plan without named professionals still counts: it replaces the older one
    version: dict[int, int] = {}
    out: dict[int, set[str]] = defaultdict(set)
    for i in range(0, len(case_ids), chunk):
        for case_id, v, code in session.execute(stmt, {"ids": case_ids[i : i + chunk]}):
            if v > version.get(case_id, -1):
                version[case_id] = v
                out[case_id] = set()
            if v == version[case_id] and code is not None:
                out[case_id].add(code)
    return out


def _candidates(session: Session, day: dt.date, policy: Policy, directory: _Directory) -> list[_Candidate]:
    """Every deadline stage due on `day`, per recipient. Schools on holiday are skipped."""
    in_school = {code for code, c in directory.calendars.items() if is_school_day(day, c)}
    if not in_school:
        return []
    far = max(
        add_school_days(day, max(policy.reminder_school_days + policy.triage_reminder_school_days), r)
        for r in directory.index
    )
    weekly = day.weekday() == policy.weekly_digest_weekday
    week_horizon = max(add_school_days(day, 5, r) for r in directory.index)
    horizon = max(far, week_horizon) if weekly else far
    week_key = day.isocalendar().year * 100 + day.isocalendar().week
    out: list[_Candidate] = []

    def add(recipients: Iterable[str], case_id, ref, school, stage: Stage, due: dt.date, **shown) -> None:
        for r in sorted(set(recipients)):
            out.append(
                _Candidate(r, case_id, stage.kind.value, due, stage.stage, stage.school_days, ref, school, **shown)
            )

    def upcoming(recipients: Iterable[str], case_id, ref, school, due: dt.date, n: int) -> None:
        if weekly and 0 <= n <= 5:
            add(recipients, case_id, ref, school, Stage(NoticeKind.UPCOMING, week_key, n), due)

    reviews = []
    stmt = select(Case.id, Case.ref, Case.school_code, Case.next_review_on, Case.regie_holder_code).where(
        Case.state == CaseState.ACTIVE.value, Case.next_review_on <= horizon
    )
    for case_id, ref, school, due, regie in _stream(session, stmt):
        if school in in_school:
            reviews.append((case_id, ref, school, due, regie))
    workers = _current_plan_workers(session, [r[0] for r in reviews])
    for case_id, ref, school, due, regie in reviews:
        n = directory.school_days(school, day, due)
        people = {regie, *workers.get(case_id, ())} - {None}
        stage = review_stage(
            n, before=policy.reminder_school_days, escalate_after=policy.overdue_escalation_school_days
        )
        if stage is not None and stage.kind is NoticeKind.REVIEW_OVERDUE:
            add(directory.leads_for(school), case_id, ref, school, stage, due)
        elif stage is not None:
            add(people, case_id, ref, school, stage, due)
        upcoming({regie} - {None}, case_id, ref, school, due, n)

    stmt = select(Case.id, Case.ref, Case.school_code, Case.triage_due_on).where(
        Case.state == CaseState.AWAITING_TRIAGE.value, Case.triage_due_on <= horizon
    )
    for case_id, ref, school, due in _stream(session, stmt):
        if school not in in_school:
            continue
        n = directory.school_days(school, day, due)
        stage = triage_stage(n)
        if stage is not None:
            people = directory.coordinators.get(school, [])
            if stage.kind is NoticeKind.TRIAGE_OVERDUE:
                people = [*people, *directory.leads_for(school)]
            add(people, case_id, ref, school, stage, due)
        upcoming(directory.coordinators.get(school, []), case_id, ref, school, due, n)

    for state, column, kind in (
        (CaseState.PLANNING, Case.plan_due_on, NoticeKind.PLAN_LATE),
        (CaseState.PLAN_DRAFTED, Case.consent_due_on, NoticeKind.CONSENT_LATE),
    ):
        stmt = select(Case.id, Case.ref, Case.school_code, column, Case.regie_holder_code).where(
            Case.state == state.value, column <= horizon
        )
        for case_id, ref, school, due, regie in _stream(session, stmt):
            if school not in in_school:
                continue
            n = directory.school_days(school, day, due)
            people = [regie] if regie else directory.coordinators.get(school, [])
            stage = late_stage(n, kind)
            if stage is not None:
                add(people, case_id, ref, school, stage, due)
            upcoming(people, case_id, ref, school, due, n)
    stmt = (
        select(Case.id, Case.ref, Case.school_code, Referral.referred_on, Referral.municipality_code)
        .join(Referral, Referral.case_id == Case.id)
        .where(Case.state == CaseState.ESCALATED.value, Referral.status == "sent")
    )
    for case_id, ref, school, referred_on, municipality in _stream(session, stmt):
        if school not in in_school:
            continue
        due = add_school_days(referred_on, policy.referral_followup_school_days, directory.calendar(school))
        stage = late_stage(directory.school_days(school, day, due), NoticeKind.REFERRAL_OPEN)
        if stage is not None:
            open_days = directory.school_days(school, referred_on, day)
            add(
                directory.district_teams.get(municipality, []),
                case_id,
                ref,
                school,
                Stage(stage.kind, stage.stage, -open_days),
                due,
                since=referred_on,
            )
    latest_case = select(Case.pupil_id, func.max(Case.id).label("case_id")).group_by(Case.pupil_id).subquery()
    stmt = (
        select(Case.id, Case.ref, ErasureRequest.school_code, ErasureRequest.due_on, ErasureRequest.ref)
        .join(Pupil, Pupil.ref == ErasureRequest.pupil_ref)
        .join(latest_case, latest_case.c.pupil_id == Pupil.id)
        .join(Case, Case.id == latest_case.c.case_id)
        .where(ErasureRequest.decided_on.is_(None))
    )
    for case_id, ref, school, due, request_ref in _stream(session, stmt):
        if school not in in_school:
            continue
        stage = erasure_stage(directory.school_days(school, day, due), before=policy.erasure_reminder_school_days)
        if stage is not None:
            people = directory.coordinators.get(school, [])
            if stage.kind is NoticeKind.ERASURE_OVERDUE:
                people = [*people, *directory.leads_for(school)]
            add(people, case_id, ref, school, stage, due, request_ref=request_ref)
    out.sort(key=lambda c: c.key)
    return out


def _insert_new_notices(session: Session, rows: list[dict]) -> list[tuple]:
    """Insert notices that were not decided before; return the ones this transaction decided."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    conflict = ["case_id", "kind", "due_on", "stage", "recipient_code"]
    returning = (Notice.id, Notice.recipient_code, Notice.case_id, Notice.kind, Notice.due_on, Notice.stage)
    if dialect == "postgresql":
        # one statement for the whole batch: the rows travel as arrays, unnested by the server
        columns = ["case_id", "kind", "due_on", "stage", "school_days", "recipient_code", "sweep_date"]
        types = [sa.Integer, sa.String, sa.Date, sa.Integer, sa.Integer, sa.String, sa.Date]
        source = sa.select(
            *[
                sa.func.unnest(sa.cast([r[c] for r in rows], postgresql.ARRAY(t))).label(c)
                for c, t in zip(columns, types, strict=True)
            ]
        )
        stmt = (
            postgresql.insert(Notice)
            .from_select(columns, source)
            .on_conflict_do_nothing(index_elements=conflict)
            .returning(*returning)
        )
        return list(session.connection().execute(stmt).all())
    stmt = sqlite.insert(Notice).on_conflict_do_nothing(index_elements=conflict).returning(*returning)
    # executemany with RETURNING: SQLAlchemy batches it ("insertmanyvalues") with one compiled statement
    return list(session.connection().execute(stmt, rows).all())


def plan_notices(
    engine: sa.Engine,
    *,
    day: dt.date,
    policy: Policy,
    render: Callable[[Digest], RenderedMessage],
    language: str = "nl",
    case_url: str = "{case_ref}",
    progress: Callable[[int], None] | None = None,
) -> SweepReport:
    """Decide the reminders due on `day` and put one message per recipient in the outbox."""
    with Session(engine) as session:
        directory = _Directory(session, day)
        candidates = _candidates(session, day, policy, directory)
    report = SweepReport(
        day,
        sorted({c.region for c in directory.calendars.values() if is_school_day(day, c)}),
        candidates=len(candidates),
    )
    by_recipient: dict[str, list[_Candidate]] = defaultdict(list)
    for c in candidates:
        by_recipient[c.recipient].append(c)
    recipients = sorted(by_recipient)
    for i in range(0, len(recipients), RECIPIENT_CHUNK):
        chunk = recipients[i : i + RECIPIENT_CHUNK]
        with Session(engine) as session, session.begin():
            rows = [
                dict(
                    case_id=c.case_id,
                    kind=c.kind,
                    due_on=c.due_on,
                    stage=c.stage,
                    school_days=c.school_days,
                    recipient_code=c.recipient,
                    sweep_date=day,
                )
                for r in chunk
                for c in by_recipient[r]
            ]
            decided = _insert_new_notices(session, rows)
            fresh: dict[str, dict[tuple, int]] = defaultdict(dict)
            for notice_id, recipient, case_id, kind, due_on, stage in decided:
                fresh[recipient][(recipient, case_id, kind, due_on, stage)] = notice_id
            messages = []
            for recipient in chunk:
                if not fresh.get(recipient):
                    continue
                items = [c for c in by_recipient[recipient] if c.key in fresh[recipient]]
                ids = [fresh[recipient][c.key] for c in items]
                messages += _render(directory, recipient, items, ids, day, render, language, case_url)
                report.notices += len(items)
                report.messages += 1
                report.by_kind.update(c.kind for c in items)
            _write_outbox(session, messages)
        if progress:
            progress(len(chunk))
    return report


def _render(directory, recipient, items, notice_ids, day, render, language, case_url) -> list[tuple[dict, list[int]]]:
    """The recipient's one message of the sweep, as (outbox row, the ids of the notices it carries). On the
    weekly overview's day the overview of the coming week is part of it, after what needs attention now."""
    person = directory.professionals[recipient]
    week = sum(c.kind == NoticeKind.UPCOMING for c in items)
    digest_kind = "daily" if not week else "weekly" if week == len(items) else "combined"
    due_items = [
        DueItem(
            case_ref=c.case_ref,
            school_code=c.school_code,
            school_name=directory.schools[c.school_code].name,
            kind=c.kind,
            due_on=c.due_on,
            school_days=abs(c.school_days),
            since=c.since,
            request_ref=c.request_ref,
        )
        for c in items
    ]
    message = render(
        Digest(
            recipient_code=person.code,
            recipient_name=person.name,
            kind=digest_kind,
            sweep_date=day,
            items=due_items,
            language=language,
            case_url=case_url,
        )
    )
    row = dict(
        recipient_code=person.code,
        role=person.role,
        to_address=person.email,
        digest=digest_kind,
        sweep_date=day,
        subject=message.subject,
        text=message.text,
        html=message.html,
        status="pending",
        attempts=0,
        created_at=utcnow(),
    )
    return [(row, list(notice_ids))]


def _write_outbox(session: Session, messages: list[tuple[dict, list[int]]]) -> None:
    """Insert the outbox rows in one statement and point every notice at the message that carries it."""
    if not messages:
        return
    conn = session.connection()
    ids = (
        conn.execute(sa.insert(Outbox).returning(Outbox.id, sort_by_parameter_order=True), [row for row, _ in messages])
        .scalars()
        .all()
    )
    links = [
        (notice_id, outbox_id) for outbox_id, (_, notices) in zip(ids, messages, strict=True) for notice_id in notices
    ]
    if not links:
        return
    if conn.dialect.name == "postgresql":
        pairs = sa.select(
            sa.func.unnest(sa.cast([n for n, _ in links], postgresql.ARRAY(sa.Integer))).label("nid"),
            sa.func.unnest(sa.cast([o for _, o in links], postgresql.ARRAY(sa.Integer))).label("oid"),
        ).subquery()
        conn.execute(sa.update(Notice).where(Notice.id == pairs.c.nid).values(outbox_id=pairs.c.oid))
    else:
        conn.execute(
            sa.update(Notice).where(Notice.id == sa.bindparam("nid")).values(outbox_id=sa.bindparam("oid")),
            [{"nid": n, "oid": o} for n, o in links],
        )


def queue_notice(
    engine: sa.Engine,
    *,
    case_ref: str,
    kind: NoticeKind,
    due_on: dt.date,
    day: dt.date,
    render: Callable[[Digest], RenderedMessage],
    language: str = "nl",
    case_url: str = "{case_ref}",
) -> int:
    """Decide one notice for a case's regie holder (once, by the same unique key) and queue its message."""
    with Session(engine) as session, session.begin():
        case = session.exec(select(Case).where(Case.ref == case_ref)).one()
        recipients = (
            [case.regie_holder_code]
            if case.regie_holder_code
            else sorted(
                session.exec(
                    select(Professional.code).where(
                        Professional.school_code == case.school_code, Professional.role == Role.COORDINATOR.value
                    )
                ).all()
            )
        )
        return queue_in_session(
            session, case, recipients, kind, due_on, day, render=render, language=language, case_url=case_url
        )


def queue_in_session(
    session: Session,
    case: Case,
    recipients: list[str],
    kind: NoticeKind,
    due_on: dt.date,
    day: dt.date,
    *,
    render: Callable[[Digest], RenderedMessage],
    language: str = "nl",
    case_url: str = "{case_ref}",
    school_days: int = 0,
) -> int:
    """Decide one notice per recipient for one case and queue each message, in the caller's transaction."""
    directory = _Directory(session, day, with_index=False)
    queued = 0
    for recipient in recipients:
        candidate = _Candidate(recipient, case.id, kind.value, due_on, 0, school_days, case.ref, case.school_code)
        rows = [
            dict(
                case_id=case.id,
                kind=kind.value,
                due_on=due_on,
                stage=0,
                school_days=school_days,
                recipient_code=recipient,
                sweep_date=day,
            )
        ]
        decided = _insert_new_notices(session, rows)
        if decided:
            messages = _render(directory, recipient, [candidate], [decided[0][0]], day, render, language, case_url)
            _write_outbox(session, messages)
            queued += 1
    return queued


# ---- dispatch -----------------------------------------------------------------------------


def _claim(engine: sa.Engine, limit: int, lease: dt.timedelta) -> tuple[str, list[Outbox]]:
    token = uuid.uuid4().hex
    now = utcnow()
    with Session(engine) as session, session.begin():
        pick = (
            select(Outbox.id)
            .where(Outbox.status == "pending", sa.or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now))
            .order_by(Outbox.id)
            .limit(limit)
        )
        if engine.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        session.execute(
            sa.update(Outbox)
            .where(Outbox.id.in_(pick.scalar_subquery()))
            .values(claim_token=token, claimed_until=now + lease, attempts=Outbox.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    with Session(engine) as session:
        rows = list(session.exec(select(Outbox).where(Outbox.claim_token == token).order_by(Outbox.id)).all())
    return token, rows


def _finish(engine: sa.Engine, outbox_id: int, token: str, **values) -> None:
    """Record a message's outcome. A dropped database connection is retried on a fresh one: a message the
    server took must not stay unrecorded (it would go again)."""
    for attempt in range(RECORD_ATTEMPTS):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # the commit need not wait for the disk: if *this process* dies the record is safe in
                    # the server already; only a crash of the database server itself within a fraction of
                    # a second could forget it, and then the message goes again with the same Message-ID
                    conn.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
                conn.execute(
                    sa.update(Outbox)
                    .where(Outbox.id == outbox_id, Outbox.claim_token == token)
                    .values(claim_token=None, **values)
                )
            return
        except sa.exc.OperationalError:
            if attempt == RECORD_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * 2**attempt)


STOPPED = "stopped"
RECORD_ATTEMPTS = 6  # about 6 s of retries for a database that drops connections or restarts
STOP = threading.Event()  # set by a termination signal: finish what is in flight, start nothing new


def request_stop() -> None:
    """Ask a running dispatch to stop gracefully (a SIGTERM handler calls this): messages in flight are
    finished and recorded, claimed ones not yet started are released at once for the next run."""
    STOP.set()


def dispatch(
    engine: sa.Engine,
    sender: Sender,
    *,
    batch: int = 200,
    concurrency: int = 4,
    lease: dt.timedelta = dt.timedelta(minutes=10),
    retry_after: dt.timedelta = dt.timedelta(minutes=5),
    progress: Callable[[int], None] | None = None,
) -> DispatchReport:
    """Send pending outbox messages until none are left or the channel fails a whole batch.

    Messages of a batch go out `concurrency` at a time (an SMTP conversation costs
    tens of milliseconds); each is marked sent as soon as it is delivered.
    """
    report = DispatchReport()
    has_route = getattr(sender, "has_route", lambda role: False)

    def deliver(row: Outbox, token: str) -> str | None:
        """Send one message and record the outcome at once, in the sending thread: None when sent."""
        if STOP.is_set():
            _finish(engine, row.id, token, claimed_until=None)  # released: the next run takes it at once
            return STOPPED
        message_id = f"oja.{row.sweep_date:%Y%m%d}.{row.id}"
        try:
            sender.send(row.to_address, RenderedMessage(row.subject, row.text, row.html, message_id), role=row.role)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the message pending
            error = f"outbox {row.id}: {exc}"[:500]
            _finish(engine, row.id, token, last_error=error, claimed_until=utcnow() + retry_after)
            return error
        _finish(engine, row.id, token, status="sent", sent_at=utcnow(), last_error=None)
        return None

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="oja-send") as pool:
        while True:
            if STOP.is_set():
                return report
            token, rows = _claim(engine, batch, lease)
            if not rows:
                return report
            deliverable = []
            for row in rows:
                if row.to_address or has_route(row.role):
                    deliverable.append(row)
                else:
                    _finish(engine, row.id, token, status="undeliverable", last_error="no address for the recipient")
                    report.undeliverable += 1
            futures = [pool.submit(deliver, row, token) for row in deliverable]
            failed_here = 0
            try:
                for future in as_completed(futures):
                    error = future.result()
                    if error is STOPPED:
                        report.stopped += 1
                    elif error is None:
                        report.sent += 1
                        if progress:
                            progress(1)
                    else:
                        failed_here += 1
                        report.failed += 1
                        report.errors.append(error)
            except BaseException:
                for future in futures:  # stop what has not started; what runs finishes and records itself
                    future.cancel()
                raise
            if STOP.is_set():
                return report
            if deliverable and failed_here == len(deliverable):
                return report  # the channel is down: the rest waits for the next attempt


def sweep_day(
    engine: sa.Engine,
    sender: Sender,
    *,
    day: dt.date,
    policy: Policy,
    render: Callable[[Digest], RenderedMessage],
    language: str = "nl",
    case_url: str = "{case_ref}",
) -> tuple[SweepReport, DispatchReport]:
    """Decide the day's reminders and send them, overlapped: the first messages go out while later
    batches are still being decided (each batch commits before anything of it can be claimed)."""
    planned = threading.Event()
    sent = DispatchReport()
    failure: list[BaseException] = []

    def sending() -> None:
        try:
            while True:
                last = planned.is_set()
                report = dispatch(engine, sender)
                for field in ("sent", "failed", "undeliverable", "stopped"):
                    setattr(sent, field, getattr(sent, field) + getattr(report, field))
                sent.errors += report.errors[: max(0, 20 - len(sent.errors))]
                if last or STOP.is_set():
                    return
                planned.wait(0.25)
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread below
            failure.append(exc)

    sender_thread = threading.Thread(target=sending, name="oja-dispatch", daemon=True)
    sender_thread.start()
    try:
        plan = plan_notices(engine, day=day, policy=policy, render=render, language=language, case_url=case_url)
    finally:
        planned.set()
        sender_thread.join()
    if failure:
        raise failure[0]
    return plan, sent
