"""How a goal is measured, and the values a measurement of it may take. Pure rules.

A goal of the joint plan names its measure (`models.vocabulary.Measure`); its baseline, its target and every
progress-monitoring measurement of it (step 07) keep to that measure's range (docs/domain.md, "A measurement
keeps to its goal's range"):

| measure | range | whole numbers |
|---|---|---|
| `gas` (Goal Attainment Scaling) | -2 .. +2 | yes: -2, -1, 0, +1, +2 |
| `aanwezigheid_pct` (attendance) | 0 .. 100 (per cent) | no |
| `welbevinden` (wellbeing, a mark as at a review) | 1 .. 10 | no (an average of several marks) |
| `anders` (another instrument) | -1000 .. 1000 | no |

The measurement form cannot know the goal's measure before its run: it keeps to the widest range and names
each range in its help text (`FORM_HELP`); the engine refuses what is outside the goal's own range.
"""

from __future__ import annotations

import dataclasses
import math

from models.vocabulary import Measure


@dataclasses.dataclass(frozen=True)
class MeasureRange:
    low: int
    high: int
    whole: bool  # only whole numbers
    words: str  # the measure in Dutch

    def holds(self, value: float) -> bool:
        if not math.isfinite(value) or not self.low <= value <= self.high:
            return False
        return not self.whole or float(value).is_integer()

    def described(self) -> str:
        """`een geheel getal van -2 tot en met +2`, `van 0 tot en met 100`."""
        low, high = (f"{n:+d}" if self.whole and n else str(n) for n in (self.low, self.high))
        return f"{'een geheel getal ' if self.whole else ''}van {low} tot en met {high}"


RANGES: dict[Measure, MeasureRange] = {
    Measure.GAS: MeasureRange(-2, 2, True, "GAS"),
    Measure.ATTENDANCE: MeasureRange(0, 100, False, "aanwezigheid (%)"),
    Measure.WELLBEING: MeasureRange(1, 10, False, "welbevinden"),
    Measure.OTHER: MeasureRange(-1000, 1000, False, "anders"),
}
LOWEST = min(r.low for r in RANGES.values())  # the widest range: the measurement form's own limits
HIGHEST = max(r.high for r in RANGES.values())
FORM_HELP = "Binnen het bereik van de meetwijze van het doel: " + "; ".join(
    f"{r.words}: {r.described().removeprefix('van ')}" for r in RANGES.values()
)


def measure_range(measure: str) -> MeasureRange:
    """The range of a stored measure code; a code this engine does not know gets the widest."""
    try:
        return RANGES[Measure(measure)]
    except ValueError:
        return RANGES[Measure.OTHER]


def measurement_rule(measure: str, goal: int, value: float) -> str | None:
    """The rule a measurement of goal `goal` breaks, in Dutch (for the field `value`); None when it keeps to it."""
    kept = measure_range(measure)
    if kept.holds(value):
        return None
    return f"doel {goal} wordt gemeten met {kept.words}: een meting moet {kept.described()} zijn"


def goal_value_rule(measure: str, value: float) -> str | None:
    """The rule a goal's baseline or target breaks, in Dutch; None when it keeps to its measure's range."""
    kept = measure_range(measure)
    return None if kept.holds(value) else f"bij {kept.words} moet dit {kept.described()} zijn"
