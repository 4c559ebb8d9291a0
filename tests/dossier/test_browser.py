"""The dossier in a real browser (headless Chromium): the login form with a password and a TOTP code, the pages
styled by their stylesheet under the Content-Security-Policy with not one violation, a registration with errors
shown by each field. Screenshots are kept with the test's files."""

from __future__ import annotations

import re
import shutil

import pyotp
import pytest

from oja.services.logins import DEMO_PASSWORD, DEMO_TOTP_SECRET


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


def test_a_coordinator_logs_in_and_every_page_renders_styled_without_a_csp_violation(dossier, chromium, tmp_path):
    code = "PRF-0001"
    dossier.allow_code_again(code)
    case_ref, _pupil = dossier.case_of("Bosman")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    complaints: list[str] = []  # a CSP violation is reported on the console ("Refused to load ...")
    page.on("console", lambda m: complaints.append(m.text) if "Refused" in m.text or "Policy" in m.text else None)
    page.on("pageerror", lambda e: complaints.append(str(e)))
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 and "favicon" not in r.url else None)

    page.goto(f"{dossier.base_url}/casus/{case_ref}")  # a link from a mail: to the login, and back
    page.wait_for_url(re.compile(r"/inloggen\?volgende="))
    page.fill("#gebruikersnaam", code)
    page.fill("#wachtwoord", DEMO_PASSWORD)
    page.fill("#code", pyotp.TOTP(DEMO_TOTP_SECRET).now())
    page.screenshot(path=tmp_path / "login.png", full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/casus/{case_ref}")
    assert page.locator("h1").inner_text().startswith("Yara Bosman")
    page.screenshot(path=tmp_path / "case.png", full_page=True)

    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["oja_sessie"]["httpOnly"] and cookies["oja_sessie"]["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == "", "no script can read the session cookie"

    styled = page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor")
    assert styled not in ("rgba(0, 0, 0, 0)", "transparent"), "the stylesheet is loaded under the CSP"

    page.click("text=Mijn casussen")
    page.wait_for_url(f"{dossier.base_url}/")
    assert page.get_by_role("link", name="Yara Bosman").count() == 1
    page.screenshot(path=tmp_path / "my-cases.png", full_page=True)

    page.click("text=Leerling registreren")
    page.fill("#given_name", "Wessel")
    page.fill("#birth_date", "2031-02-03")
    page.fill("#bsn", "123456789")
    page.click("button:text-is('Registreren')")
    page.wait_for_selector(".field-error")
    invalid = page.eval_on_selector_all("[aria-invalid=true]", "els => els.map(e => e.id)")
    assert set(invalid) == {"family_name", "birth_date", "bsn"}
    assert page.input_value("#given_name") == "Wessel"
    page.screenshot(path=tmp_path / "register-errors.png", full_page=True)

    page.click("text=Uitloggen")
    page.wait_for_url(re.compile(r"/inloggen$"))
    page.goto(f"{dossier.base_url}/")
    page.wait_for_url(re.compile(r"/inloggen\?volgende="))
    context.close()
    assert not complaints, complaints
    assert not missing, missing


def test_the_registration_form_reaches_the_browser_with_autofill_off_and_a_numeric_keyboard(dossier, chromium):
    """`autocomplete="off"` keeps pupils' names and BSNs out of a shared school computer's autofill; the form's
    attributes are real attributes in the browser, not escaped text."""
    code = "PRF-0001"
    dossier.allow_code_again(code)
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{dossier.base_url}/inloggen")
    page.fill("#gebruikersnaam", code)
    page.fill("#wachtwoord", DEMO_PASSWORD)
    page.fill("#code", pyotp.TOTP(DEMO_TOTP_SECRET).now())
    page.click("button[type=submit]")
    page.wait_for_url(f"{dossier.base_url}/")
    page.click("text=Leerling registreren")
    page.wait_for_selector("#bsn")
    for field in ("given_name", "family_name", "bsn", "onderwijsnummer", "parent_1", "parent_2"):
        assert page.get_attribute(f"#{field}", "autocomplete") == "off", field
    assert page.get_attribute("#bsn", "inputmode") == "numeric"
    assert page.get_attribute("#onderwijsnummer", "inputmode") == "numeric"
    assert page.eval_on_selector("#given_name", "e => e.required") is True
    assert "&quot;" not in page.content() and "autocomplete=&" not in page.content()
    context.close()


def test_the_evaluation_report_renders_in_the_dossiers_page_without_a_csp_violation(dossier, chromium, tmp_path):
    code = "PRF-0041"
    dossier.allow_code_again(code)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if "Refused" in m.text or "Policy" in m.text else None)
    page.goto(f"{dossier.base_url}/inloggen")
    page.fill("#gebruikersnaam", code)
    page.fill("#wachtwoord", DEMO_PASSWORD)
    page.fill("#code", pyotp.TOTP(DEMO_TOTP_SECRET).now())
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{dossier.base_url}/rapport/evaluatie")
    assert page.locator("h1").first.inner_text() == "Evaluatie van de OJA-pilot"
    styled = page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor")
    assert styled not in ("rgba(0, 0, 0, 0)", "transparent"), "the dossier's stylesheet is loaded"
    page.screenshot(path=tmp_path / "report.png", full_page=True)
    page.click("text=Terug naar de cijfers")
    page.wait_for_url(f"{dossier.base_url}/rapport")
    page.click("text=Uitloggen")
    page.wait_for_url(re.compile(r"/inloggen$"))
    context.close()
    assert not complaints, complaints


def test_a_case_that_starts_later_and_the_access_log_by_case_in_the_browser(dossier, chromium, tmp_path):
    """Issue 25: the case page offers no review before the start and says when; the access log's case filter says
    a bad reference by its field. Screenshots kept."""
    from notifications.render import long_date
    from tests.dossier.conftest import SESSION_COOKIE
    from tests.dossier.test_case_steps import _started_later
    from tests.factories import valid_bsn

    ref, starts = _started_later(dossier, valid_bsn(3, base=540000000), 28)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": SESSION_COOKIE, "value": dossier.open_session("PRF-0001")[0], "url": dossier.base_url}]
    )
    page = context.new_page()
    page.goto(f"{dossier.base_url}/casus/{ref}")
    actions = page.locator("p.actions").inner_text()
    assert "09 Verwijzen" in actions and "06 Evaluatie" not in actions
    assert page.get_by_text(f"06 Evaluatie vastleggen kan vanaf {long_date(starts, 'nl')}").is_visible()
    page.screenshot(path=tmp_path / "case-starts-later.png", full_page=True)
    context.close()

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": SESSION_COOKIE, "value": dossier.open_session("PRF-0051")[0], "url": dossier.base_url}]
    )
    page = context.new_page()
    page.goto(f"{dossier.base_url}/toegangslog")
    page.fill("#casus", "OJA-26-1")
    page.click("form[action='/toegangslog'] button[type=submit]")
    assert page.locator("#casus-fout").inner_text().startswith("Casus: moet een casusreferentie zijn")
    assert page.locator("#casus").get_attribute("aria-invalid") == "true"
    page.screenshot(path=tmp_path / "access-log-bad-case.png", full_page=True)
    page.fill("#casus", ref)
    page.click("form[action='/toegangslog'] button[type=submit]")
    cases = page.locator("table.log tbody tr td:nth-child(7)").all_inner_texts()
    assert cases and set(cases) <= {ref, ""}
    page.screenshot(path=tmp_path / "access-log-by-case.png", full_page=True)
    context.close()
