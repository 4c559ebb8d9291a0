"""The GAS T-scores of reviews (models/gas.py), read from the scores recorded at them, per informant.

The professional scores the goals at a review (`GoalScore`); the pupil and each parent may give their own scores
for it beforehand (`FamilyOpinion`, issue 26), a T of their own once the review is recorded: the pupil's (`PUPIL`)
and the parents' (`PARENTS`: the mean of each parent's T). "Weet ik niet" is no score; a view without any score
gives no T. A plan does not weigh its goals, so every goal weighs the same. An average T over a group of reviews is
a statistic about their pupils: whoever publishes it shows it only over 6 or more distinct pupils (docs/domain.md,
small numbers).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from statistics import fmean

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.family_opinion import informant_t
from models.gas import PROFESSIONAL, t_score
from models.tables import Case, GoalScore, Review
from models.tables_family_opinion import FamilyOpinion, FamilyOpinionScore


@dataclasses.dataclass(frozen=True)
class ReviewT:
    """One review's T-score by one informant."""

    review_id: int
    pupil_id: int
    informant: str
    t: float


@dataclasses.dataclass(frozen=True)
class AverageT:
    """The mean T-score of one informant over reviews, with how many reviews and distinct pupils it is over."""

    informant: str
    mean: float | None  # None: no review scored
    reviews: int
    pupils: int


def review_t_scores(session: Session, *, start: dt.date, end: dt.date | None = None) -> list[ReviewT]:
    """The T-score of every review held from `start` (to `end`, both included) with goals scored, by informant."""
    stmt = (
        select(col(GoalScore.review_id), col(Case.pupil_id), col(GoalScore.goal_id), col(GoalScore.gas))
        .join(Review, col(Review.id) == col(GoalScore.review_id))
        .join(Case, col(Case.id) == col(Review.case_id))
        .where(col(Review.held_on) >= start)
    )
    if end is not None:
        stmt = stmt.where(col(Review.held_on) <= end)
    scores: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for review_id, pupil_id, goal_id, gas in session.exec(stmt).all():
        scores[(review_id, pupil_id)][goal_id] = gas
    found = []
    for (review_id, pupil_id), by_goal in sorted(scores.items()):
        t = t_score(by_goal)  # equal weights: a plan does not weigh its goals
        assert t is not None  # every entry holds a score
        found.append(ReviewT(review_id, pupil_id, PROFESSIONAL, t))
    return sorted(found + _family_t_scores(session, start=start, end=end), key=lambda r: (r.review_id, r.informant))


def _family_t_scores(session: Session, *, start: dt.date, end: dt.date | None) -> list[ReviewT]:
    """The pupil's and the parents' T-scores of the reviews held from `start` (to `end`), from their views."""
    stmt = (
        sa.select(
            col(Review.id),
            col(Case.pupil_id),
            col(FamilyOpinion.party),
            col(FamilyOpinionScore.goal_id),
            col(FamilyOpinionScore.gas),
        )
        .select_from(Review)
        .join(FamilyOpinion, col(FamilyOpinion.review_id) == col(Review.id))
        .join(FamilyOpinionScore, col(FamilyOpinionScore.opinion_id) == col(FamilyOpinion.id))
        .join(Case, col(Case.id) == col(Review.case_id))
        .where(col(Review.held_on) >= start)
    )
    if end is not None:
        stmt = stmt.where(col(Review.held_on) <= end)
    scores: dict[tuple[int, int], dict[str, dict[int, int | None]]] = defaultdict(lambda: defaultdict(dict))
    for review_id, pupil_id, party, goal_id, gas in session.execute(stmt).all():
        scores[(review_id, pupil_id)][party][goal_id] = gas
    return [
        ReviewT(review_id, pupil_id, who, t)
        for (review_id, pupil_id), by_party in sorted(scores.items())
        for who, t in informant_t(by_party).items()
        if t is not None
    ]


def average_t(reviews: list[ReviewT], informant: str) -> AverageT:
    """The mean T-score of `informant` over `reviews` (unrounded: the publisher hides and rounds it)."""
    mine = [r for r in reviews if r.informant == informant]
    mean = fmean(r.t for r in mine) if mine else None
    return AverageT(informant, mean, len(mine), len({r.pupil_id for r in mine}))
