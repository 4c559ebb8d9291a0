"""The deadlines of open cases, one query per kind: what the daily sweep reminds of (`oja.services.sweep`) and
each school's worklist shows (`oja.services.worklist`), so both follow the same rules.

The next review of an active arrangement, the triage norm, a joint plan and consent to come, a referral's
follow-up (unanswered: the district team; accepted: the check with the district team), a plan's planned end, a
review's decision still to take, an erasure request's legal term.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func

from models.lifecycle import CaseState
from models.recipients import CaseParties
from models.reminders import NoticeKind
from models.schooldays import SchoolCalendar, add_school_days
from models.tables import Case, ErasureRequest, Intervention, Plan, Pupil, Referral, Review
from models.vocabulary import ReferralStatus
from oja.config import Policy
from oja.services.reads import episode_plans

__all__ = ["Deadline", "Deadlines"]


@dataclasses.dataclass(frozen=True)
class Deadline:
    """One deadline of one case as the sweep found it: who is concerned, and what a notice shows of it."""

    case_id: int  # 0: none, an erasure request about a pupil without a case (ids start at 1)
    case_ref: str  # empty without a case
    parties: CaseParties
    due_on: dt.date
    since: dt.date | None = None  # where the deadline counts from a day worth naming: the referral's date
    request_ref: str | None = None  # an erasure request's reference, shown instead of the case's

    @property
    def subject_ref(self) -> str:
        """What the deadline is about, as a notice names it: the erasure request, else the case."""
        return self.request_ref or self.case_ref


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
    case_ids: Collection[int] | None = None  # only these cases (their ids): one person's reach, one case's page

    def _rows(
        self, name: str, build: Callable[[], sa.Select[Any]], due: Any = None, school: Any = Case.school_code
    ) -> Iterator[sa.Row[Any]]:
        """The rows of the kind `name` (its query made by `build`), of these schools, cases and `until`: the query
        made once per process and kind (`_prepared`), the schools, cases and day its parameters."""
        stmt = _prepared(name, build, self.schools is not None, self.case_ids is not None, self.until, due, school)
        params: dict[str, Any] = {}
        if self.schools is not None:
            params[SCHOOLS] = sorted(self.schools)
        if self.case_ids is not None:
            params[CASE_IDS] = sorted(self.case_ids)
        if due is not None and self.until is not None:
            params[UNTIL] = self.until
        yield from self.session.connection().execute(stmt, params)  # Core rows: fast

    def reviews(self) -> Iterator[Deadline]:
        """Reviews of active arrangements, with who delivers the newest plan (named or not, it replaces older ones)."""
        workers: dict[int, set[str]] = defaultdict(set)
        for case_id, code in self._rows("workers", _workers, Case.next_review_on) if self.with_workers else ():
            workers[case_id].add(code)
        for case_id, ref, school, due, regie in self._rows("reviews", _reviews, Case.next_review_on):
            yield Deadline(case_id, ref, CaseParties(school, regie, frozenset(workers[case_id])), due)

    def triages(self) -> Iterator[Deadline]:
        """Signals awaiting triage, due by the service norm."""
        for case_id, ref, school, due in self._rows("triages", _triages, Case.triage_due_on):
            yield Deadline(case_id, ref, CaseParties(school), due)

    def late(self) -> Iterator[tuple[NoticeKind, Deadline]]:
        """A joint plan or consent to come, with the kind of notice it gives once late."""
        for state, column, kind in (
            (CaseState.PLANNING, Case.plan_due_on, NoticeKind.PLAN_LATE),
            (CaseState.PLAN_DRAFTED, Case.consent_due_on, NoticeKind.CONSENT_LATE),
        ):
            build = functools.partial(_late, state, column)
            for case_id, ref, school, due, regie in self._rows(f"late-{state.value}", build, column):
                yield kind, Deadline(case_id, ref, CaseParties(school, regie), due)

    def referrals(self) -> Iterator[Deadline]:
        """Referrals the district team has not answered, due the follow-up term after the referral (any `until`)."""
        for case_id, ref, school, referred_on, municipality in self._rows("referrals", _referrals):
            due = add_school_days(referred_on, self.policy.referral_followup_school_days, self.calendars[school])
            yield Deadline(case_id, ref, CaseParties(school, municipality_code=municipality), due, since=referred_on)

    def accepted_referrals(self) -> Iterator[Deadline]:
        """Referrals the district team accepted, the pupil not yet back: the regie holder checks with the district
        team the check term after the answer (any `until`). `since`: the day of the answer."""
        for case_id, ref, school, answered_on, municipality, regie in self._rows("accepted", _accepted_referrals):
            due = add_school_days(answered_on, self.policy.referral_check_school_days, self.calendars[school])
            parties = CaseParties(school, regie, municipality_code=municipality)
            yield Deadline(case_id, ref, parties, due, since=answered_on)

    def planned_ends(self) -> Iterator[Deadline]:
        """The planned end of the current plan of a running arrangement (active, or reviewed and awaiting its
        decision)."""
        for case_id, ref, school, end, regie in self._rows("planned-ends", _planned_ends, Plan.planned_end_on):
            yield Deadline(case_id, ref, CaseParties(school, regie), end)

    def decisions(self) -> Iterator[Deadline]:
        """Reviewed cases whose decision is not taken, due the decision term after their latest review (any `until`).
        `since`: the day of that review."""
        for case_id, ref, school, held_on, regie in self._rows("decisions", _decisions):
            due = add_school_days(held_on, self.policy.decision_due_school_days, self.calendars[school])
            yield Deadline(case_id, ref, CaseParties(school, regie), due, since=held_on)

    def erasures(self) -> Iterator[Deadline]:
        """Erasure requests not yet decided, linked to the pupil's latest case if there is one (any `until`): a
        request about a pupil who never had a case is reminded of all the same (issue 23)."""
        found = self._rows("erasures", _erasures, school=ErasureRequest.school_code)
        for case_id, ref, school, due, request_ref in found:
            yield Deadline(case_id or 0, ref or "", CaseParties(school), due, request_ref=request_ref)


# ---- the queries, each made once per process ---------------------------------------------------------------------
# A query built anew for every page cost more than running it: SQLAlchemy builds the statement, then its cache key
# (a walk over every element), before it finds the compiled SQL in its cache (issue 27's profile: a third of a
# worklist's time). A statement made once keeps its cache key; what varies is a parameter.

SCHOOLS, CASE_IDS, UNTIL = "deadline_schools", "deadline_case_ids", "deadline_until"
_PREPARED: dict[tuple[Any, ...], sa.Select[Any]] = {}


def _prepared(
    name: str, build: Callable[[], sa.Select[Any]], schools: bool, cases: bool, until: dt.date | None, due: Any,
    school: Any,
) -> sa.Select[Any]:  # fmt: skip
    """The query of the kind `name` with the conditions asked: the schools, the cases, the day (parameters)."""
    key = (name, schools, cases, due is not None and until is not None)
    stmt = _PREPARED.get(key)
    if stmt is None:  # two threads may both make it: the same query, either kept
        stmt = build()
        if schools:
            stmt = stmt.where(col(school).in_(sa.bindparam(SCHOOLS, expanding=True)))
        if cases:
            stmt = stmt.where(col(Case.id).in_(sa.bindparam(CASE_IDS, expanding=True)))
        if due is not None:
            stmt = stmt.where(col(due) <= sa.bindparam(UNTIL) if until is not None else col(due).is_not(None))
        stmt = _PREPARED[key] = stmt.execution_options(yield_per=5000)
    return stmt


def _workers() -> sa.Select[Any]:
    plan, worker = episode_plans(), col(Intervention.professional_code)
    on_plan = (col(Intervention.plan_id) == plan.c.id, worker.is_not(None))
    return sa.select(plan.c.case_id, worker).where(col(Case.id) == plan.c.case_id, *on_plan, _state(CaseState.ACTIVE))


def _reviews() -> sa.Select[Any]:
    columns = _columns(Case.id, Case.ref, Case.school_code, Case.next_review_on, Case.regie_holder_code)
    return sa.select(*columns).where(_state(CaseState.ACTIVE))


def _triages() -> sa.Select[Any]:
    columns = _columns(Case.id, Case.ref, Case.school_code, Case.triage_due_on)
    return sa.select(*columns).where(_state(CaseState.AWAITING_TRIAGE))


def _late(state: CaseState, column: Any) -> sa.Select[Any]:
    columns = _columns(Case.id, Case.ref, Case.school_code, column, Case.regie_holder_code)
    return sa.select(*columns).where(_state(state))


def _referrals() -> sa.Select[Any]:
    columns = _columns(Case.id, Case.ref, Case.school_code, Referral.referred_on, Referral.municipality_code)
    return (
        sa.select(*columns)
        .join(Referral, col(Referral.case_id) == col(Case.id))
        .where(_state(CaseState.ESCALATED), col(Referral.status) == ReferralStatus.SENT.value)
    )


def _accepted_referrals() -> sa.Select[Any]:
    columns = _columns(
        Case.id, Case.ref, Case.school_code, Referral.responded_on, Referral.municipality_code, Case.regie_holder_code
    )
    return (
        sa.select(*columns)
        .join(Referral, col(Referral.case_id) == col(Case.id))
        .where(_state(CaseState.ESCALATED), col(Referral.status) == ReferralStatus.ACCEPTED.value)
    )


def _planned_ends() -> sa.Select[Any]:
    plan = episode_plans()
    columns = _columns(Case.id, Case.ref, Case.school_code, Plan.planned_end_on, Case.regie_holder_code)
    running = (CaseState.ACTIVE.value, CaseState.REVIEWED.value)
    return (
        sa.select(*columns)
        .join(plan, plan.c.case_id == col(Case.id))
        .join(Plan, col(Plan.id) == plan.c.id)
        .where(col(Case.state).in_(running))
    )


def _decisions() -> sa.Select[Any]:
    latest = sa.select(col(Review.case_id), func.max(Review.id).label("id")).group_by(col(Review.case_id))
    newest = latest.subquery()
    columns = _columns(Case.id, Case.ref, Case.school_code, Review.held_on, Case.regie_holder_code)
    return (
        sa.select(*columns)
        .join(newest, newest.c.case_id == col(Case.id))
        .join(Review, col(Review.id) == newest.c.id)
        .where(_state(CaseState.REVIEWED))
    )


def _erasures() -> sa.Select[Any]:
    latest_case = sa.select(col(Case.pupil_id), func.max(Case.id).label("case_id")).group_by(col(Case.pupil_id))
    latest = latest_case.subquery()
    columns = _columns(Case.id, Case.ref, ErasureRequest.school_code, ErasureRequest.due_on, ErasureRequest.ref)
    return (
        sa.select(*columns)
        .select_from(ErasureRequest)
        .join(Pupil, col(Pupil.ref) == col(ErasureRequest.pupil_ref))
        .outerjoin(latest, latest.c.pupil_id == col(Pupil.id))
        .outerjoin(Case, col(Case.id) == latest.c.case_id)
        .where(col(ErasureRequest.decided_on).is_(None))
    )


def _state(state: CaseState) -> sa.ColumnElement[bool]:
    return col(Case.state) == state.value
