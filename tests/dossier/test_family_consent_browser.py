"""The family's consent page (issue 26, 4) in headless Chromium: a parent presses "Ja, ik geef toestemming" (a real
form post under the dossier's CSP), reads "Ontvangen, wordt verwerkt", and axe-core finds no serious or critical
violation on the form nor on the page that follows. Prefect is a stand-in here (tests/dossier/test_family_consent.py
has why). Screenshots are kept with the test's files (`OJA_SCREENSHOTS`, when set, gets a copy)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.dossier import test_family_consent as http_tests
from tests.dossier import test_family_plan_browser as plan_browser
from tests.dossier.test_family_consent import Runs, _browser, _planned
from tests.dossier.test_family_plan_browser import SERIOUS, axe_violations

chromium = plan_browser.chromium  # the fixtures, shared
runs = http_tests.runs


def _shot(page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=shot, full_page=True)
    if os.environ.get("OJA_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["OJA_SCREENSHOTS"]) / shot.name)


def test_a_parent_gives_consent_in_the_browser_and_the_pages_pass_axe(dossier, chromium, runs: Runs, tmp_path):
    case_ref, family = _planned(dossier, age=14)
    token = _browser(dossier, family, "ouder_1").cookies["oja_gezin"]
    context = chromium.new_context(viewport={"width": 390, "height": 900})  # a phone
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if "Refused" in m.text else None)
    context.add_cookies([{"name": "oja_gezin", "value": token, "url": dossier.base_url}])
    page.goto(f"{dossier.base_url}/gezin/toestemming")
    assert page.locator("h1").inner_text().startswith("Toestemming voor het plan van")
    _shot(page, tmp_path, "gezin-toestemming-vraag.png")
    before = axe_violations(page)
    page.get_by_role("button", name="Ja, ik geef toestemming").click()
    page.wait_for_url("**/gezin/toestemming?verstuurd=1")
    assert page.get_by_role("heading", name="Ontvangen, wordt verwerkt").is_visible()
    _shot(page, tmp_path, "gezin-toestemming-ontvangen.png")
    after = axe_violations(page)
    context.close()
    assert [(ref, party, granted) for ref, party, granted, _ in runs.made] == [(case_ref, "ouder_1", True)]
    assert not complaints, complaints
    assert [v for v in before + after if v["impact"] in SERIOUS] == [], before + after
