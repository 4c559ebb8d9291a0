"""Cell suppression: choose what to hide so that the audit (models/suppression_audit.py) passes.

Primary suppression hides every protected figure of 1 to 5. Then, while the audit finds a hidden figure
that is not protected, secondary suppression hides the shown figures that pin it: a linear programme
looks for another table, as close as possible to the true one, that agrees with everything left shown
and moves the failing figure as far as the rule asks; the shown figures that must differ for that are
hidden (interior cells before totals, small figures before large ones; zeros and region-wide figures may
not differ). This is the greedy step of classical cell suppression, one failing figure and one side at a
time, and the audit decides after every step. Hidden figures stay hidden and hiding more only widens
every range, so a figure that passed keeps passing and the loop ends (with no region-wide figure, hiding
every non-zero figure always passes). A figure that no suppression can protect (a region-wide figure
gives it away) stays a leak: its table must not be published.
"""

from __future__ import annotations

from collections import deque

import highspy
import numpy as np

from models.suppression_audit import Group, State, cell_columns, highs, mark_floor, relation_row, result
from models.suppression_release import EPS, Protection, Release, is_protected, is_small


def repair(state: State, g: Group, *, up: bool) -> list[Group] | None:
    """The shown figures to hide so that g can reach its target on one side, or None if none can.

    The protection LP of cell suppression: find another table, as close as possible, that agrees with
    every figure that stays shown and moves g to its target; shown figures may differ at a cost (the
    figures that differ get hidden). Zeros and region-wide figures may not differ. Cost per pupil of
    difference: 1 for a cell, 2 for a total (hide interior cells first), plus a little for its size
    (hide small figures first). Where the other table exists, hiding those figures lets g reach it."""
    part = state.part(g)
    cells = state.part_cells[part]
    size = 1 + sum(state.release.values[c] for c in cells)
    h = highs()
    col = cell_columns(h, cells, state.release.maxima)
    slack: list[tuple[int, Group]] = []
    for o in state.part_groups.get(part, []):
        if state.is_hidden(o):
            if mark_floor(o):  # the other table must agree with what the marks tell: hidden is not 0
                idx_hidden = np.array([col[c] for c in o.cells], dtype=np.int32)
                h.addRow(float(mark_floor(o)), highspy.kHighsInf, len(idx_hidden), idx_hidden, np.ones(len(idx_hidden)))
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
    for rel in state.part_relations.get(part, []):
        relation_row(h, col, rel)
    low, high = state.targets(g)
    idx_g = np.array([col[c] for c in g.cells], dtype=np.int32)
    bounds = (high, highspy.kHighsInf) if up else (-highspy.kHighsInf, low)
    h.addRow(*bounds, len(idx_g), idx_g, np.ones(len(idx_g)))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None  # even with everything hideable hidden, g cannot get there
    values = h.getSolution().col_value
    return [o for k, o in slack if values[k] + values[k + 1] > EPS]


def _primary(state: State) -> None:
    for g in state.groups:
        if g.hideable and g.protected and is_small(g.value):
            state.hide(g)


def protect(release: Release) -> Protection:
    """Choose what to hide: primary suppression, then secondary suppression until the audit passes.

    Every hidden figure that fails the rule gets a repair: the figures to hide so that its range can
    reach its target (see `repair`), one side at a time. The figures hidden for it are audited in
    turn. A figure that no repair can help (a region-wide figure gives it away) stays a leak, and the
    result says which table holds it."""
    state = State(release)
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
            fix = repair(state, g, up=up)
            if fix:
                for o in fix:
                    state.hide(o)
                    if o.audited:
                        pending.append(o)
                pending.appendleft(g)  # audit it again with what was hidden; the other side may pass now
                break
            if is_small(g.value):
                break  # this side cannot be repaired: g stays a leak (the final audit reports it)
    return result(state)
