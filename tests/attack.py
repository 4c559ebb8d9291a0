"""Attackers on published tables, written apart from models/suppression.py so that the tests do not trust it.

A published table is given as named figures (None: hidden) and equations: a total and the parts it adds up
(every count is a whole number, at least 0). Zeros are always shown, so a reader knows that a hidden figure
is at least 1. Two attackers:

- `subtract`: what a reader with a pencil does. Repeatedly solve any equation with exactly one unknown, and
  use what the marks tell: where the shown parts already make up the total, every hidden part is 0; where
  the total leaves exactly one pupil for each hidden part, every hidden part is 1.
- `combine`: adds and subtracts up to every equation with coefficients -1, 0 or 1 (two rows minus two columns,
  ...). Where one unknown is left, it is recovered; where the other unknowns all have the opposite sign (or
  the same sign), non-negativity gives a lower (an upper) bound.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence

import numpy as np

Equation = tuple[Hashable, Sequence[Hashable]]  # (total, parts)


def subtract(values: Mapping[Hashable, int | None], equations: Sequence[Equation]) -> dict[Hashable, int]:
    """Every figure the pencil attacker knows: the shown ones and the ones it recovers."""
    known = {k: v for k, v in values.items() if v is not None}
    changed = True
    while changed:
        changed = False
        for total, parts in equations:
            unknown = [x for x in (total, *parts) if x not in known]
            if len(unknown) == 1:
                (u,) = unknown
                if u == total:
                    known[u] = sum(known[p] for p in parts)
                else:
                    known[u] = known[total] - sum(known[p] for p in parts if p != u)
                changed = True
            elif unknown and total in known and known[total] == sum(known[p] for p in parts if p in known):
                for u in unknown:  # the shown parts make up the total: the hidden ones hold nobody
                    known[u] = 0
                changed = True
            elif (
                unknown and total in known and known[total] - sum(known[p] for p in parts if p in known) == len(unknown)
            ):
                for u in unknown:  # one pupil left for each hidden part, and none of them is 0: each is 1
                    known[u] = 1
                changed = True
    return known


def combine(
    values: Mapping[Hashable, int | None], equations: Sequence[Equation], *, limit: int = 10
) -> dict[Hashable, tuple[float, float]]:
    """The tightest bounds on every hidden figure from any -1/0/1 combination of up to `limit` equations."""
    unknowns = sorted({x for t, ps in equations for x in (t, *ps) if values.get(x) is None}, key=repr)
    col = {u: i for i, u in enumerate(unknowns)}
    rows, rhs = [], []
    for total, parts in equations:  # sum(parts) - total = 0, unknowns on the left, known values on the right
        row = np.zeros(len(unknowns))
        known = 0.0
        for x, sign in [(p, 1.0) for p in parts] + [(total, -1.0)]:
            if values.get(x) is None:
                row[col[x]] += sign
            else:
                known -= sign * values[x]
        if row.any():
            rows.append(row)
            rhs.append(known)
    bounds = {u: (1.0, math.inf) for u in unknowns}  # hidden: not 0, since zeros are shown
    if not rows:
        return bounds
    matrix, rhs = np.array(rows[:limit]), np.array(rhs[:limit])
    combos = np.array(list(itertools.product((-1, 0, 1), repeat=len(matrix))), dtype=float)
    net, value = combos @ matrix, combos @ rhs
    for k, name in enumerate(unknowns):
        a = net[:, k]
        others = np.delete(net, k, axis=1)
        none_positive = (others <= 1e-9).all(axis=1)
        none_negative = (others >= -1e-9).all(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (value - others.sum(axis=1)) / a  # every other unknown is at least 1
        # a x_k = value - (others . x): with every other term of one sign, x_k is bounded on one side
        lower = ((a > 1e-9) & none_positive) | ((a < -1e-9) & none_negative)
        upper = ((a > 1e-9) & none_negative) | ((a < -1e-9) & none_positive)
        lo = max(1.0, ratio[lower].max()) if lower.any() else 1.0
        hi = ratio[upper].min() if upper.any() else math.inf
        bounds[name] = (lo, hi)
    return bounds


def grid_equations(name, rows: Sequence, cols: Sequence) -> list[Equation]:
    """The equations of a rows x cols grid published with row, column and grand totals, named (name, r, c)
    with 'totaal' for a total."""
    t = "totaal"
    eqs: list[Equation] = [((name, r, t), [(name, r, c) for c in cols]) for r in rows]
    eqs += [((name, t, c), [(name, r, c) for r in rows]) for c in cols]
    eqs.append(((name, t, t), [(name, t, c) for c in cols]))
    eqs.append(((name, t, t), [(name, r, t) for r in rows]))
    return eqs


def grid_values(name, rows: Sequence, cols: Sequence, published: Sequence[Sequence[int | None]]) -> dict:
    """Named figures of a published grid: one line per row (cells, then the total), then the totals line."""
    t = "totaal"
    names = [[(name, r, c) for c in [*cols, t]] for r in [*rows, t]]
    return {
        n: v for line_names, line in zip(names, published, strict=True) for n, v in zip(line_names, line, strict=True)
    }


def floors(values: Mapping[Hashable, int | None], equations: Sequence[Equation]) -> dict[Hashable, float]:
    """What the marks alone tell about each hidden figure, whatever the shown values: every hidden figure is at
    least 1 and the equations hold, so a hidden total over three hidden cells is at least 3."""
    import highspy

    names = sorted({x for t, ps in equations for x in (t, *ps)} | set(values), key=repr)
    col = {x: i for i, x in enumerate(names)}
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    low = np.array([1.0 if values.get(x) is None else 0.0 for x in names])
    h.addVars(len(names), low, np.full(len(names), highspy.kHighsInf))
    for total, parts in equations:
        idx = np.array([col[total], *(col[p] for p in parts)], dtype=np.int32)
        h.addRow(0.0, 0.0, len(idx), idx, np.array([-1.0] + [1.0] * len(parts)))
    out = {}
    for x in names:
        if values.get(x) is None:
            h.changeColsCost(len(names), np.arange(len(names), dtype=np.int32), np.zeros(len(names)))
            h.changeColCost(col[x], 1.0)
            h.run()
            out[x] = h.getInfo().objective_function_value
    return out


def protected(value: int, lower: float, upper: float, floor: float = 1) -> bool:
    """The rule, restated for a hidden figure (at least `floor` by the marks alone, see `floors`): 1 to 5
    pupils need a range from value-3 (or the floor) to value+3; more need any range."""
    if 1 <= value <= 5:
        return lower <= max(floor, value - 3) + 1e-9 and upper >= value + 3 - 1e-9
    return value == 0 or upper - lower > 1e-9
