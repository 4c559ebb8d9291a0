"""The family's own pages (issue 26) on the demo region: the plan in words for a parent or the pupil, in Dutch and in
English, the own subject-access download, each logged with the party and the pupil's reference; nobody logged in
goes to the family's login. Over real HTTP (the package's server), each family member with a login of their own and
a family session made directly (the login itself: test_family_login.py)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from models.decisions import RecommendationRule
from models.schooldays import today as amsterdam_today
from models.tables import Parent, Pupil
from models.vocabulary import ChangeReason, DecisionKind, EndReason, OtherDecision, OverrideReason, Role
from oja.services import family_logins

TAG = re.compile(r"<[^>]+>")
CODES = {c.value for e in (DecisionKind, OtherDecision, EndReason, ChangeReason, OverrideReason) for c in e}
CODES |= {c.value for c in RecommendationRule} | {r.value for r in Role}


def text_of(page: str) -> str:
    body = page.split("<body>", 1)[1]
    return " ".join(html.unescape(TAG.sub(" ", body)).split())


def pupil_of(dossier, family_name: str) -> Pupil:
    with dossier.db() as s:
        return s.exec(select(Pupil).where(Pupil.family_name == family_name)).one()


def family_token(dossier, family_name: str, party: str) -> tuple[str, int]:
    """A family session of `party` of the demo pupil with this family name: (its cookie's token, the login's id)."""
    now = dt.datetime.now(dt.UTC)
    with dossier.db() as s:
        pupil = s.exec(select(Pupil).where(Pupil.family_name == family_name)).one()
        email = f"{party}.{family_name.lower()}@gezin.test"
        login = family_logins.set_login(s, pupil, party, email, "een-lang-wachtwoord", now=now, today=amsterdam_today())
        s.commit()
        assert login.id is not None
        token, _ = family_logins.open_session(s, login.id, now=now)
        s.commit()
        return token, login.id


@contextmanager
def family(dossier, family_name: str, party: str) -> Iterator[httpx.Client]:
    """A browser of the family member `party` of the demo pupil with this family name, logged in."""
    token, _ = family_token(dossier, family_name, party)
    client = dossier.client()
    client.cookies.set("oja_gezin", token)
    yield client


def test_a_parent_reads_the_plan_in_plain_dutch_and_the_view_is_logged_by_party_and_pupil(dossier):
    case_ref, pupil_ref = dossier.case_of("Dijkstra")  # escalated to specialised care, then back in school
    mark = dossier.log_mark()
    with family(dossier, "Dijkstra", "ouder_1") as client:
        login_id = family_token(dossier, "Dijkstra", "ouder_1")[1]
        response = client.get("/gezin/plan")
    assert response.status_code == 200, response.text[-500:]
    assert '<html lang="nl">' in response.text
    assert "script" not in response.headers["content-security-policy"], "the dossier's CSP: no script at all"
    text = text_of(response.text)
    assert "Het plan van Julia" in text
    for heading in ("Waar werken we aan?", "Wie is uw vaste aanspreekpunt?", "Wat is er besloten?"):
        assert heading in text
    assert "Er is nog geen plan." in text and "Wie helpt en hoe?" not in text  # back in school: a new plan is due
    assert case_ref in text and "Noem dit nummer" in text  # a code, with what it is for
    assert "De leerling krijgt gespecialiseerde zorg buiten school." in text  # the decisions in words
    assert "De hulp gaat weer verder op school." in text
    assert not [code for code in CODES if "_" in code and code in text], "no codes on the family's page"
    assert "PRF-" not in text and "Dijkstra" not in text  # no professional's code, the child by first name
    with dossier.db() as s:
        pupil = s.exec(select(Pupil).where(Pupil.ref == pupil_ref)).one()
    assert pupil.bsn not in response.text and pupil.birth_date.isoformat() not in response.text
    [line] = dossier.log_since(mark)
    assert (line.professional_code, line.role, line.action, line.pupil_ref, line.case_ref, line.path) == (
        "ouder_1",
        "gezin",
        "gezin_plan_bekeken",
        pupil_ref,
        case_ref,
        "/gezin/plan",
    )
    assert line.reason == f"gezin: ouder_1, login {login_id}"


def test_the_same_page_in_english(dossier):
    with family(dossier, "Dijkstra", "ouder_2") as client:
        response = client.get("/gezin/plan", params={"taal": "en"})
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    text = text_of(response.text)
    assert "Julia's plan" in text and "Who is your contact person?" in text and "What has been decided?" in text
    assert "The pupil gets specialised care outside school." in text
    assert 'href="?taal=nl"' in response.text and "Lees in het Nederlands" in text
    assert "Het plan van" not in text


def test_who_still_has_to_consent_is_named_as_seen_by_the_reader(dossier):
    """Yara is 14: both parents and she herself consent; the demo's plan waits for consent."""
    with family(dossier, "Bosman", "ouder_2") as client:
        parent = text_of(client.get("/gezin/plan").text)
    with family(dossier, "Bosman", "leerling") as client:
        pupil = text_of(client.get("/gezin/plan").text)
    assert "Wie heeft toestemming gegeven?" in parent
    assert "Wie helpt en hoe?" in parent and "uur per week" in parent
    assert re.search(r"De andere ouder: (toestemming gegeven|nog niet gegeven)", parent), parent
    assert re.search(r"U: (toestemming gegeven|nog niet gegeven)", parent)
    assert re.search(r"Uw kind: (toestemming gegeven|nog niet gegeven)", parent)
    with dossier.db() as s:
        names = [p.name for p in s.exec(select(Parent).where(Parent.pupil_id == pupil_of(dossier, "Bosman").id))]
    for name in names:
        assert f"Uw ouder {name}:" in pupil
    assert re.search(r"\bU: (toestemming gegeven|nog niet gegeven)", pupil)


def test_the_own_export_is_downloaded_and_logged_a_line_per_case(dossier):
    case_ref, pupil_ref = dossier.case_of("Hendriks")  # reopened: one case, two episodes
    mark = dossier.log_mark()
    with family(dossier, "Hendriks", "leerling") as client:
        response = client.get("/gezin/inzage")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith(f'attachment; filename="inzage-{pupil_ref}-')
    data = json.loads(response.content)
    assert data["pupil"]["ref"] == pupil_ref
    assert {c["case"]["ref"] for c in data["cases"]} == {case_ref}
    with family(dossier, "Hendriks", "leerling") as client:
        page = text_of(client.get("/gezin/plan").text)
    assert "De school bekijkt wat nodig is." in page and "De hulp is begonnen" not in page  # reopened: a new start
    lines = [x for x in dossier.log_since(mark) if x.action == "gezin_inzage_gedownload"]
    assert [(x.professional_code, x.action, x.pupil_ref, x.case_ref) for x in lines] == [
        ("leerling", "gezin_inzage_gedownload", pupil_ref, case_ref)
    ]


def test_nobody_logged_in_goes_to_the_familys_login_and_nothing_is_logged(dossier):
    mark = dossier.log_mark()
    client = dossier.client()  # the real server, with the placeholder login: nobody of a family is logged in
    for path in ("/gezin/plan", "/gezin/inzage", "/gezin/plan?taal=en"):
        response = client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/gezin/inloggen")
    assert dossier.log_since(mark) == []


def test_a_professionals_session_is_no_familys_login(dossier):
    user = dossier.as_user("PRF-0001")
    response = user.get("/gezin/plan")
    assert (response.status_code, response.headers["location"]) == (303, "/gezin/inloggen")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(
    taal=st.one_of(st.sampled_from(["en", "nl", "EN", "", "fr", "\x00", "é", "en\r\nX: y"]), st.text(max_size=30)),
    path=st.sampled_from(["/gezin/plan", "/gezin/inzage"]),
)
def test_any_query_on_the_familys_pages_gives_dutch_or_english_never_a_crash(dossier, taal, path):
    with family(dossier, "Bosman", "ouder_1") as client:
        response = client.get(path, params={"taal": taal})
    dossier.close()
    assert response.status_code == 200, response.text[-300:]
    if path == "/gezin/plan":
        assert f'<html lang="{"en" if taal == "en" else "nl"}">' in response.text
