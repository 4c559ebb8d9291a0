"""Disclosure control that proves itself: the audit flags leaking tables, and suppression passes the audit and an
attacker written apart from it (tests/attack.py)."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.errors import DisclosureError
from models.suppression import TOTAL, Release, audit, is_protected, protect, suppress
from tests import attack

T = "tabel"


def _grid(counts: dict, rows: list, cols: list, **options) -> tuple[Release, object]:
    release = Release()
    return release, release.add_grid(T, rows, cols, counts, **options)


def _leaking(release: Release, hidden) -> set:
    return {leak.figure.id for leak in audit(release, hidden).leaks}


# --- the audit on hand-made leaking tables: every leaking figure is named -------------------------------------


def test_the_audit_names_a_hidden_cell_that_its_row_and_column_give_away():
    # issue 11's two schools, as today's suppression published them: A's 3 and 7 hidden, B's zeros hidden
    counts = {("A", 1): 3, ("A", 2): 7, ("B", 3): 6}
    release, _ = _grid(counts, ["A", "B"], [0, 1, 2, 3, 4])
    hidden = {(T, "A", 1), (T, "A", 2), (T, "B", 1), (T, "B", 2), (T, TOTAL, 1)}
    result = audit(release, hidden)
    # B's row shows 6 of 6, so its hidden cells are 0; the level-2 total 7 gives A's 7, A's total 10 its 3
    assert {leak.figure.id for leak in result.leaks} == {(T, "A", 1), (T, "A", 2), (T, TOTAL, 1)}
    assert result.ranges[(T, "A", 1)] == (3, 3) and result.ranges[(T, "A", 2)] == (7, 7)
    assert result.ranges[(T, "B", 1)] == (0, 0)  # hidden zeros are found back, but a zero is not a group


def test_the_audit_names_a_cell_given_away_by_a_column_total_of_a_one_school_table():
    counts = {("A", 1): 3, ("A", 2): 7}
    release, _ = _grid(counts, ["A"], [1, 2])
    # one school: the level totals are its cells, so hiding the cells alone shows them anyway (3 is small)
    leaks = audit(release, {(T, "A", 1), (T, "A", 2)}).leaks
    assert {(leak.figure.id, leak.shown) for leak in leaks} == {((T, "A", 1), True), ((T, TOTAL, 1), True)}
    assert _leaking(release, {(T, "A", 1), (T, "A", 2), (T, TOTAL, 1), (T, TOTAL, 2)}) == set()


def test_the_audit_names_a_cell_given_away_by_a_region_total_published_elsewhere():
    counts = {("A", 1): 3, ("B", 2): 20, ("B", 3): 10}
    release, _ = _grid(counts, ["A", "B"], [1, 2, 3])
    cells = [(T, r, c) for r in "AB" for c in (1, 2, 3)]
    release.add_figure(("regio", "totaal"), "regio", cells, protected=False, fixed=True)
    hidden = {(T, "A", 1), (T, "A", TOTAL), (T, TOTAL, 1), (T, TOTAL, TOTAL)}
    # 33 in the region minus B's 30 is A's 3; the grand total cannot be hidden, it is the region's
    assert _leaking(release, hidden) == {(T, "A", 1), (T, "A", TOTAL), (T, TOTAL, 1)}


def test_the_audit_names_a_cell_that_two_rows_and_two_columns_give_away():
    # 5x5: a 2x2 block, another 2x2 block, and one cell (4) joining them; every line has 0 or 2+ hidden cells
    counts = {(0, 0): 3, (0, 1): 3, (0, 2): 4, (1, 0): 3, (1, 1): 3, (2, 2): 3, (2, 3): 3, (3, 2): 3, (3, 3): 3}
    release, _ = _grid(counts, list(range(5)), list(range(5)))
    hidden = {(T, r, c) for r, c in counts}
    result = audit(release, hidden)
    # row 0 - column 0 - column 1 + row 1 = cell (0, 2): 10 - 6 - 6 + 6 = 4
    assert result.ranges[(T, 0, 2)] == (4, 4)
    assert (T, 0, 2) in {leak.figure.id for leak in result.leaks}
    # the blocks' 3s: hidden means at least 1 (zeros are shown), so 6 - 1 = 5 at most, short of 3 + 3
    assert result.ranges[(T, 0, 0)] == (1, 5) and len(result.leaks) == len(hidden)
    assert "4 pupils, hidden, but lies in [4, 4]" in str(next(x for x in result.leaks if x.figure.id == (T, 0, 2)))


def test_the_audit_knows_that_a_hidden_figure_is_not_zero():
    # zeros are shown, so every hidden mark says "at least 1": four hidden 1s under a shown total of 4 are 1s
    counts = {(r, 1): 1 for r in "ABCD"} | {("A", 2): 10, ("B", 2): 9, ("C", 2): 12, ("D", 2): 8}
    release, _ = _grid(counts, list("ABCD"), [1, 2], protect_column_totals=False)
    hidden = {(T, r, c) for r in "ABCD" for c in (1, 2)}
    result = audit(release, hidden)
    assert {leak.figure.id for leak in result.leaks} >= {(T, r, 1) for r in "ABCD"}
    assert result.ranges[(T, "A", 1)] == (1, 1)
    assert audit(release, hidden | {(T, TOTAL, 1), (T, TOTAL, 2)}).ok


def test_the_audit_names_a_range_that_is_too_narrow_though_not_exact():
    release, _ = _grid({("A", 1): 4, ("A", 2): 2}, ["A"], [1, 2], column_totals=False, grand_total=False)
    result = audit(release, {(T, "A", 1), (T, "A", 2)})  # the total 6 bounds 4 by 6, not 7 (2 may reach 5)
    assert {leak.figure.id for leak in result.leaks} == {(T, "A", 1)}
    assert result.ranges[(T, "A", 1)] == (1, 5)  # the hidden 2 is at least 1: zeros are shown
    release, _ = _grid({("A", 1): 3, ("A", 2): 3}, ["A"], [1, 2], column_totals=False, grand_total=False)
    assert not audit(release, {(T, "A", 1), (T, "A", 2)}).ok  # 3 of 6: 1 to 5, never 6
    release, _ = _grid({("A", 1): 4, ("A", 2): 4}, ["A"], [1, 2], column_totals=False, grand_total=False)
    assert audit(release, {(T, "A", 1), (T, "A", 2)}).ok  # 4 of 8: anywhere from 1 to 7


def test_the_audit_names_a_small_figure_that_is_shown():
    release, _ = _grid({("A", 1): 3, ("A", 2): 9}, ["A"], [1, 2], column_totals=False, grand_total=False)
    leaks = audit(release, set()).leaks
    assert [(leak.figure.id, leak.shown) for leak in leaks] == [((T, "A", 1), True)]


def test_the_audit_names_a_large_hidden_figure_that_can_be_computed_back():
    release, _ = _grid({("A", 1): 8, ("A", 2): 9}, ["A"], [1, 2], column_totals=False, grand_total=False)
    assert _leaking(release, {(T, "A", 1)}) == {(T, "A", 1)}  # 17 - 9
    assert audit(release, {(T, "A", 1), (T, "A", 2)}).ok


def test_a_known_maximum_clips_the_rule():
    release = Release()
    release.add_cell("group", 3, maximum=4)  # 3 pupils in a group of 4 places: it cannot reach 6
    release.add_figure("bezet", T, ["group"])
    assert audit(release, {"bezet"}).ranges["bezet"] == (1, 4) and audit(release, {"bezet"}).ok
    assert is_protected(3, 0, 5) is False and is_protected(3, 0, 5, maximum=5) is True


def test_a_relation_between_tables_is_used():
    release = Release()
    for cell, n in (("open", 4), ("running", 4), ("other", 9)):
        release.add_cell(cell, n)
    release.add_figure("open", "a", ["open"])
    release.add_figure("running", "b", ["running"])
    release.add_figure("region", "c", ["open", "other"], protected=False, fixed=True)
    release.add_figure("other", "c", ["other"], protected=False)
    release.add_relation({"running": 1, "open": -1}, upper=0)  # running cases are open cases
    # open = 13 - 9 = 4 is given away by the region; running <= open then gives running away within [0, 4]
    assert _leaking(release, {"open", "running"}) == {"open", "running"}
    with pytest.raises(ValueError):
        release.add_relation({"other": 1, "open": -1}, upper=0)  # not true: refused


# --- suppression: primary, secondary, and figures no suppression can protect ----------------------------------


def test_suppression_of_the_four_leaks():
    release, grid = _grid({("A", 1): 3, ("A", 2): 7, ("B", 3): 6}, ["A", "B"], [0, 1, 2, 3, 4])
    result = protect(release)
    assert result.ok and grid.published(result) == [
        [0, None, None, 0, 0, 10],  # A's 3 and, for its row, the 7
        [0, 0, 0, 6, 0, 6],  # B's zeros are shown: they hold nobody
        [0, None, None, 6, 0, 16],  # the level totals would pin A's cells (B has 0 there)
    ]
    assert result.ranges[(T, "A", 1)] == (1, 9)
    release, grid = _grid({("A", 1): 3, ("A", 2): 7}, ["A"], [1, 2])
    assert grid.published(protect(release)) == [[None, None, 10], [None, None, 10]]
    counts = {(0, 0): 3, (0, 1): 3, (0, 2): 4, (1, 0): 3, (1, 1): 3, (2, 2): 3, (2, 3): 3, (3, 2): 3, (3, 3): 3}
    release, grid = _grid(counts, list(range(5)), list(range(5)))
    result = protect(release)
    assert result.ok and grid.published(result) == [
        [None, None, None, 0, 0, 10],
        [None, None, 0, 0, 0, None],  # with every hidden cell at least 1, rows of two 3s must open up too
        [0, 0, None, None, 0, None],
        [0, 0, None, None, 0, None],
        [0, 0, 0, 0, 0, 0],
        [None, None, 10, None, 0, 28],
    ]
    assert result.ranges[(T, 0, 2)] == (1, 8)


def test_a_figure_that_a_region_wide_figure_gives_away_is_reported_with_its_table():
    release, _ = _grid({("A", 1): 3}, ["A", "B"], [1, 2])
    cells = [(T, r, c) for r in "AB" for c in (1, 2)]
    release.add_figure(("regio", "totaal"), "regio", cells, protected=False, fixed=True)  # 3, shown elsewhere
    result = protect(release)  # terminates: B's zeros are shown, so nothing can be hidden that helps
    assert not result.ok and result.refused == {T}
    assert " in tabel zou " in str(DisclosureError(result.refused)) and "3" not in str(DisclosureError(["x"]))


def test_zeros_stay_shown_and_everything_hideable_hidden_always_passes_without_region_figures():
    release, grid = _grid({(r, c): 1 for r in range(3) for c in range(3)}, list(range(3)), list(range(3)))
    # all hidden, the grand total too: nine hidden cells, each at least 1, adding up to 9 would be nine 1s
    assert grid.published(protect(release)) == [[None] * 4] * 4
    assert suppress({("a", 1): 0, ("a", 2): 2, ("b", 1): 0, ("b", 2): 9}, ["a", "b"], [1, 2])[("a", 1)] == 0


def test_an_eight_by_six_table_is_protected_and_audited_in_milliseconds():
    rng = random.Random(11)
    counts = {(r, c): rng.choice([0, rng.randint(1, 5), rng.randint(0, 40)]) for r in range(8) for c in range(6)}
    release, _ = _grid(counts, list(range(8)), list(range(6)))
    start = time.perf_counter()
    result = protect(release)
    protected_in = time.perf_counter() - start
    start = time.perf_counter()
    check = audit(release, result.hidden)
    audited_in = time.perf_counter() - start
    assert result.ok and check.ok and len(check.ranges) >= 10
    assert audited_in < 0.5 and protected_in < 2.0, (audited_in, protected_in)  # typically ~3 ms and ~10 ms


# --- the property: random tables, protected, attacked ----------------------------------------------------------

counts_0_40 = st.one_of(st.just(0), st.integers(1, 5), st.integers(0, 40))


@st.composite
def tables(draw):
    rows, cols = draw(st.integers(1, 8)), draw(st.integers(1, 6))
    return rows, cols, {(r, c): draw(counts_0_40) for r in range(rows) for c in range(cols)}


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_random_tables_are_published_so_that_neither_the_audit_nor_a_subtracting_attacker_finds_a_small_group(
    table,
):
    n_rows, n_cols, counts = table
    rows, cols = list(range(n_rows)), list(range(n_cols))
    release, grid = _grid(counts, rows, cols)
    result = protect(release)
    published = grid.published(result)
    assert result.ok and audit(release, result.hidden).ok

    truth = [[counts[(r, c)] for c in cols] + [sum(counts[(r, c)] for c in cols)] for r in rows]
    truth.append([sum(truth[r][c] for r in rows) for c in range(n_cols + 1)])
    values = attack.grid_values(T, rows, cols, published)
    true = attack.grid_values(T, rows, cols, truth)
    for name, value in values.items():  # shown figures are true, and never 1 to 5
        assert value is None or (value == true[name] and not 1 <= value <= 5), name
    equations = attack.grid_equations(T, rows, cols)
    recovered = attack.subtract(values, equations)
    for name, value in recovered.items():
        assert value == true[name]  # the attacker is sound
        if values[name] is None:
            assert not 1 <= value <= 5, f"{name}: hidden {value} recovered"
            assert value == 0, f"{name}: hidden {value} recovered"  # nor anything else but a zero
    # adding and subtracting up to eight lines at once narrows no hidden figure beyond the rule either
    floors = attack.floors(values, equations)
    for name, (lower, upper) in attack.combine(values, equations, limit=8).items():
        assert lower <= true[name] + 1e-9 <= upper + 2e-9  # sound
        assert attack.protected(true[name], lower, upper, floors[name]), (
            f"{name} = {true[name]} narrowed to [{lower}, {upper}]"
        )
