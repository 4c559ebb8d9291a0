"""The family's way in, in a real browser (headless Chromium, issue 26): a coordinator invites a parent from the
case page; the parent opens the mailed link, sets a password, logs in with the code mailed to the real SMTP
server, and sees the home page, styled under the Content-Security-Policy. Screenshots are kept with the test's
files (and under OJA_SCREENSHOTS when set, to look at)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.dossier.conftest import SESSION_COOKIE
from tests.dossier.family import CODE, LINK, PASSWORD, last_mail, mail_to, pupil_with_case

EMAIL = "browser.ouder@voorbeeld.nl"


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


def test_invitation_mail_password_mailed_code_home_page(dossier, chromium, smtp_server, monkeypatch, tmp_path):
    mail_to(smtp_server, monkeypatch)
    dossier.forget_failures()  # the failed logins of other tests (from this address) would hold up the password
    shots = Path(os.environ.get("OJA_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    case_ref, _, _ = pupil_with_case(dossier, age=13, given="Sanne")
    complaints: list[str] = []

    def watch(page) -> None:
        page.on("console", lambda m: complaints.append(m.text) if "Refused" in m.text or "Policy" in m.text else None)
        page.on("pageerror", lambda e: complaints.append(str(e)))

    # the coordinator, from the case page
    coordinator = dossier.as_user("PRF-0001")
    office = chromium.new_context(viewport={"width": 1280, "height": 900})
    office.add_cookies([{"name": SESSION_COOKIE, "value": coordinator.token, "url": dossier.base_url}])
    page = office.new_page()
    watch(page)
    page.goto(f"{dossier.base_url}/casus/{case_ref}")
    page.click("text=Ouders en leerling uitnodigen")
    page.wait_for_url(f"**/casus/{case_ref}/uitnodigen")
    page.select_option("#partij", "ouder_1")
    page.fill("#e-mailadres", EMAIL)
    page.click("button:text-is('Uitnodiging versturen')")
    page.wait_for_selector(".notice")
    assert "is verstuurd" in page.locator(".notice").inner_text()
    page.screenshot(path=shots / "family-invite.png", full_page=True)
    office.close()

    # the parent, from the mail
    link = re.search(r"http\S+/gezin/welkom/\S+", last_mail(smtp_server, EMAIL).text).group(0)
    token = LINK.search(link).group(1)
    home = chromium.new_context(viewport={"width": 420, "height": 860})  # a phone
    page = home.new_page()
    watch(page)
    page.goto(f"{dossier.base_url}/gezin/welkom/{token}")
    page.fill("#wachtwoord", PASSWORD)
    page.fill("#wachtwoord_herhaald", PASSWORD)
    page.screenshot(path=shots / "family-password.png", full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/gezin/inloggen\?klaar=1$"))
    page.fill("#e-mailadres", EMAIL)
    page.fill("#wachtwoord", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/gezin/code$"))
    page.fill("#code", CODE.search(last_mail(smtp_server, EMAIL).text).group(1))
    page.screenshot(path=shots / "family-code.png", full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/gezin/$"))
    assert page.locator("h1").inner_text() == "De pagina over Sanne"
    assert page.get_by_role("link", name="Bekijk het plan").get_attribute("href") == "/gezin/plan"
    page.screenshot(path=shots / "family-home.png", full_page=True)

    cookies = {c["name"]: c for c in home.cookies()}
    assert cookies["oja_gezin"]["httpOnly"] and cookies["oja_gezin"]["sameSite"] == "Strict"
    assert SESSION_COOKIE not in cookies
    styled = page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor")
    assert styled not in ("rgba(0, 0, 0, 0)", "transparent"), "the stylesheet is loaded under the CSP"
    page.click("text=Uitloggen")
    page.wait_for_url(re.compile(r"/gezin/inloggen$"))
    home.close()
    assert complaints == []
