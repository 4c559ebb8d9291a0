"""The GAS T-scores of reviews (models/gas.py), read from the scores recorded at them, per informant.

Today only the professional scores the goals at a review (`GoalScore`); a plan does not weigh its goals, so
every goal weighs the same. An average T over a group of reviews is a statistic about their pupils: whoever
publishes it shows it only over 6 or more distinct pupils (docs/domain.md, small numbers).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from statistics import fmean

from sqlmodel import Session, col, select

from models.gas import PROFESSIONAL, t_score
from models.tables import Case, GoalScore, Review


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
    return found


def average_t(reviews: list[ReviewT], informant: str) -> AverageT:
    """The mean T-score of `informant` over `reviews` (unrounded: the publisher hides and rounds it)."""
    mine = [r for r in reviews if r.informant == informant]
    mean = fmean(r.t for r in mine) if mine else None
    return AverageT(informant, mean, len(mine), len({r.pupil_id for r in mine}))
