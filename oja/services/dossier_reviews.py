"""The reviews on the dossier's case page: the professional's GAS scores per goal, and beside them the pupil's and
the parents' own scores for the same review (issue 26, hoorrecht), each informant's T-score (`models.gas`), and the
family's views with their words. Only the case page reads this, after its access check (`dossier_case.case_view`):
the family's words are for the people with the case in scope, and every view of the page is logged."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

from sqlmodel import Session, col, select

from models.family_opinion import differences, informant_t
from models.gas import PROFESSIONAL, shown_t, t_score
from models.tables import Case, Goal, GoalScore, Review
from models.tables_family_opinion import FamilyOpinion, FamilyOpinionScore
from oja.services.family_opinion import family_scores


@dataclasses.dataclass(frozen=True)
class GasScore:
    goal_number: int
    gas: int  # -2..+2


@dataclasses.dataclass(frozen=True)
class ReviewView:
    held_on: dt.date
    recorded_by: str
    attendance_pct: int | None
    wellbeing: int | None
    satisfaction: int | None
    pupil_view: str | None  # models.vocabulary.View
    parent_view: str | None
    safety_concern: bool
    delivered_as_planned: bool
    scores: tuple[GasScore, ...]  # by goal number (of the plan version reviewed)
    # the GAS T-score (models/gas.py) by informant (models.gas.INFORMANTS), one decimal; None: no goal scored
    t_scores: dict[str, float | None] = dataclasses.field(default_factory=dict)
    # the family's own scores for this review: by party, by goal number (None: "weet ik niet")
    family: dict[str, dict[int, int | None]] = dataclasses.field(default_factory=dict)
    # (party, goal number) where the family's score is 2 or more from the professional's: to discuss
    apart: frozenset[tuple[str, int]] = frozenset()


@dataclasses.dataclass(frozen=True)
class FamilyViewLine:
    """One party's view for one review: its scores, its words, and whether the review has been recorded."""

    party: str  # ouder_1, ouder_2, leerling
    due_on: dt.date
    scores: tuple[tuple[int, int | None], ...]  # (goal number, score or None for "weet ik niet")
    going_well: str | None
    to_change: str | None
    changed_at: dt.datetime
    recorded: bool  # the review is recorded: the view no longer changes


def reviews(session: Session, case: Case) -> tuple[ReviewView, ...]:
    found = session.exec(
        select(Review).where(Review.case_id == case.id).order_by(col(Review.held_on), col(Review.id))
    ).all()
    scores: dict[int | None, list[GasScore]] = defaultdict(list)
    stmt = (
        select(GoalScore.review_id, Goal.number, GoalScore.gas)
        .join(Goal, col(Goal.id) == col(GoalScore.goal_id))
        .where(col(GoalScore.review_id).in_([r.id for r in found]))
        .order_by(col(Goal.number))
    )
    for review_id, number, gas in session.exec(stmt).all():
        scores[review_id].append(GasScore(number, gas))
    family = family_scores(session, [r.id for r in found if r.id is not None])
    return tuple(
        ReviewView(
            held_on=r.held_on,
            recorded_by=r.recorded_by,
            attendance_pct=r.attendance_pct,
            wellbeing=r.wellbeing,
            satisfaction=r.satisfaction,
            pupil_view=r.pupil_view,
            parent_view=r.parent_view,
            safety_concern=r.safety_concern,
            delivered_as_planned=r.delivered_as_planned,
            scores=tuple(scores[r.id]),
            # each informant apart, every goal weighing the same (a plan does not weigh its goals)
            t_scores={
                PROFESSIONAL: shown_t(t_score({s.goal_number: s.gas for s in scores[r.id]})),
                **{who: shown_t(t) for who, t in informant_t(family.get(r.id or 0, {})).items()},
            },
            family=family.get(r.id or 0, {}),
            apart=frozenset(
                (d.party, d.goal)
                for d in differences({s.goal_number: s.gas for s in scores[r.id]}, family.get(r.id or 0, {}))
            ),
        )
        for r in found
    )


def family_views(session: Session, case: Case) -> tuple[FamilyViewLine, ...]:
    """Every view given for the case, the newest review first, the pupil before the parents."""
    opinions = session.exec(select(FamilyOpinion).where(FamilyOpinion.case_id == case.id)).all()
    stmt = (
        select(FamilyOpinionScore.opinion_id, Goal.number, FamilyOpinionScore.gas)
        .join(Goal, col(Goal.id) == col(FamilyOpinionScore.goal_id))
        .where(col(FamilyOpinionScore.opinion_id).in_([o.id for o in opinions]))
        .order_by(col(Goal.number))
    )
    by_opinion: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for opinion_id, number, gas in session.exec(stmt).all():
        by_opinion[opinion_id].append((number, gas))
    lines = [
        FamilyViewLine(
            o.party,
            o.due_on,
            tuple(by_opinion[o.id or 0]),
            o.going_well,
            o.to_change,
            o.changed_at,
            o.review_id is not None,
        )
        for o in opinions
    ]
    lines.sort(key=lambda v: (-v.due_on.toordinal(), v.party != "leerling", v.party))
    return tuple(lines)
