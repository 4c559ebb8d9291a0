"""The family's view page (`/gezin/mijn-mening`, issue 26) in headless Chromium: axe-core finds no serious or
critical violation, in Dutch on a phone after a bad form (the errors shown) and in English on a desktop; styled under
the dossier's CSP. Screenshots are kept with the test's files (`OJA_SCREENSHOTS`, when set, gets a copy)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.dossier.test_family_opinion_page import FAMILY, family, review_in
from tests.dossier.test_family_plan_browser import SERIOUS, axe_violations, chromium  # noqa: F401 - the fixture


def test_the_view_page_has_no_serious_accessibility_violation(dossier, chromium, tmp_path):  # noqa: F811
    shots = []
    with review_in(dossier, 8), family(dossier, FAMILY, "leerling") as client:
        token = client.cookies.get("oja_gezin")
        for taal, width, bad in (("nl", 390, True), ("en", 1280, False)):
            context = chromium.new_context(viewport={"width": width, "height": 900})
            context.add_cookies([{"name": "oja_gezin", "value": token, "url": dossier.base_url}])
            page = context.new_page()
            complaints: list[str] = []
            page.on("console", lambda m, c=complaints: c.append(m.text) if "Refused" in m.text else None)
            page.goto(f"{dossier.base_url}/gezin/mijn-mening?taal={taal}")
            assert page.locator("html").get_attribute("lang") == taal
            if bad:  # nothing chosen, a text too long: the errors are shown with the form
                page.fill("#moet_anders", "x" * 1990)
                page.evaluate("document.querySelector('#moet_anders').removeAttribute('maxlength')")
                page.fill("#moet_anders", "x" * 2100)
                page.click("button[type=submit]")
                assert page.locator(".errors").count() == 1
            assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
            shot = tmp_path / f"mening-{taal}-{width}.png"
            page.screenshot(path=shot, full_page=True)
            shots.append(shot)
            if os.environ.get("OJA_SCREENSHOTS"):
                shutil.copy(shot, Path(os.environ["OJA_SCREENSHOTS"]) / shot.name)
            violations = axe_violations(page)
            context.close()
            assert not complaints, complaints
            assert [v for v in violations if v["impact"] in SERIOUS] == [], violations
    assert all(s.stat().st_size > 10_000 for s in shots)
