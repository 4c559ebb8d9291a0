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
has to stay unrecoverable (largest > smallest). A figure of 1 to 5 about a school may never be shown.
Zeros are shown (a zero is not a group) and the audit counts them as known.

Suppression: primary suppression hides every protected figure of 1 to 5. Then, while the audit finds a
hidden figure that is not protected, secondary suppression hides the shown figures that pin it: a linear
programme looks for another table, as close as possible to the true one, that agrees with everything
left shown and moves the failing figure as far as the rule asks; the shown figures that must differ for
that are hidden (interior cells before totals, small figures before large ones; zeros and region-wide
figures may not differ). This is the greedy step of classical cell suppression, one failing figure and
one side at a time, and the audit decides after every step. Hidden figures stay hidden and hiding more
only widens every range, so a figure that passed keeps passing and the loop ends (with no region-wide
figure, hiding every non-zero figure always passes). A figure that no suppression can protect (a
region-wide figure gives it away) stays a leak: its table must not be published.

The audit: one HiGHS model per connected part of the release (in practice, per table), built once: a
column per cell, fixed at its value when shown and free in [0, maximum] when hidden; a row per figure of
several cells, fixed when shown and free when hidden; a row per relation. Auditing a hidden figure only
changes the objective (its cells get cost 1) and its sense. Cells are whole numbers, so a range is
[ceil(min), floor(max)].

Non-additive figures (medians, percentiles, averages) are not sums of cells, so the linear programme
cannot bound them. They are published only beside the count they describe when that count is shown and
6 or more, and hidden with it otherwise; a percentage is modelled as the count it reveals (a share
within the norm, with its total, reveals the pupils within and outside the norm). oja/monitoring.py and
oja/report.py say per table how.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence

import highspy
import numpy as np

from models.errors import DisclosureError

THRESHOLD = 5  # a group of 1 to THRESHOLD pupils must not be revealed
MARGIN = 3  # how far a hidden small figure's feasible range must reach on both sides of its true value
HIDDEN = "×"  # how every hidden figure reads, whatever its value: a label must not tell a reader its range
TOTAL = "totaal"
INF = math.inf

Cell = Hashable
FigureId = Hashable

_EPS = 1e-6


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
    cells: frozenset
    value: int
    protected: bool = True  # a pupil count at school level: the rule applies
    fixed: bool = False  # region-wide: always shown, never suppressed (but the audit knows it)
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
        cells = frozenset(cells)
        if id in self.figures:
            raise ValueError(f"figure {id!r} added twice")
        if unknown := [c for c in cells if c not in self.values]:
            raise ValueError(f"figure {id!r} sums unknown cells {unknown!r}")
        if not cells:
            raise ValueError(f"figure {id!r} sums no cells")
        figure = Figure(
            id,
            table,
            cells,
            sum(self.values[c] for c in cells),
            protected=protected,
            fixed=fixed,
            published=published,
            total=total,
            maximum=sum(self.maxima.get(c, INF) for c in cells),
        )
        self.figures[id] = figure
        return figure

    def add_relation(self, terms: Mapping[Cell, float], *, lower: float = -INF, upper: float = INF) -> None:
        actual = sum(self.values[c] * a for c, a in terms.items())
        if not lower - _EPS <= actual <= upper + _EPS:
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
    rows: list
    cols: list
    row_totals: bool
    column_totals: bool
    grand_total: bool

    def published(self, result: Protection) -> list[list[int | None]]:
        """Rows of interior cells (then the row total), then the column totals (then the grand total)."""
        t = self.table
        out = []
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
    hidden: frozenset  # ids of the published figures that are hidden
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


# --- the linear programmes ----------------------------------------------------------------------------------

_banner_lock = threading.Lock()
_banner_done = False


def _highs() -> highspy.Highs:
    """A silent HiGHS instance. The first one in a process prints a banner on the C level; keep it out of logs."""
    global _banner_done
    with _banner_lock:
        if _banner_done:
            h = highspy.Highs()
        else:
            saved = os.dup(1)
            try:
                with open(os.devnull, "wb") as null:
                    os.dup2(null.fileno(), 1)
                    h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _banner_done = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")  # tiny models, warm-started from the previous objective's basis
    return h


@dataclasses.dataclass(eq=False)
class _Group:
    """All published copies of one figure (same cells), and whether it may be hidden."""

    cells: frozenset
    value: int
    maximum: float
    figures: list[Figure]

    @property
    def protected(self) -> bool:
        return any(f.protected for f in self.figures)

    @property
    def published(self) -> bool:
        return any(f.published for f in self.figures)

    @property
    def fixed(self) -> bool:
        return any(f.fixed for f in self.figures)

    @property
    def hideable(self) -> bool:
        return self.published and not self.fixed

    @property
    def total(self) -> bool:
        return all(f.total for f in self.figures if f.published)

    @property
    def audited(self) -> bool:
        """The rule applies when hidden: a protected figure (an unpublished one only when it is small)."""
        return self.protected and (self.published or is_small(self.value))


def _floor(g: _Group) -> int:
    """What a hidden figure holds at least, for any reader: a published figure that is hidden is not 0,
    because zeros are shown (the mark itself says 'at least 1'); a figure no table shows could be 0."""
    return 1 if g.published and g.value >= 1 else 0


class _Lp:
    """One HiGHS model for one connected part of a release; hiding a figure frees its bounds."""

    def __init__(self, cells: list[Cell], groups: list[_Group], relations: list[Relation], release: Release):
        self.h = _highs()
        self.col = {c: i for i, c in enumerate(cells)}
        self.release = release
        n = len(cells)
        upper = np.array([release.maxima.get(c, INF) for c in cells], dtype=np.float64)
        self.h.addVars(n, np.zeros(n), np.where(np.isinf(upper), highspy.kHighsInf, upper))
        self.row: dict[int, int] = {}
        for g in groups:
            if len(g.cells) > 1:
                idx = np.array(sorted(self.col[c] for c in g.cells), dtype=np.int32)
                self.row[id(g)] = self.h.getNumRow()
                self.h.addRow(-highspy.kHighsInf, highspy.kHighsInf, len(idx), idx, np.ones(len(idx)))
        for rel in relations:
            idx = np.array([self.col[c] for c, _ in rel.terms], dtype=np.int32)
            lo = -highspy.kHighsInf if rel.lower == -INF else rel.lower
            hi = highspy.kHighsInf if rel.upper == INF else rel.upper
            self.h.addRow(lo, hi, len(idx), idx, np.array([a for _, a in rel.terms], dtype=np.float64))
        self.costed: np.ndarray = np.zeros(0, dtype=np.int32)

    def show(self, g: _Group, shown: bool) -> None:
        """Fix a shown figure at its value; free a hidden one down to what its mark tells (see _floor)."""
        low = _floor(g)
        if len(g.cells) == 1:
            (cell,) = g.cells
            maximum = self.release.maxima.get(cell, INF)
            upper = highspy.kHighsInf if maximum == INF else maximum
            self.h.changeColBounds(self.col[cell], *((g.value, g.value) if shown else (float(low), upper)))
        else:
            bounds = (g.value, g.value) if shown else (low or -highspy.kHighsInf, highspy.kHighsInf)
            self.h.changeRowBounds(self.row[id(g)], *bounds)

    def _objective(self, g: _Group) -> None:
        idx = np.array(sorted(self.col[c] for c in g.cells), dtype=np.int32)
        if len(self.costed):
            self.h.changeColsCost(len(self.costed), self.costed, np.zeros(len(self.costed)))
        self.h.changeColsCost(len(idx), idx, np.ones(len(idx)))
        self.costed = idx

    def extreme(self, g: _Group, *, maximise: bool) -> float:
        """The smallest (largest) value the figure can take, rounded inwards to whole pupils."""
        self._objective(g)
        self.h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)
        self.h.run()
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kUnknown:  # a warm start that went astray: solve afresh
            self.h.clearSolver()
            self.h.run()
            status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            value = self.h.getInfo().objective_function_value
            return math.floor(value + _EPS) if maximise else math.ceil(value - _EPS)
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return INF if maximise else -INF  # the true values are a solution, so it is not infeasible
        raise RuntimeError(f"the disclosure audit's linear programme ended with {self.h.modelStatusToString(status)}")


class _State:
    """A release with a set of hidden figures, and the models that audit it."""

    def __init__(self, release: Release):
        self.release = release
        by_cells: dict[frozenset, _Group] = {}
        for f in release.figures.values():
            g = by_cells.get(f.cells)
            if g is None:
                g = by_cells[f.cells] = _Group(f.cells, f.value, f.maximum, [])
            g.figures.append(f)
        self.groups = list(by_cells.values())
        self.by_cells = by_cells
        self.group_of = {f.id: by_cells[f.cells] for f in release.figures.values()}
        # connected parts: cells joined by figures of several cells and by relations
        parent = {c: c for c in release.values}

        def find(c):
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        def join(cells):
            cells = list(cells)
            for c in cells[1:]:
                a, b = find(cells[0]), find(c)
                if a != b:
                    parent[b] = a

        for g in self.groups:
            join(g.cells)
        for rel in release.relations:
            join(c for c, _ in rel.terms)
        parts: dict[Cell, list[Cell]] = {}
        for c in release.values:
            parts.setdefault(find(c), []).append(c)
        self.part_of: dict[Cell, Cell] = {c: find(c) for c in release.values}
        self.part_cells = parts
        self.part_groups: dict[Cell, list[_Group]] = {}
        for g in self.groups:
            self.part_groups.setdefault(self.part_of[next(iter(g.cells))], []).append(g)
        self.part_relations: dict[Cell, list[Relation]] = {}
        for rel in release.relations:
            self.part_relations.setdefault(self.part_of[rel.terms[0][0]], []).append(rel)
        self.hidden: set[int] = {id(g) for g in self.groups if not g.published}  # only ever grows
        self._lps: dict[Cell, _Lp] = {}

    def lp(self, g: _Group) -> _Lp:
        part = self.part_of[next(iter(g.cells))]
        lp = self._lps.get(part)
        if lp is None:
            groups, relations = self.part_groups.get(part, []), self.part_relations.get(part, [])
            lp = _Lp(self.part_cells[part], groups, relations, self.release)
            for other in self.part_groups.get(part, []):
                lp.show(other, id(other) not in self.hidden)
            self._lps[part] = lp
        return lp

    def is_hidden(self, g: _Group) -> bool:
        return id(g) in self.hidden

    def hide(self, g: _Group) -> None:
        self.hidden.add(id(g))
        part = self.part_of[next(iter(g.cells))]
        if part in self._lps:
            self._lps[part].show(g, False)

    def range(self, g: _Group) -> tuple[float, float]:
        lp = self.lp(g)
        return max(0.0, lp.extreme(g, maximise=False)), lp.extreme(g, maximise=True)

    def floor(self, g: _Group) -> int:
        """The least the figure holds by what the marks alone tell, whatever the values shown: every hidden
        published figure is at least 1 (zeros are shown), so a hidden total over three hidden cells is at
        least 3. The rule's range must reach down to this floor (or MARGIN below the value), not to 0."""
        if len(g.cells) == 1:
            return _floor(g)
        part = self.part_of[next(iter(g.cells))]
        cells = self.part_cells[part]
        col = {c: i for i, c in enumerate(cells)}
        h = _highs()
        upper = np.array([self.release.maxima.get(c, INF) for c in cells], dtype=np.float64)
        h.addVars(len(cells), np.zeros(len(cells)), np.where(np.isinf(upper), highspy.kHighsInf, upper))
        for o in self.part_groups.get(part, []):
            if self.is_hidden(o) and _floor(o):
                idx = np.array([col[c] for c in o.cells], dtype=np.int32)
                h.addRow(1.0, highspy.kHighsInf, len(idx), idx, np.ones(len(idx)))
        idx = np.array([col[c] for c in g.cells], dtype=np.int32)
        h.changeColsCost(len(idx), idx, np.ones(len(idx)))
        h.run()
        least = math.ceil(h.getInfo().objective_function_value - _EPS)
        return max(_floor(g), least)

    def targets(self, g: _Group) -> tuple[float, float]:
        """How far the figure's range must reach: (at most this low, at least this high)."""
        if is_small(g.value):
            return max(self.floor(g), g.value - MARGIN), min(g.value + MARGIN, g.maximum)
        return g.value - 1, g.value + 1  # 6 or more: any other value will do (one side is enough)

    def repair(self, g: _Group, *, up: bool) -> list[_Group] | None:
        """The shown figures to hide so that g can reach its target on one side, or None if none can.

        The protection LP of cell suppression: find another table, as close as possible, that agrees with
        every figure that stays shown and moves g to its target; shown figures may differ at a cost (the
        figures that differ get hidden). Zeros and region-wide figures may not differ. Cost per pupil of
        difference: 1 for a cell, 2 for a total (hide interior cells first), plus a little for its size
        (hide small figures first). Where the other table exists, hiding those figures lets g reach it."""
        part = self.part_of[next(iter(g.cells))]
        cells = self.part_cells[part]
        col = {c: i for i, c in enumerate(cells)}
        size = 1 + sum(self.release.values[c] for c in cells)
        h = _highs()
        upper = np.array([self.release.maxima.get(c, INF) for c in cells], dtype=np.float64)
        h.addVars(len(cells), np.zeros(len(cells)), np.where(np.isinf(upper), highspy.kHighsInf, upper))
        slack: list[tuple[int, _Group]] = []
        for o in self.part_groups.get(part, []):
            if self.is_hidden(o):
                if _floor(o):  # the other table must agree with what the marks tell: hidden is not 0
                    idx_hidden = np.array([col[c] for c in o.cells], dtype=np.int32)
                    h.addRow(float(_floor(o)), highspy.kHighsInf, len(idx_hidden), idx_hidden, np.ones(len(idx_hidden)))
                continue
            idx = [col[c] for c in o.cells]
            coef = [1.0] * len(idx)
            if o.hideable and o.value > 0:
                k = h.getNumCol()
                weight = (2.0 if o.total else 1.0) + o.value / size
                h.addVars(2, np.zeros(2), np.full(2, highspy.kHighsInf))
                h.changeColsCost(2, np.array([k, k + 1], dtype=np.int32), np.array([weight, weight]))
                idx += [k, k + 1]
                coef += [1.0, -1.0]
                slack.append((k, o))
            h.addRow(o.value, o.value, len(idx), np.array(idx, dtype=np.int32), np.array(coef))
        for rel in self.part_relations.get(part, []):
            lo = -highspy.kHighsInf if rel.lower == -INF else rel.lower
            hi = highspy.kHighsInf if rel.upper == INF else rel.upper
            idx = np.array([col[c] for c, _ in rel.terms], dtype=np.int32)
            h.addRow(lo, hi, len(idx), idx, np.array([a for _, a in rel.terms], dtype=np.float64))
        low, high = self.targets(g)
        idx = np.array([col[c] for c in g.cells], dtype=np.int32)
        bounds = (high, highspy.kHighsInf) if up else (-highspy.kHighsInf, low)
        h.addRow(*bounds, len(idx), idx, np.ones(len(idx)))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None  # even with everything hideable hidden, g cannot get there
        values = h.getSolution().col_value
        return [o for k, o in slack if values[k] + values[k + 1] > _EPS]


def _primary(state: _State) -> None:
    for g in state.groups:
        if g.hideable and g.protected and is_small(g.value):
            state.hide(g)


def _result(state: _State) -> Protection:
    ranges: dict[FigureId, tuple[int, float]] = {}
    leaks: list[Leak] = []
    for g in state.groups:
        if state.is_hidden(g):
            lower, upper = state.range(g)
            for f in g.figures:
                ranges[f.id] = (int(lower), upper)
            if g.audited and not is_protected(g.value, lower, upper, g.maximum, state.floor(g)):
                leaks += [Leak(f, int(lower), upper) for f in g.figures if f.protected]
        elif g.protected and is_small(g.value):
            leaks += [Leak(f, g.value, g.value, shown=True) for f in g.figures if f.protected]
    hidden = frozenset(f.id for g in state.groups if state.is_hidden(g) for f in g.figures if f.published)
    return Protection(state.release, hidden, ranges, tuple(leaks))


def audit(release: Release, hidden: Iterable[FigureId]) -> Protection:
    """Audit a release as it would be published with `hidden` hidden and every other figure shown.

    A figure published in several places with the same cells is shown if any copy is shown. Returns
    every hidden figure's feasible range and every leak (a hidden figure that is not protected, or a
    protected figure of 1 to 5 that is shown)."""
    hidden = set(hidden)
    state = _State(release)
    for g in state.groups:
        if g.published and all(f.id in hidden or not f.published for f in g.figures):
            state.hide(g)
    return _result(state)


def protect(release: Release) -> Protection:
    """Choose what to hide: primary suppression, then secondary suppression until the audit passes.

    Every hidden figure that fails the rule gets a repair: the figures to hide so that its range can
    reach its target (see _State.repair), one side at a time. The figures hidden for it are audited in
    turn. A figure that no repair can help (a region-wide figure gives it away) stays a leak, and the
    result says which table holds it."""
    state = _State(release)
    _primary(state)
    pending = deque(g for g in state.groups if state.is_hidden(g) and g.audited)
    while pending:
        g = pending.popleft()
        if not g.audited or g.value == 0:
            continue
        lower, upper = state.range(g)
        if is_protected(g.value, lower, upper, g.maximum, state.floor(g)):
            continue
        low, high = state.targets(g)
        if is_small(g.value):
            sides = [side for side, short in ((False, lower > low), (True, upper < high)) if short]
        else:  # pinned: free it upwards, or downwards where it cannot grow
            sides = [True, False] if high <= g.maximum else [False]
        for up in sides:
            fix = state.repair(g, up=up)
            if fix:
                for o in fix:
                    state.hide(o)
                    if o.audited:
                        pending.append(o)
                pending.appendleft(g)  # audit it again with what was hidden; the other side may pass now
                break
            if is_small(g.value):
                break  # this side cannot be repaired: g stays a leak (the final audit reports it)
    return _result(state)


# --- small helpers for callers ------------------------------------------------------------------------------


def suppress(counts: Mapping[tuple, int], rows: list[Hashable], cols: list[Hashable]) -> dict[tuple, int | None]:
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
