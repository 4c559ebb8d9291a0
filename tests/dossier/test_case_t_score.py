"""Issue 26, item 7: the case page shows each review's GAS T-score beside its scores, to the professionals with
the case in scope (a manager has no case page: the T-score reaches managers only as an average, see
tests/integration/test_gas_scores.py)."""

from __future__ import annotations

from tests.dossier.test_pages import table_rows


def test_the_case_page_shows_the_t_score_of_a_review_beside_its_scores(dossier):
    # the demo's reviewed pupil (Wolters): goal 1 +1, goal 2 0, equal weights
    # T = 50 + 10·(1 + 0) / √(0.7·2 + 0.3·2²) = 50 + 10/√2.6 = 50 + 10/1.6125 = 56.20 -> 56.2
    case_ref, _ = dossier.case_of("Wolters")
    page = dossier.as_user("PRF-0002").get(f"/casus/{case_ref}")
    assert page.status_code == 200
    header = page.text[page.text.index("<h2>Evaluaties</h2>") :]
    assert "T-score professional" in header[: header.index("</thead>")]
    (row,) = table_rows(page.text, "<h2>Evaluaties</h2>")
    assert row[1:3] == ["doel 1: +1, doel 2: +0", "56.2"]


def test_a_manager_has_no_case_page_to_read_a_t_score_from(dossier):
    case_ref, _ = dossier.case_of("Wolters")
    assert dossier.as_user("PRF-0041").get(f"/casus/{case_ref}").status_code == 403
