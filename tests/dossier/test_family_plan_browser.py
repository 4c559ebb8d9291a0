"""The family's page in a real browser (headless Chromium): axe-core (shipped by `axe-playwright-python`, run in
the page) finds no serious or critical accessibility violation, in Dutch and in English, on a phone's screen and a
desktop's; the page is styled under the dossier's Content-Security-Policy. Screenshots are kept with the test's
files (and `OJA_SCREENSHOTS`, when set, gets a copy to look at)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import axe_playwright_python
import pytest

from tests.dossier.test_family_pages import family_token

AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "chromium is needed for the browser tests: apt-get install -y chromium (make test does)"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def axe_violations(page) -> list[dict]:
    """axe-core's violations of the page as loaded (every rule axe runs by default: WCAG 2.x A and AA, best
    practices), each with its impact and the elements concerned."""
    page.evaluate(AXE)  # evaluated by the browser's debugging protocol: the page's CSP allows no script of its own
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["html"][:120] for n in v["nodes"]]}
        for v in result["violations"]
    ]


@pytest.mark.parametrize(
    ("family_name", "party", "taal", "width"),
    [
        ("Bosman", "ouder_1", "nl", 1280),  # consent asked
        ("Timmer", "ouder_2", "en", 1280),  # closed after a review: a decision against the advice, with reasons
        ("Dijkstra", "leerling", "nl", 390),  # back from specialised care, on a phone
    ],
)
def test_the_family_page_has_no_serious_accessibility_violation(
    dossier, chromium, tmp_path, family_name, party, taal, width
):
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if "Refused" in m.text else None)
    context.add_cookies(
        [{"name": "oja_gezin", "value": family_token(dossier, family_name, party)[0], "url": dossier.base_url}]
    )
    page.goto(f"{dossier.base_url}/gezin/plan?taal={taal}")
    assert page.locator("html").get_attribute("lang") == taal
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 18, "large, readable type (the stylesheet is loaded under the CSP)"
    shot = tmp_path / f"gezin-{family_name}-{taal}-{width}.png"
    page.screenshot(path=shot, full_page=True)
    if os.environ.get("OJA_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["OJA_SCREENSHOTS"]) / shot.name)
    violations = axe_violations(page)
    context.close()
    assert not complaints, complaints
    assert [v for v in violations if v["impact"] in SERIOUS] == [], violations


def test_the_check_finds_what_it_looks_for(chromium):
    """The same check on a page with an image without words, an unlabelled field and grey on grey: it fails."""
    page = chromium.new_page()
    page.set_content(
        '<html><body><main><img src="data:,"><input type="text">'
        '<p style="color:#bbb;background:#ccc">weinig contrast</p></main></body></html>'
    )
    found = {v["id"] for v in axe_violations(page) if v["impact"] in SERIOUS}
    page.close()
    assert {"image-alt", "label", "color-contrast"} <= found, found
