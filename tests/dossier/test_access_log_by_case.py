"""Issue 25, 8: the privacy officer asked about one case sees every line about it on the access log's page:
views, refusals, the worklists that showed it, exports; a bad reference is said in Dutch, never a 500."""

from __future__ import annotations

import pytest

from tests.dossier.test_pages import _log_rows, text_of


def test_the_privacy_officer_filters_the_access_log_by_case(dossier):
    case_ref, pupil_ref = dossier.case_of("Scholten")
    assert dossier.as_user("PRF-0001").get(f"/casus/{case_ref}").status_code == 200
    assert dossier.as_user("PRF-0002").get(f"/casus/{case_ref}").status_code == 403  # a refusal
    assert dossier.as_user("PRF-0001").get("/").status_code == 200  # the worklist shows the case
    assert dossier.as_user("PRF-0001").get(f"/leerling/{pupil_ref}/inzage").status_code == 200  # an export
    assert dossier.as_user("PRF-0021").get(f"/leerling/{pupil_ref}/inzage").status_code == 403  # a refused one
    officer = dossier.as_user("PRF-0051")
    mark = dossier.log_mark()

    page = officer.get("/toegangslog", params={"casus": case_ref.lower()})
    assert page.status_code == 200
    rows = _log_rows(page.text)
    assert rows and {r["case"] for r in rows} <= {case_ref, ""}
    assert all(r["pupil"] == pupil_ref for r in rows if not r["case"])  # about the pupil, naming no case
    seen = {(r["who"], r["what"], r["outcome"]) for r in rows}
    assert ("PRF-0001", "casus bekeken", "toegestaan") in seen
    assert ("PRF-0002", "casus bekeken", "geweigerd") in seen
    assert ("PRF-0001", "werklijst bekeken", "toegestaan") in seen
    assert ("PRF-0001", "inzage gedownload", "toegestaan") in seen
    assert ("PRF-0021", "inzage gedownload", "geweigerd") in seen
    worklist = [r for r in rows if r["what"] == "werklijst bekeken"]
    assert worklist and {r["case"] for r in worklist} == {case_ref}  # each row of a worklist with its case
    assert f'value="{case_ref.lower()}"' in page.text

    [line] = dossier.log_since(mark)  # the officer's own reading is logged, with the case
    assert (line.professional_code, line.action, line.case_ref) == ("PRF-0051", "toegangslog_bekeken", case_ref)

    refused = _log_rows(officer.get("/toegangslog", params={"casus": case_ref, "geweigerd": "1"}).text)
    assert refused and {r["outcome"] for r in refused} == {"geweigerd"}
    nothing = officer.get("/toegangslog", params={"casus": "OJA-2026-999999"})
    assert nothing.status_code == 200 and "Geen regels met dit filter." in nothing.text


@pytest.mark.parametrize("ref", ["OJA-26-1", "LL-000001", "<script>alert(1)</script>", "OJA-2026-00000١", "x" * 300])
def test_a_bad_case_reference_on_the_access_log_is_said_in_dutch(dossier, ref):
    officer = dossier.as_user("PRF-0051")
    mark = dossier.log_mark()
    page = officer.get("/toegangslog", params={"casus": ref})
    assert page.status_code == 422
    assert "Casus: moet een casusreferentie zijn zoals OJA-2026-000123" in text_of(page.text)
    assert not _log_rows(page.text) and "<script>alert" not in page.text
    [line] = dossier.log_since(mark)  # the use is logged all the same, naming no case
    assert (line.action, line.case_ref) == ("toegangslog_bekeken", None)
