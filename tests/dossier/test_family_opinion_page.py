"""The family's view at a review (issue 26, hoorrecht) over real HTTP: `/gezin/mijn-mening` for the pupil and a
parent, the home page's link while a view can be given, the session's CSRF token, a bad form answered 422 with every
wrong field named in Dutch and nothing written, every view and refusal in the access log (never the family's words),
and the professional's case page showing the family's scores and words beside their own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import select

from models.schooldays import today as amsterdam_today
from models.tables import Case, Goal, Pupil
from models.tables_family import FamilyLogin
from models.tables_family_opinion import FamilyOpinion, FamilyOpinionScore
from oja.services import family_logins
from oja.services.reads import episode_plan
from tests.dossier.conftest import form_csrf
from tests.dossier.test_family_pages import family_token, text_of

FAMILY = "Scholten"  # the demo's active case with a review coming up (the pupil is 16)


@contextmanager
def review_in(dossier, days: int) -> Iterator[tuple[str, list[int]]]:
    """The demo case's next review `days` days from today (put back afterwards); (case ref, goal numbers)."""
    case_ref, _ = dossier.case_of(FAMILY)
    with dossier.db() as s:
        case = s.exec(select(Case).where(Case.ref == case_ref)).one()
        before = case.next_review_on
        case.next_review_on = amsterdam_today() + dt.timedelta(days=days)
        s.add(case)
        s.commit()
        plan = episode_plan(s, case)
        numbers = [g.number for g in s.exec(select(Goal).where(Goal.plan_id == plan.id)).all()]
    try:
        yield case_ref, sorted(numbers)
    finally:
        with dossier.db() as s:
            case = s.exec(select(Case).where(Case.ref == case_ref)).one()
            case.next_review_on = before
            s.add(case)
            for opinion in s.exec(select(FamilyOpinion).where(FamilyOpinion.case_id == case.id)).all():
                for score in s.exec(select(FamilyOpinionScore).where(FamilyOpinionScore.opinion_id == opinion.id)):
                    s.delete(score)
                s.flush()
                s.delete(opinion)
            s.commit()


@contextmanager
def family(dossier, family_name: str, party: str):
    """A logged-in browser of `party`: their login of the demo if there is one, else a new one."""
    with dossier.db() as s:
        pupil = s.exec(select(Pupil).where(Pupil.family_name == family_name)).one()
        login = s.exec(select(FamilyLogin).where(FamilyLogin.pupil_id == pupil.id, FamilyLogin.party == party)).first()
        if login is None or login.id is None:
            login_id = family_token(dossier, family_name, party)[1]
        else:
            login_id = login.id
        token, csrf = family_logins.open_session(s, login_id, now=dt.datetime.now(dt.UTC))
        s.commit()
    client = dossier.client()
    client.cookies.set("oja_gezin", token)
    client.headers["x-test-csrf"] = csrf  # the session's token, for a test that posts without a form
    yield client


def test_the_pupil_gives_a_view_changes_it_and_every_step_is_logged_without_their_words(dossier):
    with review_in(dossier, 8) as (case_ref, goals), family(dossier, FAMILY, "leerling") as client:
        home = client.get("/gezin/")
        assert home.status_code == 200 and 'href="/gezin/mijn-mening"' in home.text
        mark = dossier.log_mark()
        form = client.get("/gezin/mijn-mening")
        assert form.status_code == 200, form.text[-500:]
        text = text_of(form.text)
        assert "Jouw mening komt bij het gesprek op" in text
        assert "Veel beter dan we hoopten" in text and "Weet ik niet" in text
        assert all(f'name="doel_{n}"' in form.text for n in goals)
        csrf = form_csrf(form.text)

        no_token = client.post("/gezin/mijn-mening", data={f"doel_{goals[0]}": "1"})
        assert no_token.status_code == 403 and "CSRF" in no_token.text

        bad = client.post(
            "/gezin/mijn-mening", data={"csrf": csrf, f"doel_{goals[0]}": "5", "moet_anders": "geheim " * 400}
        )
        assert bad.status_code == 422, bad.text[-500:]
        said = text_of(bad.text)
        for n in goals:
            assert f"bij doel {n}" in said
        assert "2000 tekens" in said
        with dossier.db() as s:
            case = s.exec(select(Case).where(Case.ref == case_ref)).one()
            assert s.exec(select(FamilyOpinion).where(FamilyOpinion.case_id == case.id)).all() == []  # nothing

        good = {"csrf": csrf, "gaat_goed": "Ik mag zelf kiezen", **{f"doel_{n}": "-1" for n in goals}}
        saved = client.post("/gezin/mijn-mening", data=good)
        assert saved.status_code == 303 and saved.headers["location"] == "/gezin/mijn-mening?opgeslagen=1"
        again = client.post("/gezin/mijn-mening", data={**good, f"doel_{goals[0]}": "weet_ik_niet"})
        assert again.status_code == 303
        shown = client.get("/gezin/mijn-mening?opgeslagen=1")
        assert "Ik mag zelf kiezen" in shown.text and 'value="weet_ik_niet" checked' in shown.text
        english = client.get("/gezin/mijn-mening?taal=en")
        assert "Your view goes to the meeting on" in text_of(english.text)
        professional = dossier.as_user("PRF-0001").get(f"/casus/{case_ref}")  # the coordinator, in scope
        assert professional.status_code == 200
        section = professional.text[professional.text.index("<h2>Mening van leerling en ouders</h2>") :]
        assert "Ik mag zelf kiezen" in section and "weet niet" in section and "kan nog wijzigen" in section
    lines = [(e.action, e.outcome, e.case_ref, e.reason) for e in dossier.log_since(mark)]
    assert [(a, o) for a, o, _, _ in lines] == [
        ("gezin_mening_bekeken", "toegestaan"),
        ("gezin_mening_gegeven", "geweigerd"),
        ("gezin_mening_gegeven", "geweigerd"),
        ("gezin_mening_gegeven", "toegestaan"),
        ("gezin_mening_gegeven", "toegestaan"),
        ("gezin_mening_bekeken", "toegestaan"),
        ("gezin_mening_bekeken", "toegestaan"),
        ("casus_bekeken", "toegestaan"),  # the professional's view of the case page: logged as every view
    ]
    assert all(ref == case_ref for _, _, ref, _ in lines)
    assert not any("geheim" in (r or "") or "kiezen" in (r or "") for *_, r in lines)  # never their words
    assert "doel_" in lines[2][3] and "moet_anders" in lines[2][3]  # the refused fields by name


def test_without_a_review_coming_there_is_no_view_to_give_and_a_post_is_refused_and_logged(dossier):
    with review_in(dossier, 60) as (case_ref, goals), family(dossier, FAMILY, "ouder_1") as client:
        assert 'href="/gezin/mijn-mening"' not in client.get("/gezin/").text
        form = client.get("/gezin/mijn-mening")
        assert form.status_code == 200 and "Er is nu geen gesprek" in text_of(form.text)
        mark = dossier.log_mark()
        csrf = client.headers["x-test-csrf"]
        refused = client.post("/gezin/mijn-mening", data={"csrf": csrf, f"doel_{goals[0]}": "1"})
        assert refused.status_code == 409 and "geen evaluatie op komst" in text_of(refused.text)
    assert [(e.action, e.outcome) for e in dossier.log_since(mark)] == [("gezin_mening_gegeven", "geweigerd")]


def test_a_parent_the_pupil_of_16_closed_the_case_to_is_refused_and_logged(dossier):
    with review_in(dossier, 8), family(dossier, FAMILY, "ouder_2") as client:
        with dossier.db() as s:
            pupil = s.exec(select(Pupil).where(Pupil.family_name == FAMILY)).one()
            pupil.parents_may_see = False
            s.add(pupil)
            s.commit()
        try:
            mark = dossier.log_mark()
            response = client.get("/gezin/mijn-mening")
            assert response.status_code == 403
            assert [(e.action, e.outcome) for e in dossier.log_since(mark)] == [("gezin_mening_bekeken", "geweigerd")]
        finally:
            with dossier.db() as s:
                pupil = s.exec(select(Pupil).where(Pupil.family_name == FAMILY)).one()
                pupil.parents_may_see = True
                s.add(pupil)
                s.commit()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
