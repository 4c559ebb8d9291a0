"""The dossier's links into the Prefect UI open the one UI the steps use (V1, under /prefect/), in a real browser."""

from __future__ import annotations

import re
import shutil
import urllib.parse

import pytest
from sqlmodel import Session, col, select

from models.tables import Case
from tests.gateway.conftest import Front


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "chromium is needed for the browser tests"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def test_all_steps_of_a_case_opens_the_v1_runs_page_without_an_upgrade_banner(front: Front, chromium, tmp_path):
    """Issue 23: the dossier's "Alle stappen" link opened Prefect's V2 interface with an "Upgrade" banner."""
    with Session(front.engine) as s:
        case_ref = s.exec(select(Case.ref).where(Case.school_code == "10HV").order_by(col(Case.id))).first()
    host = urllib.parse.urlparse(front.base_url).hostname
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": "oja_sessie", "value": front.session("PRF-0001"), "domain": host, "path": "/"}])
    page = context.new_page()
    page.goto(f"{front.base_url}/casus/{case_ref}")
    link = page.get_by_role("link", name="Alle stappen van deze casus in Prefect")
    href = link.get_attribute("href")
    assert href.startswith(f"{front.base_url}/prefect/") and "/v2" not in href
    link.click()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)
    page.screenshot(path=tmp_path / "runs.png", full_page=True)
    assert not re.search(r"/prefect/v2(/|$)", page.url), page.url
    body = page.locator("body").inner_text()
    assert "Upgrade" not in body and "Ready to scale" not in body, body[:500]
    assert case_ref in page.url
    context.close()
