"""Small numbers: no published figure reveals a group of 1 to 5 pupils at school level, and an audit proves it.

Plain Python, no Prefect and no database.

Words
- A *cell* is a true pupil count that is not split any further (school x level, a group's members). All
  a reader knows about a cell beforehand is that it is a whole number, at least 0, and at most its a
  priori maximum where there is one (a group cannot hold more pupils than its places).
- A *figure* is a published number that is the sum of cells: an interior cell, a row or column total, a
  grand total, a region total published in another table. Figures with the same cells are one figure
  wherever they are published (a school's total in two tables, a one-school region's column total and
  that school's cell): they are hidden together, and if one of them must be shown (a region-wide figure)
  all of them are.
- A *release* is everything published together: the eight monitoring tables, or one period of the
  evaluation report, plus what a reader knows about how their cells relate (active cases are a subset
  of open ones).

Protection rule (τ-ARGUS and sdcTable use the same audit). For every hidden figure the audit computes
the smallest and largest value it can have given everything shown, by linear programming. A hidden
figure of 1 to 5 pupils is protected when that range reaches at least MARGIN below its true value
(clipped at 0) and MARGIN above it (clipped at its a priori maximum). A hidden figure of 6 or more only
has to stay unrecoverable (largest > smallest). A protected figure of 1 to 5 may never be shown: every pupil
count is protected, about a school or region-wide (a count of 1 to 5 in the whole region reveals them as much).
Zeros are shown (a zero is not a group) and the audit counts them as known.

Where it is done (this module is the one to import from):
- models/suppression_release.py: the release (cells, figures, relations, grids), the rule, and the
  release as it will be published (`Protection`);
- models/suppression_audit.py: the audit, one HiGHS linear programme per connected part of a release;
- models/suppression_protect.py: primary and secondary suppression (`protect`), the greedy step of
  classical cell suppression that the audit checks after every step.

Non-additive figures (medians, percentiles, averages) are not sums of cells, so the linear programme
cannot bound them. They are published only beside the count they describe when that count is shown and
6 or more, and hidden with it otherwise, at school level and region-wide alike; over 1 to 5 distinct pupils
they are hidden whatever the count (a count of cases or of measurements can be larger than the pupils it is
about). A percentage is modelled as the count it reveals (a share within the norm, with its total, reveals
the pupils within and outside the norm). Money and hours over 1 to 5 pupils are their hours: hidden too.
oja/services/monitoring.py and oja/services/report.py say per table how.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from models.errors import DisclosureError
from models.suppression_audit import audit
from models.suppression_protect import protect
from models.suppression_release import (
    INF,
    MARGIN,
    THRESHOLD,
    TOTAL,
    Cell,
    Figure,
    FigureId,
    Grid,
    Leak,
    Protection,
    Release,
    is_protected,
    is_small,
)

__all__ = [
    "HIDDEN",
    "INF",
    "MARGIN",
    "THRESHOLD",
    "TOTAL",
    "Cell",
    "Figure",
    "FigureId",
    "Grid",
    "Leak",
    "Protection",
    "Release",
    "audit",
    "is_protected",
    "is_small",
    "protect",
    "shown",
    "suppress",
    "suppress_total",
]

HIDDEN = "×"  # how every hidden figure reads, whatever its value: a label must not tell a reader its range


def suppress(
    counts: Mapping[tuple[Hashable, Hashable], int], rows: list[Hashable], cols: list[Hashable]
) -> dict[tuple[Hashable, Hashable], int | None]:
    """The interior of a rows x cols table published with its row, column and grand totals (None: hidden).

    Everything in it counts as school level; use Release.add_grid and protect() for the totals too."""
    release = Release()
    release.add_grid("tabel", rows, cols, counts)
    result = protect(release)
    if not result.ok:  # cannot happen without region-wide figures; never hand out a leaking table
        raise DisclosureError(["tabel"])
    return {(r, c): result.value(("tabel", r, c)) for r in rows for c in cols}


def suppress_total(n: int) -> int | None:
    """A single figure about `n` pupils that no total or other table involves: hidden when 1 to 5."""
    return None if is_small(n) else n


def shown(value: int | float | None) -> str:
    """How a figure appears in a report: every hidden one the same way, whatever its value."""
    if value is None:
        return HIDDEN
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
