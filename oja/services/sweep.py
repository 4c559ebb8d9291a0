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
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import recipients, reminders
from models.recipients import CaseParties, Staff, Staffing
from models.reminders import NoticeKey, NoticeKind, Stage
from models.schooldays import SchoolDayIndex, add_school_days, is_school_day
from models.tables import Case, Professional, School
from models.vocabulary import DigestKind
from notifications.messages import Digest, DueItem, RenderedMessage
from oja.adapters import outbox
from oja.config import Policy
from oja.services import dispatch
from oja.services.calendar import school_calendars
from oja.services.deadlines import Deadline, Deadlines
from oja.services.dispatch import DispatchReport, while_planning
from oja.services.family_notices import plan_family_notices

if TYPE_CHECKING:  # not imported at run time: the sending seam pulls in Apprise
    from notifications.send import Sender

__all__ = ["NoticeKind", "SweepReport", "plan_notices", "queue_in_session", "sweep_day"]

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
    family_messages: int = 0  # asking the pupil and the parents for their view at a review (issue 26)
    by_kind: Counter[str] = dataclasses.field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "sweep_date": self.sweep_date.isoformat(), "by_kind": dict(self.by_kind)}


@dataclasses.dataclass(frozen=True)
class _Candidate:
    """A stage of a deadline for one recipient: a notice, unless it was decided before."""

    recipient: str
    deadline: Deadline
    stage: Stage

    @property
    def key(self) -> NoticeKey:
        d = self.deadline
        return NoticeKey(self.recipient, d.subject_ref, self.stage.kind.value, d.due_on, self.stage.stage)

    def notice_row(self, sweep_date: dt.date) -> dict[str, Any]:
        row = {**self.key._asdict(), "case_id": self.deadline.case_id or None}  # no case: an erasure request's
        return {**row, "school_days": self.stage.school_days, "sweep_date": sweep_date}

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
        ahead = max((*policy.reminder_school_days, *policy.triage_reminder_school_days))
        ahead = max(ahead, policy.planned_end_warning_school_days)
        ahead = max(ahead, reminders.UPCOMING_SCHOOL_DAYS) if weekly else ahead
        horizon = max((add_school_days(day, ahead, c) for c in directory.index), default=day)
        return cls(day, policy, directory, Deadlines(session, directory.calendars, policy, in_school, horizon), weekly)

    def left(self, deadline: Deadline) -> int:  # school days to the deadline; negative: late
        return self.directory.school_days(deadline.parties.school_code, self.day, deadline.due_on)

    def candidates(
        self, deadline: Deadline, stage: Stage | None, overview: NoticeKind | None = None
    ) -> Iterator[_Candidate]:
        """The deadline's current stage for each of its recipients; on the weekly overview's day, when the
        deadline is one the overview shows (`overview`: the kind of its due-day notice), that as well, for those
        who are not told about it today already (one mail lists a deadline once)."""
        staffing = self.directory.staffing
        told: set[str] = set()
        if stage is not None:
            told.update(recipients.for_notice(stage.kind, deadline.parties, staffing))
            for code in sorted(told):
                yield _Candidate(code, deadline, stage)
        if overview is None or not self.weekly:
            return
        week = reminders.upcoming_stage(self.left(deadline), self.day)
        if week is not None:
            for code in recipients.for_weekly_overview(overview, deadline.parties, staffing):
                if code not in told:
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
    for deadline in d.deadlines.accepted_referrals():  # the check with the district team after an acceptance
        stage = reminders.referral_check_stage(d.left(deadline), before=before, escalate_after=escalate)
        out += d.candidates(deadline, stage)
    for deadline in d.deadlines.planned_ends():  # a warning before the planned end, the day, past it
        stage = reminders.planned_end_stage(d.left(deadline), before=policy.planned_end_warning_school_days)
        out += d.candidates(deadline, stage)
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
    with Session(engine) as session, session.begin():  # the family's mails: a link to their page, nothing more
        report.family_messages = plan_family_notices(session, day=day, policy=policy)
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
    lease: dt.timedelta = dispatch.LEASE,
    retry_after: dt.timedelta = dispatch.RETRY_AFTER,
    concurrency: int = dispatch.CONCURRENCY,
) -> tuple[SweepReport, DispatchReport]:
    """Decide the day's reminders and send them, overlapped: the first messages go out while later
    batches are still being decided (each batch commits before anything of it can be claimed)."""
    plan = functools.partial(
        plan_notices, engine, day=day, policy=policy, render=render, language=language, case_url=case_url
    )
    return while_planning(
        plan, engine, sender, stop=stop, lease=lease, retry_after=retry_after, concurrency=concurrency
    )
