"""The family's passkey through the served dossier (issue 26), with a software authenticator: added on the home
page, used at the login's second step instead of the mailed code (no mail at all), the code by mail still there
when asked for, removed again; refused: another origin, a form of another site, another login's passkey; failures
lock out as wrong codes do; every sign-in, addition and removal in the access log."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from models.tables_family import FamilyLogin, FamilyPasskey
from models.vocabulary import AccessAction, AccessOutcome
from tests.dossier.conftest import form_csrf
from tests.dossier.family import (
    CODE,
    code_step,
    invited_and_logged_in,
    last_mail,
    mail_to,
    password_step,
    pupil_with_case,
)
from tests.webauthn_soft import SoftAuthenticator


@pytest.fixture
def mail(smtp_server, monkeypatch, dossier):
    mail_to(smtp_server, monkeypatch)
    monkeypatch.setenv("OJA_DOSSIER_URL", dossier.base_url)  # the relying party: this server's address
    dossier.forget_failures()
    yield smtp_server
    dossier.forget_failures()


def _key(dossier) -> SoftAuthenticator:
    return SoftAuthenticator(urlsplit(dossier.base_url).hostname, dossier.base_url)


def _home_csrf(client) -> str:
    return form_csrf(client.get("/gezin/").text)


def add_passkey(client, key: SoftAuthenticator):
    csrf = _home_csrf(client)
    options = client.post("/gezin/passkeys/opties", json={"csrf": csrf})
    assert options.status_code == 200, options.text
    return client.post("/gezin/passkeys", json={"csrf": csrf, "credential": key.create(options.json())})


def passkey_step(client, key: SoftAuthenticator, **wrong):
    page = client.get("/gezin/code")
    csrf = form_csrf(page.text)
    options = client.post("/gezin/passkey/opties", json={"csrf": csrf})
    if options.status_code != 200:
        return options
    return client.post("/gezin/passkey/inloggen", json={"csrf": csrf, "credential": key.get(options.json(), **wrong)})


def _lines(dossier, mark: int, action: AccessAction):
    return [(e.outcome, e.reason) for e in dossier.log_since(mark) if e.action == action]


def test_add_a_passkey_and_log_in_with_it_without_a_mailed_code(dossier, mail):
    case_ref, pupil_ref, _ = pupil_with_case(dossier, age=13)
    email = "passkey.ouder@voorbeeld.nl"
    client = invited_and_logged_in(dossier, mail, case_ref, "ouder_1", email)
    home = client.get("/gezin/")
    assert "Een passkey toevoegen" in home.text and "U heeft nog geen passkey" in home.text
    assert "script-src 'self'" in home.headers["content-security-policy"]
    assert client.get("/static/family_passkey.js").status_code == 200
    mark = dossier.log_mark()

    assert client.post("/gezin/passkeys/opties", json={"csrf": "fout"}).status_code == 403
    assert client.post("/gezin/passkeys/opties", data={"csrf": _home_csrf(client)}).status_code == 415  # a form
    key = _key(dossier)
    added = add_passkey(client, key)
    assert added.status_code == 200 and added.json() == {"naar": "/gezin/?passkey=toegevoegd"}
    home = client.get("/gezin/?passkey=toegevoegd")
    assert "De passkey is toegevoegd." in home.text and "Passkey 1" in home.text
    assert _lines(dossier, mark, AccessAction.FAMILY_PASSKEY_ADDED) == [(AccessOutcome.ALLOWED, "passkey 1")]

    # logged out, then in again: the password, then the passkey, and no mail
    assert client.post("/gezin/uitloggen", data={"csrf": _home_csrf(client)}).status_code == 303
    mails = len(mail.messages)
    step = password_step(client, email)
    assert step.status_code == 303 and step.headers["location"] == "/gezin/code"
    page = client.get("/gezin/code")
    assert "Inloggen met uw passkey" in page.text and "Stuur mij een code per e-mail" in page.text
    assert 'name="code"' not in page.text
    mark = dossier.log_mark()
    done = passkey_step(client, key)
    assert done.status_code == 200 and done.json() == {"naar": "/gezin/"}, done.text
    assert client.get("/gezin/").status_code == 200
    assert len(mail.messages) == mails  # no code was mailed
    (line,) = [e for e in dossier.log_since(mark) if e.action == AccessAction.FAMILY_LOGIN]
    assert (line.professional_code, line.pupil_ref, line.path) == ("ouder_1", pupil_ref, "/gezin/passkey/inloggen")

    # without the passkey at hand: the code by mail, when asked for
    other = dossier.client()
    assert password_step(other, email).status_code == 303
    asked = other.post("/gezin/code/mail", data={"csrf": form_csrf(other.get("/gezin/code").text)})
    assert asked.status_code == 303 and asked.headers["location"] == "/gezin/code?verstuurd=1"
    assert "Wij hebben een code naar uw e-mail gestuurd" in other.get(asked.headers["location"]).text
    assert code_step(other, CODE.search(last_mail(mail, email).text).group(1)).status_code == 303

    # removed: the next login asks the mailed code again
    with dossier.db() as s:
        login_id = s.exec(select(FamilyLogin.id).where(FamilyLogin.email == email)).one()
        passkey_id = s.exec(select(FamilyPasskey.id).where(FamilyPasskey.login_id == login_id)).one()
    mark = dossier.log_mark()
    gone = client.post(f"/gezin/passkeys/{passkey_id}/verwijderen", data={"csrf": _home_csrf(client)})
    assert gone.status_code == 303 and "De passkey is verwijderd." in client.get(gone.headers["location"]).text
    assert (
        client.post(f"/gezin/passkeys/{passkey_id}/verwijderen", data={"csrf": _home_csrf(client)}).status_code == 404
    )
    assert [o for o, _ in _lines(dossier, mark, AccessAction.FAMILY_PASSKEY_REMOVED)] == [
        AccessOutcome.ALLOWED, AccessOutcome.REFUSED]  # fmt: skip
    fresh = dossier.client()
    assert password_step(fresh, email).status_code == 303
    assert 'name="code"' in fresh.get("/gezin/code").text


def test_refused_passkeys_count_as_failed_second_steps(dossier, mail):
    case_ref, _, _ = pupil_with_case(dossier, age=10)
    email = "passkey.fout@voorbeeld.nl"
    client = invited_and_logged_in(dossier, mail, case_ref, "ouder_1", email)
    key = _key(dossier)
    assert add_passkey(client, key).status_code == 200
    other_case, _, _ = pupil_with_case(dossier, age=10)
    stranger = invited_and_logged_in(dossier, mail, other_case, "ouder_1", "passkey.ander@voorbeeld.nl")
    their_key = _key(dossier)
    assert add_passkey(stranger, their_key).status_code == 200

    used = dossier.client()
    assert password_step(used, email).status_code == 303
    assert passkey_step(used, key).status_code == 200  # its sign count is 1 now

    mark = dossier.log_mark()
    browser = dossier.client()
    assert password_step(browser, email).status_code == 303
    attempts = [passkey_step(browser, key, origin="http://evil.example"), passkey_step(browser, their_key)]
    attempts += [passkey_step(browser, key, rp_id="evil.example"), passkey_step(browser, key, sign_count=1)]
    assert [a.status_code for a in attempts] == [401] * 4, [a.text for a in attempts]
    assert "niet bij deze toegang" in attempts[1].text
    assert passkey_step(browser, key, origin="http://evil.example").status_code == 401  # the fifth
    locked = passkey_step(browser, key)  # even the right passkey waits now
    assert locked.status_code == 429 and "te veel mislukte pogingen" in locked.text
    failed = _lines(dossier, mark, AccessAction.FAMILY_LOGIN_FAILED)
    assert len(failed) == 5 and all(o == AccessOutcome.REFUSED and r.startswith("passkey: ") for o, r in failed)
    assert "@" not in "".join(r for _, r in failed)


def test_the_passkey_steps_need_their_own_tokens(dossier, mail):
    bare = dossier.client()
    assert bare.post("/gezin/passkey/opties", json={"csrf": ""}).status_code == 403
    assert bare.post("/gezin/passkeys/opties", json={"csrf": ""}).headers["location"] == "/gezin/inloggen"
    page = bare.get("/gezin/inloggen")
    csrf = form_csrf(page.text)
    assert bare.post("/gezin/passkey/opties", json={"csrf": csrf}).status_code == 410  # no login step
    assert (
        bare.post("/gezin/passkey/inloggen", content=b"{", headers={"content-type": "application/json"}).status_code
        == 415
    )
