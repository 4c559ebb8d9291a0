"""The family's passkey in a real browser (headless Chromium, issue 26), with a virtual platform authenticator of
Chromium's debugging protocol (WebAuthn.addVirtualAuthenticator: CTAP2, internal, a resident key, the user
verified): a parent logs in with the mailed code, adds a passkey on the home page, logs out, and logs in with the
password and the passkey, without any mail. axe-core checks the new page states (no serious or critical
violation); screenshots are kept with the test's files (and under OJA_SCREENSHOTS when set, to look at).

WebAuthn needs a secure context and a domain as the relying party: the browser opens the dossier as `localhost`,
its public address for the test (OJA_DOSSIER_URL)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.dossier.family import CODE, LINK, PASSWORD, invite, last_mail, mail_to, pupil_with_case, set_password
from tests.dossier.test_family_plan_browser import SERIOUS, axe_violations, chromium  # noqa: F401 - a fixture

EMAIL = "passkey.browser@voorbeeld.nl"


def test_a_parent_adds_a_passkey_and_logs_in_with_it(dossier, chromium, smtp_server, monkeypatch, tmp_path):  # noqa: F811
    mail_to(smtp_server, monkeypatch)
    base = dossier.base_url.replace("127.0.0.1", "localhost")
    monkeypatch.setenv("OJA_DOSSIER_URL", base)
    dossier.forget_failures()
    shots = Path(os.environ.get("OJA_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    case_ref, _, _ = pupil_with_case(dossier, age=13, given="Noor")
    assert invite(dossier.as_user("PRF-0001"), case_ref, "ouder_1", EMAIL).status_code == 303
    assert set_password(dossier.client(), LINK.search(last_mail(smtp_server, EMAIL).text).group(1)).status_code == 303

    context = chromium.new_context(viewport={"width": 420, "height": 900})  # a phone
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if "Refused" in m.text or "Policy" in m.text else None)
    page.on("response", lambda r: complaints.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    page.on("pageerror", lambda e: complaints.append(str(e)))
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]
    violations: dict[str, list[dict]] = {}

    def look(name: str) -> None:
        page.screenshot(path=shots / f"{name}.png", full_page=True)
        violations[name] = [v for v in axe_violations(page) if v["impact"] in SERIOUS]

    def password() -> None:
        page.goto(f"{base}/gezin/inloggen")
        page.fill("#e-mailadres", EMAIL)
        page.fill("#wachtwoord", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/gezin/code$"))

    # the first login: the mailed code; then a passkey on the home page
    password()
    page.fill("#code", CODE.search(last_mail(smtp_server, EMAIL).text).group(1))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/gezin/$"))
    add = page.get_by_role("button", name="Een passkey toevoegen")
    assert add.is_visible()
    look("family-passkey-none")
    add.click()
    page.wait_for_url(re.compile(r"/gezin/\?passkey=toegevoegd$"))
    assert page.get_by_role("status").inner_text() == "De passkey is toegevoegd."
    assert page.locator("ul.passkeys li").count() == 1 and "Passkey 1" in page.locator("ul.passkeys").inner_text()
    look("family-passkey-added")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["signCount"] >= 0

    # logged out; in again with the password and the passkey, and no mail
    page.click("text=Uitloggen")
    page.wait_for_url(re.compile(r"/gezin/inloggen$"))
    mails = len(smtp_server.messages)
    password()
    sign_in = page.get_by_role("button", name="Inloggen met uw passkey")
    assert sign_in.is_visible()
    assert page.get_by_role("button", name="Stuur mij een code per e-mail").is_visible()
    assert page.locator("#code").count() == 0
    look("family-passkey-step")
    sign_in.click()
    page.wait_for_url(re.compile(r"/gezin/$"))
    assert page.locator("h1").inner_text() == "De pagina over Noor"
    assert len(smtp_server.messages) == mails  # no code was mailed
    look("family-passkey-home")
    context.close()

    # without JavaScript: no passkey button, the code by mail
    plain = chromium.new_context(java_script_enabled=False, viewport={"width": 420, "height": 900})
    page = plain.new_page()
    password()
    assert not page.get_by_role("button", name="Inloggen met uw passkey").is_visible()
    page.click("text=Stuur mij een code per e-mail")
    page.wait_for_url(re.compile(r"/gezin/code\?verstuurd=1$"))
    page.fill("#code", CODE.search(last_mail(smtp_server, EMAIL).text).group(1))
    page.screenshot(path=shots / "family-passkey-nojs-code.png", full_page=True)
    page.click("button:text-is('Inloggen')")
    page.wait_for_url(re.compile(r"/gezin/$"))
    plain.close()

    assert complaints == []
    assert violations == {name: [] for name in violations}, violations
