"""Who is told of a deadline: pure rules over plain data, no database.

A notice about a case goes, by its kind (`RULES`):

- a review coming up or due: the regie holder and the professionals delivering the current plan;
- a review overdue past the escalation threshold: the team leads of the school (or, where the school has
  none, the team leads without a school of their own);
- a triage or an erasure request coming up or due: the school's care coordinators; overdue, their team
  leads as well;
- a late plan, late consent, a decision waiting: the regie holder, else the school's coordinators;
- a referral, new or unanswered: the district team of the pupil's municipality;
- an accepted referral's check with the district team, a plan's planned end coming or today: the regie holder,
  else the school's coordinators; once late (the check past the escalation threshold, the arrangement past its
  planned end), their team leads as well.

The weekly overview of what is coming (`NoticeKind.UPCOMING`) goes to whoever follows that deadline from
day to day (`UPCOMING_RULES`): the regie holder alone for a review, the coordinators for a triage, the regie
holder else the coordinators for a plan or consent.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from models.reminders import NoticeKind
from models.vocabulary import Role


@dataclasses.dataclass(frozen=True)
class Staff:
    """A professional as the rules see them: a code, a role and where they work."""

    code: str
    role: str  # models.vocabulary.Role
    school_code: str | None = None
    municipality_code: str | None = None


class Staffing:
    """Who holds which role where: each school's coordinators and team leads, each municipality's district
    team."""

    def __init__(self, staff: Iterable[Staff]) -> None:
        coordinators: dict[str, list[str]] = defaultdict(list)
        team_leads: dict[str | None, list[str]] = defaultdict(list)
        district_teams: dict[str, list[str]] = defaultdict(list)
        for p in staff:
            if p.role == Role.DISTRICT_TEAM.value and p.municipality_code:
                district_teams[p.municipality_code].append(p.code)
            elif p.role == Role.COORDINATOR.value and p.school_code:
                coordinators[p.school_code].append(p.code)
            elif p.role == Role.TEAM_LEAD.value:
                team_leads[p.school_code].append(p.code)
        self._coordinators = {k: tuple(v) for k, v in coordinators.items()}
        self._team_leads = {k: tuple(v) for k, v in team_leads.items()}
        self._district_teams = {k: tuple(v) for k, v in district_teams.items()}

    def coordinators(self, school_code: str) -> tuple[str, ...]:
        return self._coordinators.get(school_code, ())

    def team_leads(self, school_code: str) -> tuple[str, ...]:
        """The school's own team leads, else those without a school of their own."""
        return self._team_leads.get(school_code) or self._team_leads.get(None, ())

    def district_team(self, municipality_code: str | None) -> tuple[str, ...]:
        return self._district_teams.get(municipality_code, ()) if municipality_code else ()


@dataclasses.dataclass(frozen=True)
class CaseParties:
    """What the rules need to know of a case: its school, its regie holder, who delivers its current plan
    and, for a referral, the pupil's municipality."""

    school_code: str
    regie_holder: str | None = None
    workers: frozenset[str] = frozenset()
    municipality_code: str | None = None


Rule = Callable[[CaseParties, Staffing], Iterable[str]]


def regie_holder(case: CaseParties, staffing: Staffing) -> Iterable[str]:
    return (case.regie_holder,) if case.regie_holder else ()


def regie_holder_and_workers(case: CaseParties, staffing: Staffing) -> Iterable[str]:
    return {*regie_holder(case, staffing), *case.workers}


def regie_holder_else_coordinators(case: CaseParties, staffing: Staffing) -> Iterable[str]:
    return regie_holder(case, staffing) or staffing.coordinators(case.school_code)


def coordinators(case: CaseParties, staffing: Staffing) -> Iterable[str]:
    return staffing.coordinators(case.school_code)


def team_leads(case: CaseParties, staffing: Staffing) -> Iterable[str]:
    return staffing.team_leads(case.school_code)


def coordinators_and_team_leads(case: CaseParties, staffing: Staffing) -> Iterable[str]:
    return {*staffing.coordinators(case.school_code), *staffing.team_leads(case.school_code)}


def regie_holder_else_coordinators_and_team_leads(case: CaseParties, staffing: Staffing) -> Iterable[str]:
    return {*regie_holder_else_coordinators(case, staffing), *staffing.team_leads(case.school_code)}


def district_team(case: CaseParties, staffing: Staffing) -> Iterable[str]:
    return staffing.district_team(case.municipality_code)


RULES: Mapping[NoticeKind, Rule] = {
    NoticeKind.REVIEW_REMINDER: regie_holder_and_workers,
    NoticeKind.REVIEW_DUE: regie_holder_and_workers,
    NoticeKind.REVIEW_OVERDUE: team_leads,
    NoticeKind.TRIAGE_REMINDER: coordinators,
    NoticeKind.TRIAGE_DUE: coordinators,
    NoticeKind.TRIAGE_OVERDUE: coordinators_and_team_leads,
    NoticeKind.PLAN_LATE: regie_holder_else_coordinators,
    NoticeKind.CONSENT_LATE: regie_holder_else_coordinators,
    NoticeKind.DECISION_DUE: regie_holder_else_coordinators,
    NoticeKind.REFERRAL_SENT: district_team,
    NoticeKind.REFERRAL_OPEN: district_team,
    NoticeKind.ERASURE_REMINDER: coordinators,
    NoticeKind.ERASURE_DUE: coordinators,
    NoticeKind.ERASURE_OVERDUE: coordinators_and_team_leads,
    NoticeKind.REFERRAL_CHECK_REMINDER: regie_holder_else_coordinators,
    NoticeKind.REFERRAL_CHECK_DUE: regie_holder_else_coordinators,
    NoticeKind.REFERRAL_CHECK_OVERDUE: regie_holder_else_coordinators_and_team_leads,
    NoticeKind.PLANNED_END_REMINDER: regie_holder_else_coordinators,
    NoticeKind.PLANNED_END_DUE: regie_holder_else_coordinators,
    NoticeKind.PLANNED_END_PASSED: regie_holder_else_coordinators_and_team_leads,
}

# the weekly overview, by the deadline it shows (named by the kind of that deadline's notice on or after its day)
UPCOMING_RULES: Mapping[NoticeKind, Rule] = {
    NoticeKind.REVIEW_DUE: regie_holder,
    NoticeKind.TRIAGE_DUE: coordinators,
    NoticeKind.PLAN_LATE: regie_holder_else_coordinators,
    NoticeKind.CONSENT_LATE: regie_holder_else_coordinators,
}


def for_notice(kind: NoticeKind, case: CaseParties, staffing: Staffing) -> tuple[str, ...]:
    """Who gets a notice of `kind` about `case`: their codes, sorted, each once."""
    if kind not in RULES:
        raise ValueError(f"no recipient rule for {kind!r}: the weekly overview goes by for_weekly_overview")
    return tuple(sorted(set(RULES[kind](case, staffing))))


def for_weekly_overview(deadline: NoticeKind, case: CaseParties, staffing: Staffing) -> tuple[str, ...]:
    """Who sees the deadline of `case` in the weekly overview; `deadline` is the kind of its due-day notice
    (`REVIEW_DUE`, `TRIAGE_DUE`; `PLAN_LATE`, `CONSENT_LATE` for the deadlines that have no due-day notice)."""
    return tuple(sorted(set(UPCOMING_RULES[deadline](case, staffing))))
