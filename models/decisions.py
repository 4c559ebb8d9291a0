"""Decision support at a review: a recommendation with its reasons, from the data. Pure rules.

The professional decides; the engine recommends, in this order (docs/domain.md,
"Decision rules worth knowing"):

1. a safety concern at this review: escalate to specialised care at once;
2. the plan was not delivered as agreed: fix the delivery before changing anything;
3. with enough measurements against the aim line (progress monitoring), the four-point rule;
4. goals at or above the expected level on two consecutive reviews: scale down, or close when at the
   lowest in-school level or when the goals are met;
5. little or no progress on two consecutive reviews: scale up within school, or escalate when already
   at the highest in-school level or when an earlier scale-up brought no progress;
6. otherwise: continue.

Consecutive reviews are counted on different days (`trend_reviews`): per day only the latest review with scores
counts (a second review on a day replaces the first's scores), and reviews counted in a row lie at least
`min_days_between_reviews` days apart (policy); a review closer to the next one is left out of the trend.

Every recommendation carries its reasons in plain Dutch: which rule, which scores. A plan's planned end within
the warning term (policy), or past, is one more reason, whatever the rule: the decision is also whether the
arrangement ends then or goes on (docs/domain.md, "The planned end").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from enum import StrEnum
from statistics import mean

from models.family_opinion import difference_reason, differences
from models.lifecycle import HIGHEST_IN_SCHOOL, LOWEST_IN_SCHOOL
from models.vocabulary import ChangeReason, DecisionKind, EndReason


class RecommendationRule(StrEnum):
    """Which rule gave a recommendation (`decision.recommendation_rule`), in the order they are tried."""

    SAFETY = "veiligheid"  # a safety concern at this review
    DELIVERY = "uitvoering"  # the plan was not delivered as agreed
    FOUR_POINT_BELOW = "vierpunt_onder"  # the last four measurements of a goal below its aim line
    FOUR_POINT_ABOVE = "vierpunt_boven"  # the last four measurements of every measured goal above it
    NO_SCORES = "geen_scores"  # no GAS scores at this review
    FIRST_REVIEW = "eerste_evaluatie"  # not yet enough consecutive reviews with scores
    ON_TRACK = "op_koers"  # every goal at or above the expected level on consecutive reviews
    NO_PROGRESS = "geen_vooruitgang"  # little or no progress on consecutive reviews
    PARTIAL = "gedeeltelijk"  # otherwise: partial progress


@dataclasses.dataclass(frozen=True)
class DecisionPolicy:
    on_track_from: float = 0.0  # every scored goal at least this GAS: at or above the expected level
    no_progress_up_to: float = -1.0  # mean GAS at most this: little or no progress
    goals_met_from: float = 1.0  # every goal at least this GAS at the last review: goals met
    consecutive_reviews: int = 2
    min_days_between_reviews: int = 14  # reviews counted in a row for a trend are at least this many days apart
    min_measurements: int = 6  # the four-point rule needs at least this many data points
    four_points: int = 4
    planned_end_warning_school_days: int = 10  # a planned end this close (or past) is named among the reasons


@dataclasses.dataclass(frozen=True)
class PlannedEnd:
    """The current plan's planned end as seen at the review: the day, and school days to it (negative: past)."""

    on: dt.date
    school_days_left: int


@dataclasses.dataclass(frozen=True)
class ReviewFacts:
    held_on: dt.date
    gas: dict[int, int]  # goal number -> GAS score; goals without a score are left out
    safety_concern: bool = False
    delivered_as_planned: bool = True


@dataclasses.dataclass(frozen=True)
class GoalSeries:
    """Repeated measurements of one goal against its aim line (from baseline at the start to target at the end)."""

    goal: int
    baseline: float
    target: float
    start: dt.date
    end: dt.date
    points: tuple[tuple[dt.date, float], ...]
    higher_is_better: bool = True

    def aim(self, on: dt.date) -> float:
        span = max((self.end - self.start).days, 1)
        return self.baseline + (self.target - self.baseline) * (on - self.start).days / span


@dataclasses.dataclass(frozen=True)
class Recommendation:
    kind: DecisionKind
    rule: RecommendationRule
    reasons: tuple[str, ...]  # plain Dutch
    new_level: int | None = None
    reason_code: str | None = None  # iJw vocabulary for close and scale decisions

    def as_text(self) -> str:
        return " ".join(self.reasons)


def _scores(review: ReviewFacts) -> str:
    if not review.gas:
        return "geen scores"
    return ", ".join(f"doel {g}: {s:+d}" for g, s in sorted(review.gas.items()))


# a four-point verdict in the words of a reason (the verdicts themselves are codes of this module)
FOUR_POINT_WORDS = {"below": "onder de doellijn", "above": "boven de doellijn", "mixed": "wisselend rond de doellijn"}


def four_point(series: GoalSeries, policy: DecisionPolicy) -> str | None:
    """'below', 'above' or 'mixed' for the last four points against the aim line; None with too few points."""
    if len(series.points) < policy.min_measurements:
        return None
    last = sorted(series.points)[-policy.four_points :]
    sign = 1 if series.higher_is_better else -1
    above = [sign * (value - series.aim(day)) > 0 for day, value in last]
    below = [sign * (value - series.aim(day)) < 0 for day, value in last]
    if all(below):
        return "below"
    if all(above):
        return "above"
    return "mixed"


def trend_reviews(reviews: Sequence[ReviewFacts], policy: DecisionPolicy) -> tuple[list[int], dict[int, str]]:
    """Which reviews (indexes into `reviews`, oldest first) count for a trend, and why each other scored review
    does not (in Dutch, by index): per day only the latest scored review counts, and going back from the latest,
    each counted review is the latest held at least `min_days_between_reviews` days before the one after it."""
    latest: dict[dt.date, int] = {}
    for i, r in enumerate(reviews):
        if r.gas:
            latest[r.held_on] = i
    counted: list[int] = []
    left_out: dict[int, str] = {}
    gap = policy.min_days_between_reviews
    for day in sorted(latest, reverse=True):
        i = latest[day]
        after = reviews[counted[-1]].held_on if counted else None
        if after is None or (after - day).days >= gap:
            counted.append(i)
        else:
            left_out[i] = f"minder dan {gap} dagen voor de evaluatie van {after.isoformat()}"
    for i, r in enumerate(reviews):
        if r.gas and latest[r.held_on] != i:
            left_out[i] = "een latere evaluatie op dezelfde dag telt"
    return counted[::-1], left_out


def _left_out(reviews: Sequence[ReviewFacts], left_out: dict[int, str], since: dt.date | None) -> tuple[str, ...]:
    """The reviews left out of the trend (from `since`), as one reason; none when every review counted."""
    named = [
        f"{reviews[i].held_on.isoformat()} ({why})"
        for i, why in sorted(left_out.items())
        if since is None or reviews[i].held_on >= since
    ]
    return (f"Niet meegeteld: {'; '.join(named)}.",) if named else ()


def recommend(
    *,
    level: int,
    reviews: list[ReviewFacts],
    series: Sequence[GoalSeries] = (),
    scaled_up_on: dt.date | None = None,
    goal_count: int | None = None,
    policy: DecisionPolicy = DecisionPolicy(),
    planned_end: PlannedEnd | None = None,
    family: Mapping[str, Mapping[int, int | None]] | None = None,
) -> Recommendation:
    """The recommendation at the latest review in `reviews` (oldest first) for a case at `level` (1-3); a
    planned end within the warning term (or past) is named among its reasons, and so is every goal where the
    pupil's or a parent's own score for this review (`family`: by party, by goal; None "weet ik niet") differs from
    the professional's by 2 or more (`models.family_opinion`): in numbers only, never the family's words."""
    rec = _recommend(
        level=level, reviews=reviews, series=series, scaled_up_on=scaled_up_on, goal_count=goal_count, policy=policy
    )
    said = _planned_end_reason(planned_end, policy)
    latest = reviews[-1].gas if reviews else {}
    apart = tuple(difference_reason(d) for d in differences(latest, family or {}))
    return dataclasses.replace(rec, reasons=(*rec.reasons, *(() if said is None else (said,)), *apart))


def _planned_end_reason(end: PlannedEnd | None, policy: DecisionPolicy) -> str | None:
    if end is None or end.school_days_left > policy.planned_end_warning_school_days:
        return None
    day, n = end.on.isoformat(), abs(end.school_days_left)
    days = "1 schooldag" if n == 1 else f"{n} schooldagen"
    if end.school_days_left > 0:
        when = f"De geplande einddatum is {day}, over {days}"
    elif end.school_days_left == 0:
        when = f"De geplande einddatum is vandaag ({day})"
    else:
        when = f"De geplande einddatum ({day}) is {days} voorbij"
    return f"{when}: besluit ook of het arrangement dan stopt (afsluiten of verlengen met een nieuw plan)."


def _recommend(
    *,
    level: int,
    reviews: list[ReviewFacts],
    series: Sequence[GoalSeries],
    scaled_up_on: dt.date | None,
    goal_count: int | None,
    policy: DecisionPolicy,
) -> Recommendation:
    if not reviews:
        raise ValueError("a recommendation needs at least the review just held")
    current = reviews[-1]
    day = current.held_on.isoformat()

    if current.safety_concern:
        return Recommendation(
            DecisionKind.ESCALATE,
            RecommendationRule.SAFETY,
            (
                f"Bij de evaluatie van {day} is een zorg over de veiligheid gemeld: direct opschalen naar "
                "specialistische zorg (regel: veiligheid gaat voor).",
            ),
        )
    if not current.delivered_as_planned:
        return Recommendation(
            DecisionKind.CONTINUE,
            RecommendationRule.DELIVERY,
            (
                f"Het plan is volgens de evaluatie van {day} niet uitgevoerd zoals afgesproken: eerst de uitvoering "
                "herstellen, dan pas op- of afschalen (regel: controleer de uitvoering voordat je verandert).",
            ),
        )

    found = {s.goal: four_point(s, policy) for s in series}
    verdicts = {g: v for g, v in found.items() if v is not None}
    if verdicts:
        listed = ", ".join(f"doel {g}: {FOUR_POINT_WORDS[v]}" for g, v in sorted(verdicts.items()))
        if any(v == "below" for v in verdicts.values()):
            return _up(
                level,
                RecommendationRule.FOUR_POINT_BELOW,
                (f"Vierpuntsregel: de laatste {policy.four_points} metingen liggen onder de doellijn ({listed}).",),
                scaled_up_on,
                reviews,
            )
        if all(v == "above" for v in verdicts.values()):
            return _down(
                level,
                RecommendationRule.FOUR_POINT_ABOVE,
                (
                    f"Vierpuntsregel: de laatste {policy.four_points} metingen liggen boven de doellijn ({listed}): "
                    "doel verhogen of afschalen.",
                ),
                goals_met=False,
            )

    counted, left_out = trend_reviews(reviews, policy)
    if not current.gas and len(counted) >= policy.consecutive_reviews:
        return Recommendation(
            DecisionKind.CONTINUE,
            RecommendationRule.NO_SCORES,
            (
                f"Bij de evaluatie van {day} zijn geen GAS-scores gegeven: zonder scores van deze evaluatie "
                "geen op- of afschaling; voortzetten en de scores aanvullen.",
            ),
        )
    apart = f"minstens {policy.min_days_between_reviews} dagen uit elkaar"
    recent = [reviews[i] for i in counted[-policy.consecutive_reviews :]]
    if len(recent) < policy.consecutive_reviews:
        scored = "nog geen GAS-scores" if not current.gas else f"scores {_scores(current)}"
        return Recommendation(
            DecisionKind.CONTINUE,
            RecommendationRule.FIRST_REVIEW,
            (
                f"Nog geen {policy.consecutive_reviews} opeenvolgende evaluaties met GAS-scores op verschillende "
                f"dagen, {apart} ({scored}): voortzetten en bij de volgende evaluatie opnieuw bekijken.",
                *_left_out(reviews, left_out, None),
            ),
        )
    listing = "; ".join(f"{r.held_on.isoformat()}: {_scores(r)}" for r in recent)
    skipped = _left_out(reviews, left_out, recent[0].held_on)
    if all(min(r.gas.values()) >= policy.on_track_from for r in recent):
        met = (goal_count is None or len(current.gas) >= goal_count) and min(
            current.gas.values()
        ) >= policy.goals_met_from
        return _down(
            level,
            RecommendationRule.ON_TRACK,
            (
                f"Alle doelen op of boven het verwachte niveau bij {len(recent)} opeenvolgende evaluaties, {apart} "
                f"({listing}).",
                *skipped,
            ),
            goals_met=met,
        )
    if all(mean(r.gas.values()) <= policy.no_progress_up_to for r in recent):
        return _up(
            level,
            RecommendationRule.NO_PROGRESS,
            (f"Weinig of geen vooruitgang bij {len(recent)} opeenvolgende evaluaties, {apart} ({listing}).", *skipped),
            scaled_up_on,
            recent,
        )
    return Recommendation(
        DecisionKind.CONTINUE,
        RecommendationRule.PARTIAL,
        (f"Gedeeltelijke vooruitgang ({listing}): voortzetten, eventueel het plan bijstellen.", *skipped),
    )


def _up(
    level: int,
    rule: RecommendationRule,
    reasons: tuple[str, ...],
    scaled_up_on: dt.date | None,
    window: list[ReviewFacts],
) -> Recommendation:
    if level >= HIGHEST_IN_SCHOOL:
        return Recommendation(
            DecisionKind.ESCALATE,
            rule,
            (
                *reasons,
                f"Niveau {level} is het hoogste op school: opschalen naar specialistische zorg.",
            ),
        )
    if (
        scaled_up_on is not None
        and scaled_up_on <= window[-1].held_on
        and (len(window) < 2 or scaled_up_on >= window[0].held_on)
    ):
        return Recommendation(
            DecisionKind.ESCALATE,
            rule,
            (
                *reasons,
                f"De opschaling van {scaled_up_on.isoformat()} bracht geen vooruitgang: "
                "opschalen naar specialistische zorg.",
            ),
        )
    return Recommendation(
        DecisionKind.SCALE_UP,
        rule,
        (
            *reasons,
            f"Opschalen op school van niveau {level} naar {level + 1}, met een nieuw plan en afgesproken exitcriteria.",
        ),
        new_level=level + 1,
        reason_code=ChangeReason.EXTENSION.value,
    )


def _down(level: int, rule: RecommendationRule, reasons: tuple[str, ...], *, goals_met: bool) -> Recommendation:
    if goals_met:
        return Recommendation(
            DecisionKind.CLOSE,
            rule,
            (*reasons, "De doelen zijn bereikt: afsluiten."),
            reason_code=EndReason.AS_PLANNED.value,
        )
    if level <= LOWEST_IN_SCHOOL:
        return Recommendation(
            DecisionKind.CLOSE,
            rule,
            (
                *reasons,
                f"Niveau {level} is het laagste op school: afsluiten naar de basisondersteuning.",
            ),
            reason_code=EndReason.BASIC_SUPPORT.value,
        )
    return Recommendation(
        DecisionKind.SCALE_DOWN,
        rule,
        (
            *reasons,
            f"Afschalen van niveau {level} naar {level - 1}.",
        ),
        new_level=level - 1,
        reason_code=ChangeReason.SHORTENING.value,
    )
