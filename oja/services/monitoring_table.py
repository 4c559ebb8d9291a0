"""What a table for managers is: its key, its true values, and the rows the small-numbers audit lets through.

The keys and the constants every monitoring table shares are here too; the tables themselves are built in
`oja.services.monitoring_schools` (pupil counts per school) and `oja.services.monitoring_region` (region-wide
figures), and released together by `oja.services.monitoring.manager_tables`.
"""

from __future__ import annotations

import dataclasses
from typing import TypeAlias

from models.suppression import HIDDEN, FigureId, Protection

LEVELS = [0, 1, 2, 3, 4]
# Shown where a figure does not apply. None in a published table means hidden (shown as models.suppression
# HIDDEN); a budget is never suppressed, so a missing one must not be None.
NO_BUDGET = "geen budget"
NOT_APPLICABLE = "–"

LEGEND = (
    f"{HIDDEN}: afgeschermd, een aantal van 1 tot 5 leerlingen (op een school of in de regio), een gemiddelde, "
    "percentage of bedrag over zo weinig leerlingen, of een cijfer waaruit zo'n aantal terug te rekenen zou zijn."
)
"""Under every published table (the artifacts and the dossier's pages): what a hidden figure may be."""

CASELOAD = "oja-caseload-per-school"
TIMELINESS = "oja-tijdigheid-per-school"
REVIEWS = "oja-evaluaties-per-school"
DECISIONS = "oja-besluiten"
PROVIDER_MUNICIPALITY = "oja-caseload-aanbieder-gemeente"
OUTCOMES = "oja-uitkomsten"
HOURS_AND_COST = "oja-uren-en-kosten"
GROUPS = "oja-groepsarrangementen"

Value: TypeAlias = str | int | float | None
"""One entry of a table: a label, a figure, or text where a figure does not apply; None in `rows` is hidden."""
Row: TypeAlias = list[Value]
Position: TypeAlias = tuple[int, int]
"""(row, column) in a table's `values` and `rows`."""


@dataclasses.dataclass
class Table:
    """A table for managers. `values` holds the true figures and is never published; `rows` is what may be
    published, set by the audit (None: hidden). A value placed at `figures[(row, column)]` is a figure of the
    release; a non-additive value at `needs[(row, column)]` is shown only when all those figures are; a value
    at a position in `few` is over 1 to 5 pupils (an average, a percentage, money) and is never shown."""

    key: str
    title: str
    columns: list[str]
    values: list[Row]
    figures: dict[Position, FigureId] = dataclasses.field(default_factory=dict)
    needs: dict[Position, tuple[FigureId, ...]] = dataclasses.field(default_factory=dict)
    few: set[Position] = dataclasses.field(default_factory=set)
    rows: list[Row] | None = None

    def publish(self, protection: Protection) -> None:
        rows = [list(row) for row in self.values]
        for (i, j), figure in self.figures.items():
            if not protection.shows(figure):
                rows[i][j] = None
        for (i, j), figures in self.needs.items():
            if not all(protection.shows(f) for f in figures):
                rows[i][j] = None
        for i, j in self.few:
            rows[i][j] = None
        self.rows = rows

    def as_records(self) -> list[dict[str, Value]]:
        if self.rows is None:
            raise RuntimeError(f"{self.key} has not been through the small-numbers audit")
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclasses.dataclass
class Publication:
    """The tables of a day after the audit; the refused ones have no rows and must not be published."""

    tables: list[Table]
    protection: Protection

    @property
    def refused(self) -> list[str]:
        return [t.key for t in self.tables if t.key in self.protection.refused]

    @property
    def publishable(self) -> list[Table]:
        return [t for t in self.tables if t.key not in self.protection.refused]

    def __getitem__(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)
