"""The Goal Attainment Scaling T-score of one review (Kiresuk and Sherman, 1968).

    T = 50 + 10·Σwᵢxᵢ / √((1−ρ)·Σwᵢ² + ρ·(Σwᵢ)²)

over the goals scored at the review: xᵢ the score of goal i (-2..+2), wᵢ its weight, ρ the assumed
correlation between the goals' scores (0.3, as Kiresuk and Sherman propose). T = 50 means the expected outcome
was reached on average; the standard deviation is 10, so +2 on every goal of one plan gives well over 70.

Any informant's scores go in: the professional's at the review (`PROFESSIONAL`), and the family's own view for
that review (issue 26): the pupil's (`PUPIL`) and the parents' (`PARENTS`), each with a T of its own, never mixed.
"Weet ik niet" is no score: the T is over the goals the informant scored. A plan does not
weigh its goals (yet): the weights default to equal. Plain Python, no database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

RHO = 0.3
"""The assumed correlation between the goal scores of one review (Kiresuk and Sherman)."""
LOWEST, HIGHEST = -2, 2

PROFESSIONAL = "professional"
"""The professional's GAS scores recorded at the review."""
PUPIL = "pupil"
"""The pupil's own scores in their view for the review (models.family_opinion)."""
PARENTS = "parents"
"""The parents' own scores: a review's parents' T is the mean of each parent's T."""
INFORMANTS = (PROFESSIONAL, PUPIL, PARENTS)
"""The informants a T-score is shown for, each apart (a column or row each)."""


def t_score(scores: Mapping[int, int], weights: Mapping[int, float] | None = None, rho: float = RHO) -> float | None:
    """The T-score of one informant's GAS scores at one review, by goal; None when no goal was scored.

    `weights` by goal (every scored goal needs one, all positive); None: equal weights. Raises ValueError on a
    score outside -2..+2, a missing or non-positive weight, or ρ outside [0, 1)."""
    if not 0 <= rho < 1:
        raise ValueError(f"rho must be in [0, 1), not {rho}")
    if not scores:
        return None
    for goal, x in scores.items():
        if not LOWEST <= x <= HIGHEST:
            raise ValueError(f"GAS score of goal {goal} must be -2..+2, not {x}")
    w = {goal: 1.0 for goal in scores} if weights is None else {goal: weights.get(goal, 0.0) for goal in scores}
    if any(not v > 0 for v in w.values()):
        raise ValueError("every scored goal needs a positive weight")
    weighted = sum(w[goal] * x for goal, x in scores.items())
    spread = math.sqrt((1 - rho) * sum(v * v for v in w.values()) + rho * sum(w.values()) ** 2)
    return 50 + 10 * weighted / spread


def shown_t(value: float | None) -> float | None:
    """A T-score as shown: one decimal."""
    return None if value is None else round(value, 1)
