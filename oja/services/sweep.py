"""The daily sweep: decide which reminders are due, once, and send them after.

Two phases, each in batches (never a transaction, task or flow run per case):

1. `plan_notices` reads the cases with a deadline in reach, asks `models.reminders` for each deadline's
   current stage and `models.recipients` who is told, and per recipient inserts the new notices (a unique
   key makes every decision happen once, also with two sweeps at once) and one rendered outbox message
   listing them, in one transaction (`oja.adapters.outbox`).
2. `oja.services.dispatch` sends the outbox; `sweep_day` runs both phases overlapped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models import recipients, reminders
from models.lifecycle import CaseState
from models.recipients import CaseParties, Staff, Staffing
from models.reminders import NoticeKey, NoticeKind, Stage
from models.schooldays import SchoolCalendar, SchoolDayIndex, add_school_days, is_school_day
from models.tables import Case, ErasureRequest, Intervention, Professional, Pupil, Referral, Review, School
from models.vocabulary import DigestKind, ReferralStatus
from notifications.messages import Digest, DueItem, RenderedMessage
from oja.adapters import outbox
from oja.config import Policy
from oja.services.calendar import school_calendars
from oja.services.dispatch import DispatchReport, while_planning
from oja.services.reads import current_plans

if TYPE_CHECKING:  # not imported at run time: the sending seam pulls in Apprise
    from notifications.send import Sender

__all__ = ["NoticeKind", "SweepReport", "plan_notices", "queue_in_session", "sweep_day"]
__all__ += ["Deadline", "Deadlines"]  # the deadlines, also for oja.services.worklist

RECIPIENT_CHUNK = 200  # recipients per transaction
LOOKBACK_DAYS = 400  # overdue further back than this counts as that far
Render = Callable[[Digest], RenderedMessage]


@dataclasses.dataclass
class SweepReport:
    sweep_date: dt.date
    regions_in_school: list[str]
    candidates: int = 0
    notices: int = 0
    messages: int = 0
    by_kind: Counter[str] = dataclasses.field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "sweep_date": self.sweep_date.isoformat(), "by_kind": dict(self.by_kind)}


@dataclasses.dataclass(frozen=True)
class Deadline:
    """One deadline of one case as the sweep found it: who is concerned, and what a notice shows of it."""

    case_id: int
    case_ref: str
    parties: CaseParties
    due_on: dt.date
    since: dt.date | None = None  # where the deadline counts from a day worth naming: the referral's date
    request_ref: str | None = None  # an erasure request's reference, shown instead of the case's


@dataclasses.dataclass(frozen=True)
class _Candidate:
    """A stage of a deadline for one recipient: a notice, unless it was decided before."""

    recipient: str
    deadline: Deadline
    stage: Stage

    @property
    def key(self) -> NoticeKey:
        d = self.deadline
        return NoticeKey(self.recipient, d.case_id, self.stage.kind.value, d.due_on, self.stage.stage)

    def notice_row(self, sweep_date: dt.date) -> dict[str, Any]:
        return {**self.key._asdict(), "school_days": self.stage.school_days, "sweep_date": sweep_date}

    def item(self, schools: dict[str, School]) -> DueItem:
        d = self.deadline
        return DueItem(
            case_ref=d.case_ref,
            school_code=d.parties.school_code,
            school_name=schools[d.parties.school_code].name,
            kind=self.key.kind,
            due_on=d.due_on,
            school_days=abs(self.stage.school_days),
            since=d.since,
            request_ref=d.request_ref,
        )


def _staff(professionals: Iterable[Professional]) -> Staffing:
    return Staffing(Staff(p.code, p.role, p.school_code, p.municipality_code) for p in professionals)


class _Directory:
    """Schools, their calendars and school-day indexes, the professionals and who holds which role where."""

    def __init__(self, session: Session, day: dt.date, *, with_index: bool = True) -> None:
        self.schools = {s.code: s for s in session.exec(select(School)).all()}
        self.calendars = school_calendars(session)  # the region's holidays and each school's own closing days
        calendars = set(self.calendars.values()) if with_index else set()
        start, end = day - dt.timedelta(days=LOOKBACK_DAYS), day + dt.timedelta(days=120)
        self.index = {c: SchoolDayIndex(c, start, end) for c in calendars}
        self.professionals = {p.code: p for p in session.exec(select(Professional)).all()}
        self.staffing = _staff(self.professionals.values())

    def school_days(self, school_code: str, day: dt.date, due: dt.date) -> int:
        index = self.index[self.calendars[school_code]]
        due = min(max(due, index.start), index.end)
        return index.between(day, due)


def _columns(*attributes: Any) -> list[Any]:  # model attributes as the columns of a select
    return [col(a) for a in attributes]


@dataclasses.dataclass(frozen=True)
class Deadlines:
    """The deadlines of open cases the sweep reminds of (and `oja.services.worklist` shows), one query per kind:
    of the schools in `schools` (None: every school), due by `until` (None: whenever)."""

    session: Session
    calendars: Mapping[str, SchoolCalendar]  # at least those of `schools`
    policy: Policy
    schools: frozenset[str] | None = None
    until: dt.date | None = None
    with_workers: bool = True  # who delivers each reviewed arrangement (the sweep's recipients; not the worklist)

    def _rows(self, stmt: sa.Select[Any], due: Any = None, school: Any = Case.school_code) -> Iterator[sa.Row[Any]]:
        if self.schools is not None:
            stmt = stmt.where(col(school).in_(sorted(self.schools)))
        if due is not None:
            stmt = stmt.where(col(due) <= self.until if self.until is not None else col(due).is_not(None))
        yield from self.session.connection().execute(stmt.execution_options(yield_per=5000))  # Core rows: fast

    def reviews(self) -> Iterator[Deadline]:
        """Reviews of active arrangements, with who delivers the newest plan (named or not, it replaces older ones)."""
        active, worker = col(Case.state) == CaseState.ACTIVE.value, col(Intervention.professional_code)
        plan = current_plans()
        on_plan = (active, col(Case.id) == plan.c.case_id, col(Intervention.plan_id) == plan.c.id, worker.is_not(None))
        workers: dict[int, set[str]] = defaultdict(set)
        found = self._rows(sa.select(plan.c.case_id, worker).where(*on_plan), Case.next_review_on)
        for case_id, code in found if self.with_workers else ():
            workers[case_id].add(code)
        columns = _columns(Case.id, Case.ref, Case.school_code, Case.next_review_on, Case.regie_holder_code)
        for case_id, ref, school, due, regie in self._rows(sa.select(*columns).where(active), Case.next_review_on):
            yield Deadline(case_id, ref, CaseParties(school, regie, frozenset(workers[case_id])), due)

    def triages(self) -> Iterator[Deadline]:
        """Signals awaiting triage, due by the service norm."""
        stmt = sa.select(*_columns(Case.id, Case.ref, Case.school_code, Case.triage_due_on))
        stmt = stmt.where(col(Case.state) == CaseState.AWAITING_TRIAGE.value)
        for case_id, ref, school, due in self._rows(stmt, Case.triage_due_on):
            yield Deadline(case_id, ref, CaseParties(school), due)

    def late(self) -> Iterator[tuple[NoticeKind, Deadline]]:
        """A joint plan or consent to come, with the kind of notice it gives once late."""
        for state, column, kind in (
            (CaseState.PLANNING, Case.plan_due_on, NoticeKind.PLAN_LATE),
            (CaseState.PLAN_DRAFTED, Case.consent_due_on, NoticeKind.CONSENT_LATE),
        ):
            stmt = sa.select(*_columns(Case.id, Case.ref, Case.school_code, column, Case.regie_holder_code))
            for case_id, ref, school, due, regie in self._rows(stmt.where(col(Case.state) == state.value), column):
                yield kind, Deadline(case_id, ref, CaseParties(school, regie), due)

    def referrals(self) -> Iterator[Deadline]:
        """Referrals the district team has not answered, due the follow-up term after the referral (any `until`)."""
        columns = _columns(Case.id, Case.ref, Case.school_code, Referral.referred_on, Referral.municipality_code)
        stmt = (
            sa.select(*columns)
            .join(Referral, col(Referral.case_id) == col(Case.id))
            .where(col(Case.state) == CaseState.ESCALATED.value, col(Referral.status) == ReferralStatus.SENT.value)
        )
        for case_id, ref, school, referred_on, municipality in self._rows(stmt):
            due = add_school_days(referred_on, self.policy.referral_followup_school_days, self.calendars[school])
            yield Deadline(case_id, ref, CaseParties(school, municipality_code=municipality), due, since=referred_on)

    def decisions(self) -> Iterator[Deadline]:
        """Reviewed cases whose decision is not taken, due the decision term after their latest review (any `until`).
        `since`: the day of that review."""
        latest = sa.select(col(Review.case_id), func.max(Review.id).label("id")).group_by(col(Review.case_id))
        newest = latest.subquery()
        columns = _columns(Case.id, Case.ref, Case.school_code, Review.held_on, Case.regie_holder_code)
        stmt = (
            sa.select(*columns)
            .join(newest, newest.c.case_id == col(Case.id))
            .join(Review, col(Review.id) == newest.c.id)
            .where(col(Case.state) == CaseState.REVIEWED.value)
        )
        for case_id, ref, school, held_on, regie in self._rows(stmt):
            due = add_school_days(held_on, self.policy.decision_due_school_days, self.calendars[school])
            yield Deadline(case_id, ref, CaseParties(school, regie), due, since=held_on)

    def erasures(self) -> Iterator[Deadline]:
        """Erasure requests not yet decided, shown by the pupil's latest case (any `until`)."""
        latest_case = sa.select(col(Case.pupil_id), func.max(Case.id).label("case_id")).group_by(col(Case.pupil_id))
        latest = latest_case.subquery()
        columns = _columns(Case.id, Case.ref, ErasureRequest.school_code, ErasureRequest.due_on, ErasureRequest.ref)
        stmt = (
            sa.select(*columns)
            .join(Pupil, col(Pupil.ref) == col(ErasureRequest.pupil_ref))
            .join(latest, latest.c.pupil_id == col(Pupil.id))
            .join(Case, col(Case.id) == latest.c.case_id)
            .where(col(ErasureRequest.decided_on).is_(None))
        )
        for case_id, ref, school, due, request_ref in self._rows(stmt, school=ErasureRequest.school_code):
            yield Deadline(case_id, ref, CaseParties(school), due, request_ref=request_ref)


@dataclasses.dataclass(frozen=True)
class _Day:
    """One sweep day: the schools in session, their deadlines in reach, and the candidates they give."""

    day: dt.date
    policy: Policy
    directory: _Directory
    deadlines: Deadlines
    weekly: bool  # the weekly overview of the coming school week goes out today

    @classmethod
    def start(cls, session: Session, day: dt.date, policy: Policy, directory: _Directory) -> _Day:
        in_school = frozenset(code for code, c in directory.calendars.items() if is_school_day(day, c))
        weekly = day.weekday() == policy.weekly_digest_weekday
        ahead = max(policy.reminder_school_days + policy.triage_reminder_school_days)
        ahead = max(ahead, reminders.UPCOMING_SCHOOL_DAYS) if weekly else ahead
        horizon = max((add_school_days(day, ahead, c) for c in directory.index), default=day)
        return cls(day, policy, directory, Deadlines(session, directory.calendars, policy, in_school, horizon), weekly)

    def left(self, deadline: Deadline) -> int:  # school days to the deadline; negative: late
        return self.directory.school_days(deadline.parties.school_code, self.day, deadline.due_on)

    def candidates(
        self, deadline: Deadline, stage: Stage | None, overview: NoticeKind | None = None
    ) -> Iterator[_Candidate]:
        """The deadline's current stage for each of its recipients; on the weekly overview's day, when the
        deadline is one the overview shows (`overview`: the kind of its due-day notice), that as well."""
        staffing = self.directory.staffing
        if stage is not None:
            for code in recipients.for_notice(stage.kind, deadline.parties, staffing):
                yield _Candidate(code, deadline, stage)
        if overview is None or not self.weekly:
            return
        week = reminders.upcoming_stage(self.left(deadline), self.day)
        if week is not None:
            for code in recipients.for_weekly_overview(overview, deadline.parties, staffing):
                yield _Candidate(code, deadline, week)


def _candidates(session: Session, day: dt.date, policy: Policy, directory: _Directory) -> list[_Candidate]:
    """Every deadline stage due on `day`, per recipient, in key order. Schools on holiday are skipped."""
    d = _Day.start(session, day, policy, directory)
    before, escalate = policy.reminder_school_days, policy.overdue_escalation_school_days
    if not d.deadlines.schools:
        return []
    out: list[_Candidate] = []
    for deadline in d.deadlines.reviews():  # reminders, the due day, escalation when overdue
        stage = reminders.review_stage(d.left(deadline), before=before, escalate_after=escalate)
        out += d.candidates(deadline, stage, NoticeKind.REVIEW_DUE)
    for deadline in d.deadlines.triages():  # the service norm's reminder, its last day, past it
        out += d.candidates(deadline, reminders.triage_stage(d.left(deadline)), NoticeKind.TRIAGE_DUE)
    for kind, deadline in d.deadlines.late():  # a joint plan or consent past its deadline
        out += d.candidates(deadline, reminders.late_stage(d.left(deadline), kind), kind)
    for deadline in d.deadlines.referrals():  # not answered within the follow-up term
        open_days = d.directory.school_days(deadline.parties.school_code, deadline.since or d.day, d.day)
        out += d.candidates(deadline, reminders.referral_open_stage(d.left(deadline), open_days=open_days))
    for deadline in d.deadlines.decisions():  # a review's decision not taken by its due day
        out += d.candidates(deadline, reminders.decision_stage(d.left(deadline)))
    for deadline in d.deadlines.erasures():  # reminders, the due day, past the legal term
        out += d.candidates(
            deadline, reminders.erasure_stage(d.left(deadline), before=policy.erasure_reminder_school_days)
        )
    out.sort(key=lambda c: c.key)
    return out


@dataclasses.dataclass(frozen=True)
class _Queue:
    """Decides notices and queues their messages: one per recipient, rendered as that recipient's digest."""

    directory: _Directory
    day: dt.date
    render: Render
    language: str
    case_url: str

    def decide(self, session: Session, candidates: Sequence[_Candidate]) -> list[_Candidate]:
        """Insert the candidates not decided before and queue one message per recipient listing them, in the
        caller's transaction; the candidates this transaction decided."""
        decided = outbox.insert_new_notices(session, [c.notice_row(self.day) for c in candidates])
        fresh: dict[str, list[_Candidate]] = defaultdict(list)
        for c in candidates:
            if c.key in decided:
                fresh[c.recipient].append(c)
        outbox.write_messages(session, [self._message(r, items, decided) for r, items in fresh.items()])
        return [c for items in fresh.values() for c in items]

    def _message(self, recipient: str, items: list[_Candidate], ids: dict[NoticeKey, int]) -> outbox.Message:
        """The recipient's one message of the sweep. On the weekly overview's day the overview of the coming
        week is part of it, after what needs attention now."""
        person = self.directory.professionals[recipient]
        week = sum(c.stage.kind is NoticeKind.UPCOMING for c in items)
        digest_kind = DigestKind.DAILY if not week else DigestKind.WEEKLY if week == len(items) else DigestKind.COMBINED
        digest = Digest(
            recipient_code=person.code,
            recipient_name=person.name,
            kind=digest_kind.value,
            sweep_date=self.day,
            items=[c.item(self.directory.schools) for c in items],
            language=self.language,
            case_url=self.case_url,
        )
        return outbox.Message(person, digest_kind.value, self.day, self.render(digest), [ids[c.key] for c in items])


def plan_notices(
    engine: sa.Engine,
    *,
    day: dt.date,
    policy: Policy,
    render: Render,
    language: str = "nl",
    case_url: str = "{case_ref}",
    progress: Callable[[int], None] | None = None,
) -> SweepReport:
    """Decide the reminders due on `day` and put one message per recipient in the outbox."""
    with Session(engine) as session:
        directory = _Directory(session, day)
        candidates = _candidates(session, day, policy, directory)
    regions = sorted({c.region for c in directory.calendars.values() if is_school_day(day, c)})
    report = SweepReport(day, regions, candidates=len(candidates))
    queue = _Queue(directory, day, render, language, case_url)
    per_recipient = [list(group) for _, group in itertools.groupby(candidates, key=lambda c: c.recipient)]
    for i in range(0, len(per_recipient), RECIPIENT_CHUNK):
        chunk = per_recipient[i : i + RECIPIENT_CHUNK]
        with Session(engine) as session, session.begin():
            decided = queue.decide(session, [c for group in chunk for c in group])
        report.notices += len(decided)
        report.messages += len({c.recipient for c in decided})
        report.by_kind.update(c.key.kind for c in decided)
        if progress:
            progress(len(chunk))
    return report


def queue_in_session(
    session: Session,
    case: Case,
    recipient_codes: list[str],
    kind: NoticeKind,
    due_on: dt.date,
    day: dt.date,
    *,
    render: Render,
    language: str = "nl",
    case_url: str = "{case_ref}",
    school_days: int = 0,
) -> int:
    """Decide one notice per recipient for one case and queue each message, in the caller's transaction."""
    if case.id is None or case.ref is None:
        raise ValueError("queue_in_session: the case is not stored yet")
    deadline = Deadline(case.id, case.ref, CaseParties(case.school_code), due_on)
    queue = _Queue(_Directory(session, day, with_index=False), day, render, language, case_url)
    candidates = [_Candidate(code, deadline, Stage(kind, 0, school_days)) for code in recipient_codes]
    return len(queue.decide(session, candidates))


def sweep_day(
    engine: sa.Engine,
    sender: Sender,
    *,
    day: dt.date,
    policy: Policy,
    render: Render,
    language: str = "nl",
    case_url: str = "{case_ref}",
    stop: threading.Event | None = None,
    lease: dt.timedelta = dt.timedelta(minutes=10),
    retry_after: dt.timedelta = dt.timedelta(minutes=5),
    concurrency: int = 4,
) -> tuple[SweepReport, DispatchReport]:
    """Decide the day's reminders and send them, overlapped: the first messages go out while later
    batches are still being decided (each batch commits before anything of it can be claimed)."""
    plan = functools.partial(
        plan_notices, engine, day=day, policy=policy, render=render, language=language, case_url=case_url
    )
    return while_planning(
        plan, engine, sender, stop=stop, lease=lease, retry_after=retry_after, concurrency=concurrency
    )
