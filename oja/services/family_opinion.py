"""The family's own view at every review (issue 26, hoorrecht; rules in `models.family_opinion`).

    opinion_page(...)     what the family's page shows: the review's due date, the goals in words, their view so
                          far (None: the window is not open, or there is no case, plan or review to come)
    give_opinion(...)     store (or change) the party's view for the coming review, until the review is recorded
    attach_to_review(...) at `record_review`: the views for the review's due date point at the review, and change
                          no more
    family_scores(...)    a review's family scores by party and goal number (the recommendation, the case page)
    family_words(...)     the family's own words for a review (the case page, for people in scope only)

Who may give a view is the caller's check (`family_security.serve_family`, `models.family`). Nothing here writes
the access log; the texts never leave the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping

from sqlmodel import Session, col, select

from models import family_opinion as rules
from models.errors import InvalidInput
from models.lifecycle import CaseState
from models.schooldays import SchoolDayIndex
from models.tables import Case, Goal, Plan
from models.tables_family_opinion import FamilyOpinion, FamilyOpinionScore
from oja.config import Policy
from oja.services.kernel import case_calendar
from oja.services.reads import episode_plan

CLOSED = "u kunt uw mening nu niet geven: er is geen evaluatie op komst, of die is al vastgelegd"


@dataclasses.dataclass(frozen=True)
class OpinionGoal:
    number: int
    domain: str  # models.vocabulary.Domain
    description: str | None  # the goal in words, as the plan page shows it
    score: int | None  # the party's score so far (None: none, or "weet ik niet": see `unknown`)
    unknown: bool = False  # "weet ik niet" chosen


@dataclasses.dataclass(frozen=True)
class OpinionPage:
    case_ref: str
    due_on: dt.date  # the review's due date
    goals: tuple[OpinionGoal, ...]
    going_well: str | None = None
    to_change: str | None = None
    given_at: dt.datetime | None = None  # None: not given yet


def school_days_left(session: Session, case: Case, today: dt.date) -> int | None:
    """School days from `today` to the case's next review (negative: overdue); None without one."""
    due = case.next_review_on
    if due is None:
        return None
    index = SchoolDayIndex(case_calendar(session, case), min(today, due), max(today, due))
    return index.between(today, due)


def open_review(session: Session, case: Case | None, today: dt.date, policy: Policy) -> tuple[Plan, dt.date] | None:
    """The plan and due date of the review a view may be given for today, or None: an active case whose next
    review is `family_view_school_days` school days away or less (or overdue and not yet recorded)."""
    if case is None or case.state != CaseState.ACTIVE.value or case.next_review_on is None:
        return None
    plan = episode_plan(session, case)
    left = school_days_left(session, case, today)
    if plan is None or left is None or not rules.is_open(left, open_days=policy.family_view_school_days):
        return None
    return plan, case.next_review_on


def _goals(session: Session, plan: Plan) -> list[Goal]:
    return list(session.exec(select(Goal).where(Goal.plan_id == plan.id).order_by(col(Goal.number))).all())


def _opinion(session: Session, case: Case, due_on: dt.date, party: str) -> FamilyOpinion | None:
    return session.exec(
        select(FamilyOpinion).where(
            FamilyOpinion.case_id == case.id, FamilyOpinion.due_on == due_on, FamilyOpinion.party == party
        )
    ).first()


def opinion_page(session: Session, case: Case | None, party: str, today: dt.date, policy: Policy) -> OpinionPage | None:
    """The page for `party` of the case's pupil, or None when no view can be given today."""
    found = open_review(session, case, today, policy)
    if found is None or case is None or case.ref is None:
        return None
    plan, due_on = found
    mine = _opinion(session, case, due_on, party)
    scores: dict[int, int | None] = {}
    if mine is not None:
        scores = {
            s.goal_id: s.gas
            for s in session.exec(select(FamilyOpinionScore).where(FamilyOpinionScore.opinion_id == mine.id))
        }
    goals = tuple(
        OpinionGoal(g.number, g.domain, g.description, scores.get(g.id or 0), g.id in scores and scores[g.id] is None)
        for g in _goals(session, plan)
    )
    if mine is None:
        return OpinionPage(case.ref, due_on, goals)
    return OpinionPage(case.ref, due_on, goals, mine.going_well, mine.to_change, mine.changed_at)


def give_opinion(
    session: Session,
    case: Case | None,
    party: str,
    form: Mapping[str, str],
    *,
    today: dt.date,
    now: dt.datetime,
    policy: Policy,
) -> FamilyOpinion:
    """Store the party's view for the coming review, or change it. Refused: no review to give a view for (or
    it is recorded: `InvalidInput` on `mening`), a wrong form (every wrong field at once)."""
    found = open_review(session, case, today, policy)
    if found is None or case is None:
        raise InvalidInput("mening", CLOSED)
    plan, due_on = found
    goals = _goals(session, plan)
    checked = rules.check_form([g.number for g in goals], form)
    mine = _opinion(session, case, due_on, party)
    if mine is not None and mine.review_id is not None:
        raise InvalidInput("mening", CLOSED)
    if mine is None:
        mine = FamilyOpinion(case_id=case.id or 0, plan_id=plan.id or 0, party=party, due_on=due_on, submitted_at=now)
    mine.plan_id = plan.id or 0
    mine.going_well, mine.to_change, mine.changed_at = checked.going_well, checked.to_change, now
    session.add(mine)
    session.flush()
    for old in session.exec(select(FamilyOpinionScore).where(FamilyOpinionScore.opinion_id == mine.id)).all():
        session.delete(old)
    session.flush()
    for g in goals:
        session.add(FamilyOpinionScore(opinion_id=mine.id or 0, goal_id=g.id or 0, gas=checked.scores[g.number]))
    return mine


def attach_to_review(session: Session, case: Case, review_id: int) -> None:
    """The views for the case's coming review point at the review just recorded: they change no more."""
    if case.next_review_on is None:
        return
    for opinion in session.exec(
        select(FamilyOpinion).where(
            FamilyOpinion.case_id == case.id,
            FamilyOpinion.due_on == case.next_review_on,
            col(FamilyOpinion.review_id).is_(None),
        )
    ).all():
        opinion.review_id = review_id
        session.add(opinion)


def family_scores(session: Session, review_ids: list[int]) -> dict[int, dict[str, dict[int, int | None]]]:
    """By review, by party, by goal number: the family's scores given for each review (None: "weet ik niet")."""
    if not review_ids:
        return {}
    stmt = (
        select(col(FamilyOpinion.review_id), col(FamilyOpinion.party), col(Goal.number), col(FamilyOpinionScore.gas))
        .join(FamilyOpinionScore, col(FamilyOpinionScore.opinion_id) == col(FamilyOpinion.id))
        .join(Goal, col(Goal.id) == col(FamilyOpinionScore.goal_id))
        .where(col(FamilyOpinion.review_id).in_(review_ids))
    )
    found: dict[int, dict[str, dict[int, int | None]]] = defaultdict(lambda: defaultdict(dict))
    for review_id, party, number, gas in session.exec(stmt).all():
        found[review_id or 0][party][number] = gas
    return {r: dict(by_party) for r, by_party in found.items()}


@dataclasses.dataclass(frozen=True)
class FamilyWords:
    party: str
    due_on: dt.date
    going_well: str | None
    to_change: str | None
    review_id: int | None


def family_words(session: Session, case: Case) -> list[FamilyWords]:
    """Every view's words for the case, newest review first (the case page shows them to people in scope)."""
    stmt = (
        select(FamilyOpinion)
        .where(FamilyOpinion.case_id == case.id)
        .order_by(col(FamilyOpinion.due_on).desc(), col(FamilyOpinion.party))
    )
    return [FamilyWords(o.party, o.due_on, o.going_well, o.to_change, o.review_id) for o in session.exec(stmt).all()]
