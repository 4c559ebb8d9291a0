"""Which reminder is due for a deadline on a given school day: pure rules, no database.

Every deadline passes through stages: reminders some school days before (policy,
default 5 and 1), a notice on the due day, and a stage once it is late. On a
sweep day the *current* stage of a deadline is computed; the sweep sends it once
(the database keeps which stages went out). A missed sweep therefore catches up
with the stage reached, never with a pile of stale reminders.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import StrEnum
from typing import NamedTuple

from models.lifecycle import CaseState


class NoticeKind(StrEnum):
    """The stage of a deadline a notice tells of (`notice.kind`; at most 24 characters)."""

    REVIEW_REMINDER = "evaluatie_binnenkort"  # a review falls due in a few school days
    REVIEW_DUE = "evaluatie_vandaag"  # a review is due today
    REVIEW_OVERDUE = "evaluatie_te_laat"  # overdue past the escalation threshold: to the team lead
    TRIAGE_REMINDER = "triage_binnenkort"  # the triage service norm ends in a few school days
    TRIAGE_DUE = "triage_vandaag"  # the triage service norm ends today
    TRIAGE_OVERDUE = "triage_te_laat"  # the triage is past its service norm
    PLAN_LATE = "plan_te_laat"  # no joint plan by its deadline
    CONSENT_LATE = "toestemming_te_laat"  # consent incomplete by its deadline
    UPCOMING = "komende_week"  # weekly digest: what is coming in the next school week
    DECISION_DUE = "besluit_te_nemen"  # a review's decision is due (policy decision_due_school_days) and not taken
    REFERRAL_SENT = "verwijzing_verzonden"  # to the district team: a new referral to specialised care
    REFERRAL_OPEN = "verwijzing_open"  # to the district team: a referral still unanswered
    ERASURE_REMINDER = "vernietiging_binnenkort"  # an erasure request must be decided within a few school days
    ERASURE_DUE = "vernietiging_vandaag"  # an erasure request must be decided today
    ERASURE_OVERDUE = "vernietiging_te_laat"  # an erasure request is past its legal term
    REFERRAL_CHECK_REMINDER = "opvolging_binnenkort"  # an accepted referral: check with the district team soon
    REFERRAL_CHECK_DUE = "opvolging_vandaag"  # an accepted referral: check with the district team today
    REFERRAL_CHECK_OVERDUE = "opvolging_te_laat"  # the check is past the escalation threshold: team leads too
    PLANNED_END_REMINDER = "einde_binnenkort"  # the plan's planned end comes in a few school days
    PLANNED_END_DUE = "einde_vandaag"  # the plan's planned end is today
    PLANNED_END_PASSED = "einde_te_laat"  # the arrangement goes on past its planned end: team leads too


# the order in which a message lists the kinds: what is late first, the coming week last
KIND_PRIORITY: tuple[NoticeKind, ...] = (
    NoticeKind.ERASURE_OVERDUE,
    NoticeKind.REFERRAL_SENT,
    NoticeKind.REFERRAL_OPEN,
    NoticeKind.REVIEW_OVERDUE,
    NoticeKind.REFERRAL_CHECK_OVERDUE,
    NoticeKind.PLANNED_END_PASSED,
    NoticeKind.TRIAGE_OVERDUE,
    NoticeKind.PLAN_LATE,
    NoticeKind.CONSENT_LATE,
    NoticeKind.DECISION_DUE,
    NoticeKind.REVIEW_DUE,
    NoticeKind.REFERRAL_CHECK_DUE,
    NoticeKind.PLANNED_END_DUE,
    NoticeKind.TRIAGE_DUE,
    NoticeKind.ERASURE_DUE,
    NoticeKind.TRIAGE_REMINDER,
    NoticeKind.ERASURE_REMINDER,
    NoticeKind.REVIEW_REMINDER,
    NoticeKind.REFERRAL_CHECK_REMINDER,
    NoticeKind.PLANNED_END_REMINDER,
    NoticeKind.UPCOMING,
)
UPCOMING_SCHOOL_DAYS = 5  # the weekly overview shows the deadlines of the coming school week


class NoticeKey(NamedTuple):
    """What is decided once, ever: one stage of one deadline of one case (or erasure request) for one recipient.
    The fields are the columns of the notice table's unique key, in the order notices are sorted."""

    recipient_code: str
    subject_ref: str  # the case's reference, or an erasure request's (a request need not have a case)
    kind: str  # a NoticeKind's value
    due_on: dt.date
    stage: int


@dataclasses.dataclass(frozen=True)
class Stage:
    kind: NoticeKind
    stage: int  # the reminder offset in school days; 0 on the due day; -N once N school days late
    school_days: int  # school days until the deadline (positive) or late (negative)


def deadline_stage(
    *,
    school_days_left: int,
    before: tuple[int, ...],
    reminder: NoticeKind,
    due: NoticeKind,
    late: NoticeKind,
    late_after: int,
) -> Stage | None:
    """The current stage of a deadline `school_days_left` school days away (negative: late).

    `before` are the reminder offsets; the current reminder stage is the smallest
    offset not below the days left. Late becomes a stage once `late_after` school
    days have passed (0: from the first school day after the deadline).
    """
    n = school_days_left
    if n > 0:
        offsets = [k for k in sorted(before) if k >= n]
        return Stage(reminder, offsets[0], n) if offsets else None
    if n == 0:
        return Stage(due, 0, 0)
    if -n >= max(late_after, 1):
        return Stage(late, -max(late_after, 1), n)
    return None


def review_stage(school_days_left: int, *, before: tuple[int, ...], escalate_after: int) -> Stage | None:
    return deadline_stage(
        school_days_left=school_days_left,
        before=before,
        reminder=NoticeKind.REVIEW_REMINDER,
        due=NoticeKind.REVIEW_DUE,
        late=NoticeKind.REVIEW_OVERDUE,
        late_after=escalate_after,
    )


def triage_stage(school_days_left: int) -> Stage | None:
    return deadline_stage(
        school_days_left=school_days_left,
        before=(2,),
        reminder=NoticeKind.TRIAGE_REMINDER,
        due=NoticeKind.TRIAGE_DUE,
        late=NoticeKind.TRIAGE_OVERDUE,
        late_after=1,
    )


def erasure_stage(school_days_left: int, *, before: tuple[int, ...]) -> Stage | None:
    return deadline_stage(
        school_days_left=school_days_left,
        before=before,
        reminder=NoticeKind.ERASURE_REMINDER,
        due=NoticeKind.ERASURE_DUE,
        late=NoticeKind.ERASURE_OVERDUE,
        late_after=1,
    )


def referral_check_stage(school_days_left: int, *, before: tuple[int, ...], escalate_after: int) -> Stage | None:
    """An accepted referral's check with the district team: reminded like a review, escalated once late."""
    return deadline_stage(
        school_days_left=school_days_left,
        before=before,
        reminder=NoticeKind.REFERRAL_CHECK_REMINDER,
        due=NoticeKind.REFERRAL_CHECK_DUE,
        late=NoticeKind.REFERRAL_CHECK_OVERDUE,
        late_after=escalate_after,
    )


def planned_end_stage(school_days_left: int, *, before: int) -> Stage | None:
    """A plan's planned end: a warning `before` school days ahead (policy), the day itself, and once past it."""
    return deadline_stage(
        school_days_left=school_days_left,
        before=(before,),
        reminder=NoticeKind.PLANNED_END_REMINDER,
        due=NoticeKind.PLANNED_END_DUE,
        late=NoticeKind.PLANNED_END_PASSED,
        late_after=1,
    )


def late_stage(school_days_left: int, kind: NoticeKind) -> Stage | None:
    """Plans and consent: one notice once the deadline has passed."""
    if school_days_left < 0:
        return Stage(kind, -1, school_days_left)
    return None


def decision_stage(school_days_left: int) -> Stage | None:
    """A review's decision not taken by its due day: one notice, from the due day on (a missed sweep catches up)."""
    if school_days_left <= 0:
        return Stage(NoticeKind.DECISION_DUE, 0, school_days_left)
    return None


def referral_open_stage(school_days_left: int, *, open_days: int) -> Stage | None:
    """A referral unanswered past its follow-up term: one notice, counting the school days it has been open."""
    stage = late_stage(school_days_left, NoticeKind.REFERRAL_OPEN)
    return None if stage is None else Stage(stage.kind, stage.stage, -open_days)


def upcoming_stage(school_days_left: int, day: dt.date) -> Stage | None:
    """The weekly overview on `day`: a deadline within the coming school week, once per ISO week."""
    if 0 <= school_days_left <= UPCOMING_SCHOOL_DAYS:
        week = day.isocalendar()
        return Stage(NoticeKind.UPCOMING, week.year * 100 + week.week, school_days_left)
    return None


# ---- does a queued message still hold? -------------------------------------------------------------------------

_OPEN_STATES = frozenset(s.value for s in CaseState if s is not CaseState.CLOSED)
_ERASURE_KINDS = frozenset({NoticeKind.ERASURE_REMINDER, NoticeKind.ERASURE_DUE, NoticeKind.ERASURE_OVERDUE})

# The case states in which a notice of each kind is still true, checked just before its message is sent (issue 23:
# "Nieuwe verwijzing" went out after the case had returned to school). An erasure request's notices hold while the
# request is undecided, whatever its pupil's case does (`still_holds`). A new kind must say where it holds.
_REFERRAL_CHECK_KINDS = (
    NoticeKind.REFERRAL_CHECK_REMINDER,
    NoticeKind.REFERRAL_CHECK_DUE,
    NoticeKind.REFERRAL_CHECK_OVERDUE,
)
_PLANNED_END_KINDS = (NoticeKind.PLANNED_END_REMINDER, NoticeKind.PLANNED_END_DUE, NoticeKind.PLANNED_END_PASSED)
HOLDS_IN: dict[NoticeKind, frozenset[str]] = {
    NoticeKind.REVIEW_REMINDER: frozenset({CaseState.ACTIVE.value}),
    NoticeKind.REVIEW_DUE: frozenset({CaseState.ACTIVE.value}),
    NoticeKind.REVIEW_OVERDUE: frozenset({CaseState.ACTIVE.value}),
    NoticeKind.TRIAGE_REMINDER: frozenset({CaseState.AWAITING_TRIAGE.value}),
    NoticeKind.TRIAGE_DUE: frozenset({CaseState.AWAITING_TRIAGE.value}),
    NoticeKind.TRIAGE_OVERDUE: frozenset({CaseState.AWAITING_TRIAGE.value}),
    NoticeKind.PLAN_LATE: frozenset({CaseState.PLANNING.value}),
    NoticeKind.CONSENT_LATE: frozenset({CaseState.PLAN_DRAFTED.value}),
    NoticeKind.DECISION_DUE: frozenset({CaseState.REVIEWED.value}),
    NoticeKind.REFERRAL_SENT: frozenset({CaseState.ESCALATED.value}),
    NoticeKind.REFERRAL_OPEN: frozenset({CaseState.ESCALATED.value}),
    **dict.fromkeys(_REFERRAL_CHECK_KINDS, frozenset({CaseState.ESCALATED.value})),  # the referral accepted
    **dict.fromkeys(_PLANNED_END_KINDS, frozenset({CaseState.ACTIVE.value, CaseState.REVIEWED.value})),
    NoticeKind.UPCOMING: _OPEN_STATES,  # the week's overview: any deadline of a case still open
    **dict.fromkeys(_ERASURE_KINDS, frozenset()),
}


def still_holds(kind: str, case_state: str | None, *, request_open: bool) -> bool:
    """Whether a notice of `kind` is still true now: its case in one of the kind's states, or, for an erasure
    request, the request still undecided. An unknown kind does not hold (it is never sent blind)."""
    try:
        notice_kind = NoticeKind(kind)
    except ValueError:
        return False
    if notice_kind in _ERASURE_KINDS:
        return request_open
    return case_state in HOLDS_IN.get(notice_kind, frozenset())
