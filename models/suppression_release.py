"""A release for the small-numbers audit: its cells, figures and relations, the protection rule, and the
release as it will be published (`Protection`). The words and the rule are explained in models/suppression.py.

Plain Python, no Prefect, no database and no solver.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

THRESHOLD = 5  # a group of 1 to THRESHOLD pupils must not be revealed
MARGIN = 3  # how far a hidden small figure's feasible range must reach on both sides of its true value
TOTAL = "totaal"
INF = math.inf
EPS = 1e-6  # what the linear programmes' floating point may be off by

Cell = Hashable
FigureId = Hashable


def is_small(value: int) -> bool:
    return 1 <= value <= THRESHOLD


def is_protected(value: int, lower: float, upper: float, maximum: float = INF, floor: int = 0) -> bool:
    """The protection rule for a hidden figure with true `value` and feasible range [lower, upper].

    `floor` is the least a reader knows the figure holds from the marks alone: 1 for a published hidden
    figure (zeros are shown, so a hidden figure is not 0), the number of hidden cells under a hidden total,
    0 for a figure no table shows."""
    if value == 0:
        return True  # a zero is not a group
    if is_small(value):
        return lower <= max(floor, value - MARGIN) and upper >= min(value + MARGIN, maximum)
    return upper > lower


@dataclasses.dataclass(frozen=True)
class Figure:
    """A number in a published table: the sum of `cells`."""

    id: FigureId
    table: str  # the artifact key of the table it is published in
    cells: frozenset[Cell]
    value: int
    protected: bool = True  # a pupil count (about a school or region-wide): the rule applies
    fixed: bool = False  # always shown, never suppressed (but the audit knows it); a leak it causes refuses the table
    published: bool = True  # False: no table shows it, but it follows from figures that are shown
    total: bool = False  # a total: secondary suppression prefers interior cells
    maximum: float = INF  # what a reader knows beforehand about its largest value


@dataclasses.dataclass(frozen=True)
class Relation:
    """What a reader knows about cells apart from the tables: lower <= sum(coefficient * cell) <= upper."""

    terms: tuple[tuple[Cell, float], ...]
    lower: float = -INF
    upper: float = INF


@dataclasses.dataclass(frozen=True)
class Leak:
    """A figure the published release gives away: its true value and the range a reader can narrow it to."""

    figure: Figure
    lower: int
    upper: float
    shown: bool = False  # a figure of 1 to 5 that is shown outright

    def __str__(self) -> str:  # for tests and people with access to the data, never for a run's message
        upper = "∞" if self.upper == INF else str(int(self.upper))
        how = "shown" if self.shown else f"hidden, but lies in [{self.lower}, {upper}]"
        return f"{self.figure.table} {self.figure.id!r}: {self.figure.value} pupils, {how}"


class Release:
    """Every figure published together, in terms of the cells (true pupil counts) they sum."""

    def __init__(self) -> None:
        self.values: dict[Cell, int] = {}
        self.maxima: dict[Cell, float] = {}
        self.figures: dict[FigureId, Figure] = {}
        self.relations: list[Relation] = []

    def add_cell(self, cell: Cell, value: int, *, maximum: float | None = None) -> None:
        if value < 0 or int(value) != value:
            raise ValueError(f"a cell is a count of pupils, not {value!r}")
        if cell in self.values and self.values[cell] != value:
            raise ValueError(f"cell {cell!r} added twice with different values")
        self.values[cell] = int(value)
        if maximum is not None:
            self.maxima[cell] = maximum

    def add_figure(
        self,
        id: FigureId,
        table: str,
        cells: Iterable[Cell],
        *,
        protected: bool = True,
        fixed: bool = False,
        published: bool = True,
        total: bool = False,
    ) -> Figure:
        members = frozenset(cells)
        if id in self.figures:
            raise ValueError(f"figure {id!r} added twice")
        if unknown := [c for c in members if c not in self.values]:
            raise ValueError(f"figure {id!r} sums unknown cells {unknown!r}")
        if not members:
            raise ValueError(f"figure {id!r} sums no cells")
        figure = Figure(
            id,
            table,
            members,
            sum(self.values[c] for c in members),
            protected=protected,
            fixed=fixed,
            published=published,
            total=total,
            maximum=sum(self.maxima.get(c, INF) for c in members),
        )
        self.figures[id] = figure
        return figure

    def add_relation(self, terms: Mapping[Cell, float], *, lower: float = -INF, upper: float = INF) -> None:
        actual = sum(self.values[c] * a for c, a in terms.items())
        if not lower - EPS <= actual <= upper + EPS:
            raise ValueError(f"relation {terms!r} does not hold for the true values ({actual})")
        self.relations.append(Relation(tuple(terms.items()), lower, upper))

    def add_grid(
        self,
        table: str,
        rows: Sequence[Hashable],
        cols: Sequence[Hashable],
        counts: Mapping[tuple[Hashable, Hashable], int],
        *,
        row_totals: bool = True,
        column_totals: bool = True,
        grand_total: bool = True,
        protect_row_totals: bool = True,
        protect_column_totals: bool = True,
        cell_ids: Mapping[tuple[Hashable, Hashable], Cell] | None = None,
    ) -> Grid:
        """A rows x cols table with its totals; figure ids are (table, row, col) with TOTAL for a total.

        Interior cells and row totals are protected (rows are schools); column totals and the grand total
        are protected unless `protect_column_totals` is False (region-wide figures over several schools:
        the audit still hides them where they would give a school's cell away)."""
        grid = Grid(table, list(rows), list(cols), row_totals, column_totals, grand_total)
        cell = {(r, c): (cell_ids or {}).get((r, c), (table, r, c)) for r in rows for c in cols}
        for r in rows:
            for c in cols:
                self.add_cell(cell[(r, c)], counts.get((r, c), 0))
                self.add_figure((table, r, c), table, [cell[(r, c)]])
        if row_totals:
            for r in rows:
                self.add_figure(
                    (table, r, TOTAL), table, [cell[(r, c)] for c in cols], protected=protect_row_totals, total=True
                )
        if column_totals:
            for c in cols:
                self.add_figure(
                    (table, TOTAL, c), table, [cell[(r, c)] for r in rows], protected=protect_column_totals, total=True
                )
        if grand_total and (row_totals or column_totals):
            self.add_figure((table, TOTAL, TOTAL), table, cell.values(), protected=protect_column_totals, total=True)
        return grid


@dataclasses.dataclass(frozen=True)
class Grid:
    """Where a grid's figures are, to read a protected grid back as rows (None: hidden)."""

    table: str
    rows: list[Hashable]
    cols: list[Hashable]
    row_totals: bool
    column_totals: bool
    grand_total: bool

    def published(self, result: Protection) -> list[list[int | None]]:
        """Rows of interior cells (then the row total), then the column totals (then the grand total)."""
        t = self.table
        out: list[list[int | None]] = []
        for r in self.rows:
            out.append([result.value((t, r, c)) for c in self.cols] + ([result.value((t, r, TOTAL))] * self.row_totals))
        if self.column_totals:
            last = [result.value((t, TOTAL, TOTAL))] if self.grand_total else []
            out.append([result.value((t, TOTAL, c)) for c in self.cols] + last)
        return out


@dataclasses.dataclass(frozen=True)
class Protection:
    """A release as it will be published: what is hidden, every hidden figure's range, and any leak left."""

    release: Release
    hidden: frozenset[FigureId]  # ids of the published figures that are hidden
    ranges: Mapping[FigureId, tuple[int, float]]  # feasible range of every hidden or unpublished figure
    leaks: tuple[Leak, ...]

    @property
    def ok(self) -> bool:
        return not self.leaks

    @property
    def refused(self) -> frozenset[str]:
        """The tables that must not be published: they hold a figure the release gives away."""
        return frozenset(leak.figure.table for leak in self.leaks)

    def shows(self, figure: FigureId) -> bool:
        return figure not in self.hidden

    def value(self, figure: FigureId) -> int | None:
        """The figure as published: its value, or None when hidden."""
        return None if figure in self.hidden else self.release.figures[figure].value
