"""Small numbers: no figure about 5 or fewer pupils at school level, and no total that reveals a hidden cell.

Pure functions on a table of counts (rows x columns) published with its row and
column totals. Primary suppression hides every cell from 1 to the threshold;
secondary suppression then hides, in every row and column with exactly one
hidden cell, the smallest other cell, until no line has a lone hidden cell
(a lone hidden cell could be computed back from the line's total).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

THRESHOLD = 5

Cell = tuple[Hashable, Hashable]


def suppress(
    counts: Mapping[Cell, int], rows: list[Hashable], cols: list[Hashable], *, threshold: int = THRESHOLD
) -> dict[Cell, int | None]:
    """The table with hidden cells as None. Zeros stay visible: they say nothing about a pupil."""
    cells = {(r, c): counts.get((r, c), 0) for r in rows for c in cols}
    hidden = {cell for cell, n in cells.items() if 0 < n <= threshold}
    changed = True
    while changed:
        changed = False
        lines = [[(r, c) for c in cols] for r in rows] + [[(r, c) for r in rows] for c in cols]
        for line in lines:
            if len(line) < 2 or sum(1 for cell in line if cell in hidden) != 1:
                continue
            # the smallest other cell, preferring one with pupils in it (hiding a zero protects less)
            candidates = sorted((cells[cell] == 0, cells[cell], str(cell)) for cell in line if cell not in hidden)
            if not candidates:
                continue
            pick = next(cell for cell in line if str(cell) == candidates[0][2] and cell not in hidden)
            hidden.add(pick)
            changed = True
    return {cell: (None if cell in hidden else n) for cell, n in cells.items()}


def suppress_total(n: int, *, threshold: int = THRESHOLD) -> int | None:
    """A single figure about `n` pupils: hidden when 1 to the threshold."""
    return None if 0 < n <= threshold else n


def shown(value: int | float | None) -> str:
    """How a figure appears in a report: hidden ones as '≤5'."""
    if value is None:
        return f"≤{THRESHOLD}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
