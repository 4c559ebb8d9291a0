"""A school's worklist: its open cases, most urgent first, with the next deadline and the next step.

The deadlines are the sweep's (`oja.services.deadlines.Deadlines`: the review, the triage norm, the plan, consent,
an unanswered referral, the check with the district team after an accepted one, the plan's planned end), read for
one school whatever their date; a reviewed case waits for its decision, due on the day of the review (the day
`flows/review.py`'s reminder names). A deadline is overdue once a school day of the school has passed since it, the
count the sweep's reminders use. Codes only: the case's reference, state, level and urgency, the regie holder's
professional code; never a pupil's name, BSN or birth date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Collection, Iterable, Mapping
from enum import StrEnum
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col

from models.errors import UnknownReference
from models.lifecycle import CaseState
from models.reminders import NoticeKind
from models.schooldays import SchoolCalendar, SchoolDayIndex
from models.tables import Case, Plan, School
from models.words import state_word
from notifications.render import long_date
from oja.config import Policy
from oja.deployments import DEPLOYMENTS
from oja.services.calendar import school_calendar, school_calendars
from oja.services.deadlines import CASE_IDS, SCHOOLS, Deadlines
from oja.services.intake import URGENCY_RANK
from oja.services.reads import episode_plans


class Due(StrEnum):
    """What the next deadline of a case is."""

    TRIAGE = "triage"  # the triage service norm
    PLAN = "plan"  # the joint plan
    CONSENT = "toestemming"  # complete consent to the plan
    REVIEW = "evaluatie"  # the next review of the arrangement
    DECISION = "besluit"  # the decision after a review
    REFERRAL = "verwijzing-opvolgen"  # the district team's answer to a referral
    REFERRAL_CHECK = "verwijzing-navragen"  # accepted: the regie holder checks with the district team
    PLANNED_END = "einde"  # the current plan's planned end


# the steps that can follow each state, the usual next one first: the Prefect flows (and deployments) that
# take them. The worklist shows the first; a step's result on its run links to each (`flows/result.py`).
NEXT_STEPS: dict[CaseState, tuple[str, ...]] = {
    CaseState.AWAITING_TRIAGE: ("triage",),
    CaseState.PLANNING: ("plan-opstellen",),
    CaseState.PLAN_DRAFTED: ("toestemming-vastleggen", "plan-opstellen"),
    CaseState.CONSENTED: ("arrangement-starten",),
    # an acute concern between reviews: a referral outside a review (09)
    CaseState.ACTIVE: ("evaluatie-vastleggen", "meting-vastleggen", "verwijzen-specialistische-zorg"),
    CaseState.REVIEWED: ("besluit-nemen",),
    # once the district team has answered; before, the answer (ANSWER_REFERRAL) comes first
    CaseState.ESCALATED: ("terugkeer-uit-specialistische-zorg", "verwijzing-beantwoorden"),
    CaseState.CLOSED: ("casus-heropenen",),
}
ANSWER_REFERRAL = "verwijzing-beantwoorden"  # escalated, the referral still waiting for the district team


def steps_after(state: CaseState, next_step: str) -> tuple[str, ...]:
    """The steps a case page or a result offers, the usual one first. Escalated, only the one `next_step` names
    (`WorklistRow.next_step`): the district team's answer while the referral waits for it, else the return; the
    answer is never offered once given."""
    return (next_step,) if state is CaseState.ESCALATED else NEXT_STEPS.get(state, ())


# the steps held on a day from the arrangement's start (a review, a measurement: `oja.services.review` refuses a day
# before it): an arrangement that starts later offers them from that day, not before
FROM_START = frozenset({"evaluatie-vastleggen", "meting-vastleggen"})


def possible_from(step: str, starts_on: dt.date | None, today: dt.date) -> dt.date | None:
    """The day from which `step` can succeed, when that is after today; None when it can today."""
    return starts_on if step in FROM_START and starts_on is not None and starts_on > today else None


def steps_now(
    state: CaseState, next_step: str, *, starts_on: dt.date | None, today: dt.date
) -> tuple[tuple[str, ...], dict[str, dt.date]]:
    """The steps a case page or a result offers (`steps_after`), only those that can succeed today; and the others,
    each with the day from which it can (a review of an arrangement that starts later)."""
    steps = steps_after(state, next_step)
    later = {step: day for step in steps if (day := possible_from(step, starts_on, today)) is not None}
    return tuple(step for step in steps if step not in later), later


def later_words(step: str, day: dt.date) -> str:
    """`06 Evaluatie vastleggen kan vanaf maandag 4 januari 2027`: a step that cannot succeed before that day."""
    return f"{DEPLOYMENTS.get(step, step)} kan vanaf {long_date(day, 'nl')}"


LATE_KINDS = {NoticeKind.PLAN_LATE: Due.PLAN, NoticeKind.CONSENT_LATE: Due.CONSENT}
COLUMNS = ("Referentie", "Status", "Niveau", "Volgende termijn", "Wat", "Regiehouder", "Volgende stap")
OVERDUE = "**te laat**"


@dataclasses.dataclass(frozen=True)
class WorklistRow:
    """One open case of a school's worklist, in codes."""

    case_ref: str
    state: str  # models.lifecycle.CaseState
    level: int
    urgency: str  # models.vocabulary.Urgency
    due_on: dt.date | None  # the next deadline; None when the case has none
    due: Due | None  # what falls due then
    overdue: bool
    regie_holder: str | None  # the professional code of the current plan's regie holder; None before a plan
    next_step: str  # the flow of the next lifecycle step
    next_step_on: dt.date | None = None  # the day from which it can succeed, when later than today (`possible_from`)

    def sort_key(self) -> tuple[bool, bool, dt.date, int, str]:
        """Overdue first, then by deadline, then the most urgent, no deadline last, then by reference."""
        urgency = -URGENCY_RANK.get(self.urgency, 0)
        return (not self.overdue, self.due_on is None, self.due_on or dt.date.max, urgency, self.case_ref)

    def as_dict(self) -> dict[str, Any]:
        due_on = self.due_on.isoformat() if self.due_on else None
        step_on = self.next_step_on.isoformat() if self.next_step_on else None
        due = self.due.value if self.due else None
        return {**dataclasses.asdict(self), "due_on": due_on, "due": due, "next_step_on": step_on}


class _Next(NamedTuple):
    due_on: dt.date
    due: Due


def _deadlines(
    session: Session,
    schools: frozenset[str],
    policy: Policy,
    calendars: dict[str, SchoolCalendar],
    case_ids: Collection[int] | None = None,
    states: frozenset[str] | None = None,
) -> tuple[dict[int, _Next], set[int]]:
    """The next deadline of each open case of the schools that has one, and the cases whose referral waits for
    an answer. One query per kind of deadline, for all the schools together; with `states` (those of the cases
    listed), only the kinds a case in one of them can have (every kind is of a state: a case page's one case asks
    one or two of the eight, and a query is most of a page's time, issue 27)."""

    def asked(*of: CaseState) -> bool:
        return states is None or any(state.value in states for state in of)

    deadlines = Deadlines(session, calendars, policy, schools, with_workers=False, case_ids=case_ids)
    escalated, active, reviewed = CaseState.ESCALATED, CaseState.ACTIVE, CaseState.REVIEWED
    referrals = [(d.case_id, _Next(d.due_on, Due.REFERRAL)) for d in deadlines.referrals()] if asked(escalated) else []
    found = [
        *((d.case_id, _Next(d.due_on, Due.REVIEW)) for d in (deadlines.reviews() if asked(active) else ())),
        *(
            (d.case_id, _Next(d.due_on, Due.TRIAGE))
            for d in (deadlines.triages() if asked(CaseState.AWAITING_TRIAGE) else ())
        ),
        *(
            (d.case_id, _Next(d.due_on, LATE_KINDS[kind]))
            for kind, d in (deadlines.late() if asked(CaseState.PLANNING, CaseState.PLAN_DRAFTED) else ())
        ),
        *referrals,
        *(
            (d.case_id, _Next(d.due_on, Due.REFERRAL_CHECK))
            for d in (deadlines.accepted_referrals() if asked(escalated) else ())
        ),
        *(
            (d.case_id, _Next(d.due_on, Due.PLANNED_END))
            for d in (deadlines.planned_ends() if asked(active, reviewed) else ())
        ),
        *((d.case_id, _Next(d.due_on, Due.DECISION)) for d in (deadlines.decisions() if asked(reviewed) else ())),
    ]
    nearest: dict[int, _Next] = {}
    for case_id, deadline in found:
        if case_id not in nearest or deadline.due_on < nearest[case_id].due_on:
            nearest[case_id] = deadline
    return nearest, {case_id for case_id, _ in referrals}


def worklist(session: Session, *, school_code: str, today: dt.date, policy: Policy) -> list[WorklistRow]:
    """The school's open cases, most urgent first (`WorklistRow.sort_key`). An unknown school is refused
    (`InvalidInput` on `school_code`)."""
    code = (school_code or "").strip().upper()
    return worklists(
        session, school_codes=[code], today=today, policy=policy, calendars={code: school_calendar(session, code)}
    )[code]


def worklists(
    session: Session,
    *,
    school_codes: Iterable[str],
    today: dt.date,
    policy: Policy,
    calendars: dict[str, SchoolCalendar] | None = None,
    case_ids: Collection[int] | None = None,
) -> dict[str, list[WorklistRow]]:
    """The worklist of each of these schools (`worklist`), read with the same few queries for all of them,
    whatever their number (the daily sweep refreshes every school's); with `case_ids` only those cases of them (one
    professional's, or one case's page, in the dossier). An unknown school is refused."""
    schools = frozenset(code.strip().upper() for code in school_codes)
    calendars = calendars if calendars is not None else school_calendars(session, schools)
    unknown = sorted(schools - calendars.keys())
    if unknown:
        raise UnknownReference("school_code", "school", unknown[0])
    params: dict[str, Any] = {SCHOOLS: sorted(schools)}
    if case_ids is not None:
        params[CASE_IDS] = sorted(case_ids)
    rows = session.connection().execute(_open_cases(case_ids is not None), params).all()  # Core rows: faster
    states = frozenset(row[3] for row in rows)
    nearest, waiting = _deadlines(session, schools, policy, calendars, case_ids, states)
    first_past: dict[str, dt.date] = {}  # per school, the earliest deadline passed: the school days since it
    for case_id, school, *_ in rows:
        n = nearest.get(case_id)
        if n is not None and n.due_on < today:
            first_past[school] = min(n.due_on, first_past.get(school, n.due_on))
    index = {school: SchoolDayIndex(calendars[school], day, today) for school, day in first_past.items()}
    lists: dict[str, list[WorklistRow]] = {code: [] for code in schools}
    for case_id, school, ref, state, level, urgency, regie, starts_on in rows:
        step = ANSWER_REFERRAL if case_id in waiting else NEXT_STEPS[CaseState(state)][0]
        step_on = possible_from(step, starts_on, today)
        n = nearest.get(case_id)
        if n is None:
            lists[school].append(WorklistRow(ref, state, level, urgency, None, None, False, regie, step, step_on))
            continue
        overdue = n.due_on < today and index[school].between(today, n.due_on) < 0
        lists[school].append(WorklistRow(ref, state, level, urgency, n.due_on, n.due, overdue, regie, step, step_on))
    return {code: sorted(rows, key=WorklistRow.sort_key) for code, rows in lists.items()}


@functools.cache
def _open_cases(of_cases: bool) -> sa.Select[Any]:
    """The open cases of the schools (and of the cases, `of_cases`) with their current plan's regie holder: made
    once per process, the schools and cases its parameters (`oja.services.deadlines._prepared` tells why)."""
    plan = episode_plans()
    columns = (
        Case.id, Case.school_code, Case.ref, Case.state, Case.level, Case.urgency, Plan.regie_holder_code,
        Case.activated_on,
    )  # fmt: skip
    stmt = (
        sa.select(*(col(c) for c in columns))
        .outerjoin(plan, plan.c.case_id == col(Case.id))
        .outerjoin(Plan, col(Plan.id) == plan.c.id)
        .where(col(Case.school_code).in_(sa.bindparam(SCHOOLS, expanding=True)))
        .where(col(Case.state) != CaseState.CLOSED.value)
    )
    return stmt.where(col(Case.id).in_(sa.bindparam(CASE_IDS, expanding=True))) if of_cases else stmt


def all_schools(session: Session) -> list[str]:
    """The codes of every school of the region, in order: each has a worklist, an empty one too."""
    return sorted(session.execute(sa.select(col(School.code))).scalars())


def open_schools(session: Session) -> list[str]:
    """The codes of the schools with at least one open case, in order."""
    stmt = sa.select(col(Case.school_code)).where(col(Case.state) != CaseState.CLOSED.value).distinct()
    return sorted(session.execute(stmt).scalars())


# what a deadline is, in words (the codes are Dutch already, but some are terse)
DUE_WORDS: dict[Due, str] = {
    Due.REFERRAL: "antwoord wijkteam",
    Due.REFERRAL_CHECK: "navragen bij wijkteam",
    Due.PLANNED_END: "geplande einde",
}


def cells(row: WorklistRow, late: str = OVERDUE, step_url: str | None = None) -> list[str]:
    """A row's cells under `COLUMNS`, its deadline marked with `late` when overdue (markdown by default): the
    state, the deadline and the next step in words (the step as its deployment is named, a markdown link to
    `step_url` when given), the rest references."""
    when = row.due_on.isoformat() if row.due_on else ""
    when = f"{late} {when}" if row.overdue else when
    due = DUE_WORDS.get(row.due, row.due.value) if row.due else ""
    step = DEPLOYMENTS.get(row.next_step, row.next_step)
    if row.next_step_on is not None:  # not before that day (a review of an arrangement that starts later): no link
        step = f"{step} (vanaf {row.next_step_on.isoformat()})"
    elif step_url:
        step = f"[{step}]({step_url})"
    return [row.case_ref, state_word(row.state), str(row.level), when, due, row.regie_holder or "", step]


def worklist_markdown(
    school_code: str, rows: Iterable[WorklistRow], today: dt.date, step_urls: Mapping[str, str] | None = None
) -> str:
    """The worklist as a Dutch markdown table, the overdue deadlines marked; codes only. `step_urls` (case
    reference -> the form of its next step, the case filled in: `oja.adapters.step_links`) links the next step."""
    rows = list(rows)
    lines = [f"# Werklijst {school_code}, {today.isoformat()}", ""]
    if not rows:
        return "\n".join([*lines, "Geen open casussen.", ""])
    late = sum(row.overdue for row in rows)
    cases = "1 open casus" if len(rows) == 1 else f"{len(rows)} open casussen"
    lines += [f"{cases}, waarvan {late} te laat; de dringendste eerst.", ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    urls = step_urls or {}
    lines += ["| " + " | ".join(cells(row, step_url=urls.get(row.case_ref))) + " |" for row in rows]
    return "\n".join([*lines, ""])
