"""The family's own way in (issue 26), through the served dossier: the invitation from the case page, the link
that sets the password once, the login with the code mailed to the real SMTP server, the home page, and every
refusal in the access log with the pupil and the case."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from models.tables import Case, Parent, Pupil
from models.tables_family import FamilyInvitation, FamilyLogin
from models.vocabulary import AccessAction, AccessOutcome
from notifications.render import long_date
from oja.adapters.db import unit_of_work
from tests.dossier.conftest import SESSION_COOKIE
from tests.dossier.family import (
    CODE,
    LINK,
    code_step,
    family_login,
    invite,
    invited_and_logged_in,
    last_mail,
    mail_to,
    password_step,
    pupil_with_case,
    set_password,
)


@pytest.fixture
def mail(smtp_server, monkeypatch):
    mail_to(smtp_server, monkeypatch)
    return smtp_server


@pytest.fixture(autouse=True)
def clean_throttle(dossier):
    dossier.forget_failures()  # before: another file's failed logins from this address; after: this test's
    yield
    dossier.forget_failures()


def refusals(dossier, mark: int, action: AccessAction):
    return [e for e in dossier.log_since(mark) if e.action == action and e.outcome == AccessOutcome.REFUSED]


def test_invitation_link_code_and_home_page(dossier, mail):
    case_ref, pupil_ref, family = pupil_with_case(dossier, age=13, given="Kiki")
    coordinator = dossier.as_user("PRF-0001")
    assert "/uitnodigen" in coordinator.get(f"/casus/{case_ref}").text  # the way to it from the case page
    mark = dossier.log_mark()
    done = invite(coordinator, case_ref, "ouder_1", " Ouder.Een@Voorbeeld.nl ")
    assert done.status_code == 303
    assert "verstuurd=1" in done.headers["location"]
    assert "is verstuurd" in coordinator.get(done.headers["location"]).text

    received = last_mail(mail, "ouder.een@voorbeeld.nl")
    for detail in ("Kiki", family, pupil_ref, case_ref, "Ouder Een", "10HV"):
        assert detail not in received.raw, detail  # nothing about the child in the mail
    token = LINK.search(received.text).group(1)
    with dossier.db() as s:
        pupil = s.exec(select(Pupil).where(Pupil.ref == pupil_ref)).one()
        parent = s.exec(select(Parent).where(Parent.pupil_id == pupil.id, Parent.position == 1)).one()
        assert parent.email == "ouder.een@voorbeeld.nl"
        stored = s.exec(select(FamilyInvitation)).all()
        assert token not in {i.token_hash for i in stored}  # only its hash is kept
    (line,) = [e for e in dossier.log_since(mark) if e.action == AccessAction.INVITE_FAMILY]
    assert (line.professional_code, line.pupil_ref, line.case_ref, line.outcome) == (
        "PRF-0001", pupil_ref, case_ref, AccessOutcome.ALLOWED)  # fmt: skip

    browser = dossier.client()
    short = set_password(browser, token, "kort", "anders")
    assert short.status_code == 422
    assert "Wachtwoord: moet minstens 12 tekens lang zijn" in short.text
    assert "Wachtwoord nog een keer: moet hetzelfde zijn als het wachtwoord" in short.text
    assert set_password(browser, token).status_code == 303
    again = set_password(dossier.client(), token)  # the link works once
    assert again.status_code == 410 and "al gebruikt of verlopen" in again.text
    assert token not in "".join(e.path for e in dossier.log_since(mark))  # the link's secret is never logged

    done = family_login(browser, mail, "ouder.een@voorbeeld.nl")
    assert done.status_code == 303 and done.headers["location"] == "/gezin/"
    home = browser.get("/gezin/")
    assert home.status_code == 200
    assert "De pagina over Kiki" in home.text and 'href="/gezin/plan"' in home.text
    view = [e for e in dossier.log_since(mark) if e.action == AccessAction.FAMILY_VIEW][-1]
    assert (view.professional_code, view.role, view.pupil_ref, view.case_ref, view.outcome) == (
        "ouder_1", "gezin", pupil_ref, case_ref, AccessOutcome.ALLOWED)  # fmt: skip

    # a family session opens no professional page, and a professional's session no family page
    assert browser.get("/").status_code == 303 and browser.get("/").headers["location"].startswith("/inloggen")
    assert browser.get(f"/casus/{case_ref}").status_code == 303
    professional = dossier.client()
    professional.cookies.set(SESSION_COOKIE, coordinator.token)
    assert professional.get("/gezin/").headers["location"] == "/gezin/inloggen"
    posted = professional.post("/gezin/ouders", data={"ouders_zien": "nee", "csrf": coordinator.csrf})
    assert posted.status_code == 303 and posted.headers["location"] == "/gezin/inloggen"  # before the body is read
    stolen = dossier.client()
    stolen.cookies.set(SESSION_COOKIE, browser.cookies.get("oja_gezin"))  # the family's token as a professional's
    assert stolen.get("/").status_code == 303

    # the privacy officer's access log names the family member by party and pseudonym, never by name
    officer = dossier.as_user("PRF-0051")
    log = officer.get("/toegangslog", params={"leerling": pupil_ref}).text
    assert f"ouder_1 van {pupil_ref}" in log
    assert "Ouder Een" not in log and "Kiki" not in log
    by_party = officer.get("/toegangslog", params={"professional": "ouder_1", "leerling": pupil_ref}).text
    assert f"ouder_1 van {pupil_ref}" in by_party and ">PRF-0001</td>" not in by_party  # the family member's lines only


def test_the_code_counts_once_and_a_wrong_one_is_refused(dossier, mail):
    case_ref, _, _ = pupil_with_case(dossier, age=10)
    email = "code.eenmaal@voorbeeld.nl"
    invited_and_logged_in(dossier, mail, case_ref, "ouder_1", email)
    code = CODE.search(last_mail(mail, email).text).group(1)
    other = dossier.client()
    assert password_step(other, email).status_code == 303
    assert code_step(other, code).status_code == 401  # the earlier code: used, and replaced by a new one
    new = CODE.search(last_mail(mail, email).text).group(1)
    assert code_step(other, new).status_code == 303


def test_refusals_of_the_invitation_are_logged(dossier, mail):
    case_ref, pupil_ref, _ = pupil_with_case(dossier, age=11, parents=(("Ouder Een", True), ("Ouder Twee", False)))
    coordinator = dossier.as_user("PRF-0001")
    mark = dossier.log_mark()
    without = invite(coordinator, case_ref, "ouder_2", "twee@voorbeeld.nl")
    assert without.status_code == 403 and "zonder gezag" in without.text
    young = invite(coordinator, case_ref, "leerling", "kind@voorbeeld.nl")
    assert young.status_code == 403 and "vanaf 12 jaar" in young.text
    outsider = dossier.as_user("PRF-0002")  # another school
    assert outsider.post(f"/casus/{case_ref}/uitnodigen", data={"csrf": outsider.csrf, "partij": "ouder_1",
                         "e-mailadres": "x@voorbeeld.nl"}).status_code == 403  # fmt: skip
    lines = refusals(dossier, mark, AccessAction.INVITE_FAMILY)
    assert len(lines) == 3
    assert {(e.pupil_ref, e.case_ref) for e in lines} == {(pupil_ref, case_ref)}
    assert {e.professional_code for e in lines} == {"PRF-0001", "PRF-0002"}
    bad = invite(coordinator, case_ref, "ouder_1", "geen adres")
    assert bad.status_code == 422 and "E-mailadres: moet een e-mailadres zijn" in bad.text
    assert not mail.messages
    with dossier.db() as s:
        assert s.exec(select(FamilyLogin).where(FamilyLogin.email == "twee@voorbeeld.nl")).first() is None


def test_an_expired_link_is_refused_and_logged(dossier, mail):
    case_ref, pupil_ref, _ = pupil_with_case(dossier, age=12)
    assert invite(dossier.as_user("PRF-0001"), case_ref, "leerling", "verlopen@voorbeeld.nl").status_code == 303
    token = LINK.search(last_mail(mail, "verlopen@voorbeeld.nl").text).group(1)
    with unit_of_work(dossier.engine) as session:
        for invitation in session.exec(select(FamilyInvitation)):
            if invitation.expires_at and invitation.used_at is None:
                invitation.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
                session.add(invitation)
    mark = dossier.log_mark()
    refused = set_password(dossier.client(), token)
    assert refused.status_code == 410
    (line,) = refusals(dossier, mark, AccessAction.FAMILY_PASSWORD)
    assert (line.professional_code, line.pupil_ref, line.path) == ("leerling", pupil_ref, "/gezin/welkom")


def test_five_wrong_passwords_lock_the_login(dossier, mail):
    case_ref, _, _ = pupil_with_case(dossier, age=9)
    email = "slot@voorbeeld.nl"
    invited_and_logged_in(dossier, mail, case_ref, "ouder_1", email)
    guesser = dossier.client(address="127.0.0.7")
    for _ in range(5):
        assert password_step(guesser, email, "fout wachtwoord nummer").status_code == 401
    mark = dossier.log_mark()
    locked = password_step(guesser, email)  # the right password, from the address that guessed
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert refusals(dossier, mark, AccessAction.FAMILY_LOCKED_OUT)
    assert password_step(dossier.client(address="127.0.0.8"), email).status_code == 303  # the real parent's browser


def test_authority_removed_after_the_invitation_shows_nothing(dossier, mail):
    case_ref, pupil_ref, _ = pupil_with_case(dossier, age=14)
    browser = invited_and_logged_in(dossier, mail, case_ref, "ouder_1", "gezag.weg@voorbeeld.nl")
    assert browser.get("/gezin/").status_code == 200
    with unit_of_work(dossier.engine) as session:
        pupil = session.exec(select(Pupil).where(Pupil.ref == pupil_ref)).one()
        parent = session.exec(select(Parent).where(Parent.pupil_id == pupil.id, Parent.position == 1)).one()
        parent.has_authority = False
        session.add(parent)
    mark = dossier.log_mark()
    refused = browser.get("/gezin/")
    assert refused.status_code == 403 and "zonder gezag" in refused.text and "Kiki" not in refused.text
    (line,) = refusals(dossier, mark, AccessAction.FAMILY_VIEW)
    assert (line.professional_code, line.pupil_ref, line.case_ref) == ("ouder_1", pupil_ref, case_ref)


def test_a_pupil_of_16_closes_the_case_to_the_parents(dossier, mail):
    case_ref, pupil_ref, _ = pupil_with_case(dossier, age=16, given="Robin")
    parent = invited_and_logged_in(dossier, mail, case_ref, "ouder_1", "ouder.robin@voorbeeld.nl")
    pupil = invited_and_logged_in(dossier, mail, case_ref, "leerling", "robin@voorbeeld.nl")
    assert "Hallo Robin" in pupil.get("/gezin/").text
    assert parent.get("/gezin/ouders").status_code == 403  # only the pupil decides
    form = pupil.get("/gezin/ouders")
    assert form.status_code == 200
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    assert pupil.post("/gezin/ouders", data={"ouders_zien": "nee"}).status_code == 403  # no CSRF token
    mark = dossier.log_mark()
    assert pupil.post("/gezin/ouders", data={"ouders_zien": "nee", "csrf": csrf}).status_code == 303
    (switch,) = [e for e in dossier.log_since(mark) if e.action == AccessAction.FAMILY_SWITCH]
    assert (switch.professional_code, switch.pupil_ref, switch.case_ref) == ("leerling", pupil_ref, case_ref)
    refused = parent.get("/gezin/")
    assert refused.status_code == 403 and "Robin" not in refused.text
    (line,) = refusals(dossier, mark, AccessAction.FAMILY_VIEW)
    assert (line.professional_code, line.pupil_ref, line.case_ref) == ("ouder_1", pupil_ref, case_ref)
    assert pupil.post("/gezin/ouders", data={"ouders_zien": "ja", "csrf": csrf}).status_code == 303
    assert parent.get("/gezin/").status_code == 200


def test_a_parent_sees_only_their_own_child(dossier, mail):
    mine, _, _ = pupil_with_case(dossier, age=10, given="Eigenkind")
    other, _, _ = pupil_with_case(dossier, age=10, given="Anderkind")
    browser = invited_and_logged_in(dossier, mail, mine, "ouder_1", "eigen@voorbeeld.nl")
    invited_and_logged_in(dossier, mail, other, "ouder_1", "ander@voorbeeld.nl")
    home = browser.get("/gezin/").text
    assert "Eigenkind" in home and "Anderkind" not in home and other not in home
    # the other child's parent's address cannot be given to this child's parent
    bad = invite(dossier.as_user("PRF-0001"), mine, "ouder_1", "ander@voorbeeld.nl")
    assert bad.status_code == 422 and "hoort al bij een andere toegang" in bad.text


def test_the_demo_parent_logs_in_and_sees_the_review_coming_up(dossier, mail):
    from oja.services.logins import DEMO_PASSWORD

    browser = dossier.client()
    step = password_step(browser, "ouder.scholten@gezin.example", DEMO_PASSWORD)
    assert step.status_code == 303, step.text[-300:]
    code = CODE.search(last_mail(mail, "ouder.scholten@gezin.example").text).group(1)
    assert code_step(browser, code).status_code == 303
    home = browser.get("/gezin/").text
    assert "De pagina over Daan" in home and "gepland rond" in home
    with dossier.db() as s:  # the day in words, as on the plan page: not 09-12-2026
        review = s.exec(select(Case.next_review_on).join(Pupil).where(Pupil.family_name == "Scholten")).one()
    assert f"gepland rond <strong>{long_date(review, 'nl')}</strong>" in home
