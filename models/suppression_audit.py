"""The disclosure audit: for every hidden figure of a release, the smallest and largest value it can have
given everything shown, by linear programming (HiGHS). The rule it checks is in models/suppression.py.

One HiGHS model per connected part of the release (in practice, per table), built once: a column per
cell, fixed at its value when shown and free in [0, maximum] when hidden; a row per figure of several
cells, fixed when shown and free when hidden; a row per relation. Auditing a hidden figure only changes
the objective (its cells get cost 1) and its sense. Cells are whole numbers, so a range is
[ceil(min), floor(max)].
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections.abc import Iterable, Mapping, Sequence

import highspy
import numpy as np
import numpy.typing as npt

from models.suppression_release import (
    EPS,
    INF,
    MARGIN,
    Cell,
    Figure,
    FigureId,
    Leak,
    Protection,
    Relation,
    Release,
    is_protected,
    is_small,
)

_banner_lock = threading.Lock()
_banner_done = False


def highs() -> highspy.Highs:
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


def cell_columns(h: highspy.Highs, cells: Sequence[Cell], maxima: Mapping[Cell, float]) -> dict[Cell, int]:
    """A column per cell of a new model, in [0, the cell's a priori maximum]; returns each cell's column."""
    upper = np.array([maxima.get(c, INF) for c in cells], dtype=np.float64)
    h.addVars(len(cells), np.zeros(len(cells)), np.where(np.isinf(upper), highspy.kHighsInf, upper))
    return {c: i for i, c in enumerate(cells)}


def relation_row(h: highspy.Highs, col: Mapping[Cell, int], rel: Relation) -> None:
    """A row for what a reader knows apart from the tables: lower <= sum(coefficient * cell) <= upper."""
    idx = np.array([col[c] for c, _ in rel.terms], dtype=np.int32)
    lo = -highspy.kHighsInf if rel.lower == -INF else rel.lower
    hi = highspy.kHighsInf if rel.upper == INF else rel.upper
    h.addRow(lo, hi, len(idx), idx, np.array([a for _, a in rel.terms], dtype=np.float64))


def columns(col: Mapping[Cell, int], cells: Iterable[Cell]) -> npt.NDArray[np.int32]:
    """The columns of `cells`, in order."""
    return np.array(sorted(col[c] for c in cells), dtype=np.int32)


@dataclasses.dataclass(eq=False)
class Group:
    """All published copies of one figure (same cells), and whether it may be hidden."""

    cells: frozenset[Cell]
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


def mark_floor(g: Group) -> int:
    """What a hidden figure holds at least, for any reader: a published figure that is hidden is not 0,
    because zeros are shown (the mark itself says 'at least 1'); a figure no table shows could be 0."""
    return 1 if g.published and g.value >= 1 else 0


class _Lp:
    """One HiGHS model for one connected part of a release; hiding a figure frees its bounds."""

    def __init__(self, cells: list[Cell], groups: list[Group], relations: list[Relation], release: Release):
        self.h = highs()
        self.release = release
        self.col = cell_columns(self.h, cells, release.maxima)
        self.row: dict[int, int] = {}
        for g in groups:
            if len(g.cells) > 1:
                idx = columns(self.col, g.cells)
                self.row[id(g)] = self.h.getNumRow()
                self.h.addRow(-highspy.kHighsInf, highspy.kHighsInf, len(idx), idx, np.ones(len(idx)))
        for rel in relations:
            relation_row(self.h, self.col, rel)
        self.costed: npt.NDArray[np.int32] = np.zeros(0, dtype=np.int32)

    def show(self, g: Group, shown: bool) -> None:
        """Fix a shown figure at its value; free a hidden one down to what its mark tells (see mark_floor)."""
        low = mark_floor(g)
        if len(g.cells) == 1:
            (cell,) = g.cells
            maximum = self.release.maxima.get(cell, INF)
            upper = highspy.kHighsInf if maximum == INF else maximum
            self.h.changeColBounds(self.col[cell], *((g.value, g.value) if shown else (float(low), upper)))
        else:
            bounds = (g.value, g.value) if shown else (low or -highspy.kHighsInf, highspy.kHighsInf)
            self.h.changeRowBounds(self.row[id(g)], *bounds)

    def _objective(self, g: Group) -> None:
        idx = columns(self.col, g.cells)
        if len(self.costed):
            self.h.changeColsCost(len(self.costed), self.costed, np.zeros(len(self.costed)))
        self.h.changeColsCost(len(idx), idx, np.ones(len(idx)))
        self.costed = idx

    def extreme(self, g: Group, *, maximise: bool) -> float:
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
            return math.floor(value + EPS) if maximise else math.ceil(value - EPS)
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return INF if maximise else -INF  # the true values are a solution, so it is not infeasible
        raise RuntimeError(f"the disclosure audit's linear programme ended with {self.h.modelStatusToString(status)}")


class State:
    """A release with a set of hidden figures, and the models that audit it."""

    def __init__(self, release: Release):
        self.release = release
        by_cells: dict[frozenset[Cell], Group] = {}
        for f in release.figures.values():
            g = by_cells.get(f.cells)
            if g is None:
                g = by_cells[f.cells] = Group(f.cells, f.value, f.maximum, [])
            g.figures.append(f)
        self.groups = list(by_cells.values())
        self.by_cells = by_cells
        self.group_of = {f.id: by_cells[f.cells] for f in release.figures.values()}
        # connected parts: cells joined by figures of several cells and by relations
        parent = {c: c for c in release.values}

        def find(c: Cell) -> Cell:
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        def join(cells: Iterable[Cell]) -> None:
            members = list(cells)
            for c in members[1:]:
                a, b = find(members[0]), find(c)
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
        self.part_groups: dict[Cell, list[Group]] = {}
        for g in self.groups:
            self.part_groups.setdefault(self.part_of[next(iter(g.cells))], []).append(g)
        self.part_relations: dict[Cell, list[Relation]] = {}
        for rel in release.relations:
            self.part_relations.setdefault(self.part_of[rel.terms[0][0]], []).append(rel)
        self.hidden: set[int] = {id(g) for g in self.groups if not g.published}  # only ever grows
        self._lps: dict[Cell, _Lp] = {}

    def part(self, g: Group) -> Cell:
        """The connected part the figure lies in (named by one of its cells)."""
        return self.part_of[next(iter(g.cells))]

    def lp(self, g: Group) -> _Lp:
        part = self.part(g)
        lp = self._lps.get(part)
        if lp is None:
            groups, relations = self.part_groups.get(part, []), self.part_relations.get(part, [])
            lp = _Lp(self.part_cells[part], groups, relations, self.release)
            for other in self.part_groups.get(part, []):
                lp.show(other, id(other) not in self.hidden)
            self._lps[part] = lp
        return lp

    def is_hidden(self, g: Group) -> bool:
        return id(g) in self.hidden

    def hide(self, g: Group) -> None:
        self.hidden.add(id(g))
        part = self.part(g)
        if part in self._lps:
            self._lps[part].show(g, False)

    def range(self, g: Group) -> tuple[float, float]:
        lp = self.lp(g)
        return max(0.0, lp.extreme(g, maximise=False)), lp.extreme(g, maximise=True)

    def floor(self, g: Group) -> int:
        """The least the figure holds by what the marks alone tell, whatever the values shown: every hidden
        published figure is at least 1 (zeros are shown), so a hidden total over three hidden cells is at
        least 3. The rule's range must reach down to this floor (or MARGIN below the value), not to 0."""
        if len(g.cells) == 1:
            return mark_floor(g)
        part = self.part(g)
        h = highs()
        col = cell_columns(h, self.part_cells[part], self.release.maxima)
        for o in self.part_groups.get(part, []):
            if self.is_hidden(o) and mark_floor(o):
                idx = np.array([col[c] for c in o.cells], dtype=np.int32)
                h.addRow(1.0, highspy.kHighsInf, len(idx), idx, np.ones(len(idx)))
        idx = np.array([col[c] for c in g.cells], dtype=np.int32)
        h.changeColsCost(len(idx), idx, np.ones(len(idx)))
        h.run()
        least = math.ceil(h.getInfo().objective_function_value - EPS)
        return max(mark_floor(g), least)

    def targets(self, g: Group) -> tuple[float, float]:
        """How far the figure's range must reach: (at most this low, at least this high)."""
        if is_small(g.value):
            return max(self.floor(g), g.value - MARGIN), min(g.value + MARGIN, g.maximum)
        return g.value - 1, g.value + 1  # 6 or more: any other value will do (one side is enough)


def result(state: State) -> Protection:
    """The release as published with the state's hidden figures: every hidden figure's range, and the leaks."""
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
    to_hide = set(hidden)
    state = State(release)
    for g in state.groups:
        if g.published and all(f.id in to_hide or not f.published for f in g.figures):
            state.hide(g)
    return result(state)
