"""The outcome questions at closing on the family's own page (issue 26) over real HTTP: shown on the home page while
open, answered with the session's CSRF token, every wrong field named at once in Dutch (422), thanks and what
happens with the answer, changed later; a parent of another child has no question to answer; every view, answer and
refusal in the access log with the party and the pupil's reference, never the answer."""

from __future__ import annotations

from sqlmodel import select

from models.tables_family import ClosingAnswer
from tests.dossier.closing import close, closed_case, family_client, family_session
from tests.dossier.conftest import form_csrf
from tests.dossier.test_family_pages import text_of


def _answers(dossier, case_ref: str) -> list[tuple[str, str | None, str | None]]:
    from models.tables import Case

    with dossier.db() as s:
        case_id = s.exec(select(Case.id).where(Case.ref == case_ref)).one()
        rows = s.exec(select(ClosingAnswer).where(ClosingAnswer.case_id == case_id).order_by(ClosingAnswer.party))
        return [(r.party, r.satisfaction, r.without_help) for r in rows]


def test_a_parent_answers_the_two_questions_after_closing_and_it_is_logged(dossier):
    case_ref, pupil_ref, family = closed_case(dossier)
    parent = family_client(dossier, family, "ouder_1")
    before = text_of(parent.get("/gezin/").text)
    assert "Twee vragen over de hulp" not in before  # nothing to ask while the help runs
    assert "Er staan nu geen vragen" in text_of(parent.get("/gezin/afsluiting").text)
    close(dossier, case_ref)
    assert _answers(dossier, case_ref) == [("ouder_1", None, None)]  # ouder_2 and the pupil have no login
    home = parent.get("/gezin/")
    assert home.status_code == 200 and "Twee vragen over de hulp" in text_of(home.text)
    assert 'href="/gezin/afsluiting"' in home.text
    mark = dossier.log_mark()
    page = parent.get("/gezin/afsluiting")
    assert page.status_code == 200, page.text[-500:]
    text = text_of(page.text)
    assert "Hoe tevreden bent u over de hulp en over wat die heeft opgeleverd?" in text
    assert "Kunnen u en uw kind nu verder zonder deze hulp?" in text
    assert "Wat gebeurt er met uw antwoord?" in text
    token = form_csrf(page.text)

    no_token = parent.post("/gezin/afsluiting", data={"tevredenheid": "tevreden", "verder_zonder_hulp": "ja"})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong = parent.post("/gezin/afsluiting", data={"tevredenheid": "super", "csrf": token})
    assert wrong.status_code == 422
    said = text_of(wrong.text)
    assert "Kies een van de antwoorden op de pagina." in said and "Kies of u verder kunt zonder deze hulp." in said
    assert 'value="super"' not in wrong.text
    assert _answers(dossier, case_ref) == [("ouder_1", None, None)]  # nothing half-written

    done = parent.post(
        "/gezin/afsluiting", data={"tevredenheid": "tevreden", "verder_zonder_hulp": "deels", "csrf": token}
    )
    assert done.status_code == 303 and done.headers["location"] == "/gezin/afsluiting?bedankt=1"
    thanks = parent.get(done.headers["location"])
    assert "Bedankt voor uw antwoord!" in text_of(thanks.text)
    assert 'value="tevreden" checked' in thanks.text and 'value="deels" checked' in thanks.text
    again = parent.post(
        "/gezin/afsluiting?taal=en", data={"tevredenheid": "heel_tevreden", "verder_zonder_hulp": "ja", "csrf": token}
    )
    assert again.status_code == 303 and again.headers["location"].endswith("&taal=en")
    english = parent.get(again.headers["location"])
    assert '<html lang="en">' in english.text and "Thank you for your answer!" in english.text
    assert _answers(dossier, case_ref) == [("ouder_1", "heel_tevreden", "ja")]

    lines = [x for x in dossier.log_since(mark) if x.action == "gezin_afsluitvragen"]
    assert [(x.professional_code, x.role, x.pupil_ref, x.case_ref) for x in lines] == [
        ("ouder_1", "gezin", pupil_ref, case_ref)
    ] * len(lines)
    assert [x.outcome for x in lines] == [
        "toegestaan",
        "geweigerd",
        "geweigerd",
        "toegestaan",
        "toegestaan",
        "toegestaan",
        "toegestaan",
    ]
    assert not any("tevreden" in (x.reason or "") for x in lines)  # the answers never go into the log


def test_a_parent_of_another_child_has_no_question_and_cannot_answer(dossier):
    case_ref, _, family = closed_case(dossier)
    family_client(dossier, family, "ouder_1")  # this parent is asked
    close(dossier, case_ref)
    _, other_pupil, other_family = closed_case(dossier)  # another child, still in help
    other, csrf = family_session(dossier, other_family, "ouder_1")
    page = other.get("/gezin/afsluiting")
    assert "Er staan nu geen vragen" in text_of(page.text)
    mark = dossier.log_mark()
    refused = other.post(
        "/gezin/afsluiting", data={"tevredenheid": "tevreden", "verder_zonder_hulp": "ja", "csrf": csrf}
    )
    assert refused.status_code == 403
    assert _answers(dossier, case_ref) == [("ouder_1", None, None)]
    (line,) = [x for x in dossier.log_since(mark) if x.action == "gezin_afsluitvragen"]
    assert (line.outcome, line.pupil_ref) == ("geweigerd", other_pupil)


def test_nobody_logged_in_goes_to_the_family_login(dossier):
    response = dossier.client().get("/gezin/afsluiting")
    assert response.status_code == 303 and response.headers["location"] == "/gezin/inloggen"
