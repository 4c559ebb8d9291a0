"""Consent online (issue 26, 4) through HTTP: the family's own consent page, its form (CSRF, yes or no and nothing
else), the request bound to the login, the run started in Prefect (here a stand-in that records what it was given:
the real run is tests/flows/test_family_consent_flow.py), Prefect not reached (a Dutch 503, nothing taken), and the
refusals in the access log."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from models.schooldays import today as amsterdam_today
from models.tables import Case, ConsentRecord, Parent, Pupil
from models.tables_family import FamilyConsentRequest
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import get_policy
from oja.dossier import family_consent_run
from oja.dossier.gateway_proxy import Upstream
from oja.services import family_logins
from tests.dossier.family import pupil_with_case
from tests.dossier.test_family_pages import text_of

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _planned(dossier, *, age: int, parents=(("Ouder Een", True), ("Ouder Twee", True))) -> tuple[str, str]:
    case_ref, _, family = pupil_with_case(dossier, age=age, parents=parents)
    today = amsterdam_today()
    with unit_of_work(dossier.engine) as s:
        sv.triage(s, case_ref=case_ref, outcome="oja", level=2, actor="PRF-0001", today=today, policy=get_policy())
    with unit_of_work(dossier.engine) as s:
        sv.draft_plan(
            s, case_ref=case_ref, goals=[sv.GoalSpec("leren")], interventions=[sv.InterventionSpec("JEUGDPUNT", 2)],
            regie_holder="PRF-0001", start_on=today, planned_end_on=today + dt.timedelta(weeks=20), actor="PRF-0001",
            today=today, policy=get_policy(),
        )  # fmt: skip
    return case_ref, family


def _browser(dossier, family: str, party: str):
    now = dt.datetime.now(dt.UTC)
    with dossier.db() as s:
        pupil = s.exec(select(Pupil).where(Pupil.family_name == family)).one()
        email = f"{party}.{family.lower()}@gezin.test"
        login = family_logins.set_login(s, pupil, party, email, "een-lang-wachtwoord", now=now, today=amsterdam_today())
        s.commit()
        token, _ = family_logins.open_session(s, login.id, now=now)
        s.commit()
    client = dossier.client()
    client.cookies.set("oja_gezin", token)
    return client


class Runs:
    """A stand-in for Prefect: the runs the dossier asked for."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str, bool, str]] = []

    def __call__(self, case_ref: str, party: str, granted: bool, token: str) -> str:
        self.made.append((case_ref, party, granted, token))
        return "run-id"


@pytest.fixture
def runs(monkeypatch) -> Runs:
    made = Runs()
    monkeypatch.setattr(family_consent_run, "start_consent_run", made)
    return made


def _requests(dossier, case_ref: str) -> list[FamilyConsentRequest]:
    with dossier.db() as s:
        case = s.exec(select(Case).where(Case.ref == case_ref)).one()
        return list(s.exec(select(FamilyConsentRequest).where(FamilyConsentRequest.case_id == case.id)).all())


def test_a_parent_gives_consent_the_request_waits_for_its_run_and_the_page_says_so(dossier, runs):
    case_ref, family = _planned(dossier, age=14)
    client = _browser(dossier, family, "ouder_1")
    form = client.get("/gezin/toestemming")
    assert form.status_code == 200, form.text[-800:]
    text = text_of(form.text)
    assert "Wie moet toestemming geven?" in text and "12, 13, 14 of 15 jaar" in text
    assert "U: nog niet gegeven" in text and "Ja, ik geef toestemming" in text
    mark = dossier.log_mark()
    sent = client.post("/gezin/toestemming", data={"antwoord": "ja", "csrf": CSRF.search(form.text).group(1)})
    assert (sent.status_code, sent.headers["location"]) == (303, "/gezin/toestemming?verstuurd=1")
    [request] = _requests(dossier, case_ref)
    assert (request.party, request.granted, request.status, request.plan_version) == ("ouder_1", True, "wacht", 1)
    assert runs.made == [(case_ref, "ouder_1", True, request.token)]  # codes and the request's id only
    [line] = dossier.log_since(mark)
    assert (line.professional_code, line.action, line.outcome, line.case_ref) == (
        "ouder_1", "gezin_toestemming_verstuurd", "toegestaan", case_ref,
    )  # fmt: skip
    waiting = text_of(client.get("/gezin/toestemming?verstuurd=1").text)
    assert "Ontvangen, wordt verwerkt" in waiting and "Ja, ik geef toestemming" not in waiting
    # the run takes it: what the consent step does with these parameters
    with unit_of_work(dossier.engine) as s:
        sv.record_consent(
            s, case_ref=case_ref, party="ouder_1", granted=True, actor="ouder_1", today=amsterdam_today(),
            family_request=request.token,
        )  # fmt: skip
    done = text_of(client.get("/gezin/toestemming").text)
    assert "Uw antwoord is verwerkt" in done and "Uw toestemming is vastgelegd." in done
    assert "U: toestemming gegeven" in done
    english = text_of(client.get("/gezin/toestemming?taal=en").text)
    assert "Your answer has been processed" in english and "You: consent given" in english


def test_prefect_not_reached_is_a_dutch_503_and_nothing_is_taken(dossier, monkeypatch):
    case_ref, family = _planned(dossier, age=10)
    monkeypatch.setattr(family_consent_run, "upstream", lambda: Upstream("http://127.0.0.1:9", ""))  # nobody there
    client = _browser(dossier, family, "ouder_2")
    form = client.get("/gezin/toestemming")
    mark = dossier.log_mark()
    sent = client.post("/gezin/toestemming", data={"antwoord": "ja", "csrf": CSRF.search(form.text).group(1)})
    assert sent.status_code == 503
    assert "niet</strong> doorgekomen" in sent.text and "Probeer het later nog eens" in sent.text
    [request] = _requests(dossier, case_ref)
    assert request.status == "niet_verzonden"
    with dossier.db() as s:
        assert s.exec(select(ConsentRecord).where(ConsentRecord.case_id == request.case_id)).all() == []
    outcomes = [(x.action, x.outcome) for x in dossier.log_since(mark)]
    assert outcomes == [("gezin_toestemming_verstuurd", "toegestaan"), ("gezin_toestemming_verstuurd", "geweigerd")]
    again = text_of(client.get("/gezin/toestemming").text)
    assert "niet verwerkt. Probeer het opnieuw" in again and "Ja, ik geef toestemming" in again  # may try again


def test_a_form_without_the_sessions_token_is_refused_and_logged(dossier, runs):
    case_ref, family = _planned(dossier, age=14)
    client = _browser(dossier, family, "leerling")
    mark = dossier.log_mark()
    refused = client.post("/gezin/toestemming", data={"antwoord": "ja", "csrf": "van-een-andere-site"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert _requests(dossier, case_ref) == [] and runs.made == []
    [line] = dossier.log_since(mark)
    assert (line.action, line.outcome, line.professional_code) == (
        "gezin_toestemming_verstuurd",
        "geweigerd",
        "leerling",
    )
    assert "CSRF" in line.reason


def test_no_field_of_the_form_chooses_the_case_or_the_party(dossier, runs):
    """A parent of one child sends another child's case and another party: their own login decides both."""
    mine, family = _planned(dossier, age=14)
    other, _ = _planned(dossier, age=14)
    client = _browser(dossier, family, "ouder_1")
    form = client.get("/gezin/toestemming")
    data = {"antwoord": "ja", "csrf": CSRF.search(form.text).group(1), "casus": other, "partij": "leerling"}
    sent = client.post("/gezin/toestemming", data=data)
    assert sent.status_code == 303
    assert _requests(dossier, other) == []
    assert [(r.party, r.case_id is not None) for r in _requests(dossier, mine)] == [("ouder_1", True)]
    assert [(ref, party) for ref, party, _, _ in runs.made] == [(mine, "ouder_1")]


def test_a_parent_without_authority_is_refused_and_the_refusal_logged(dossier, runs):
    case_ref, family = _planned(dossier, age=10)
    client = _browser(dossier, family, "ouder_2")
    with dossier.db() as s:  # the court took the second parent's authority after the login was made
        pupil = s.exec(select(Pupil).where(Pupil.family_name == family)).one()
        parent = s.exec(select(Parent).where(Parent.pupil_id == pupil.id, Parent.position == 2)).one()
        parent.has_authority = False
        s.add(parent)
        s.commit()
    mark = dossier.log_mark()
    assert client.get("/gezin/toestemming").status_code == 403
    refused = client.post("/gezin/toestemming", data={"antwoord": "ja", "csrf": "x"})
    assert refused.status_code == 403 and "gezag" in refused.text
    assert _requests(dossier, case_ref) == [] and runs.made == []
    lines = [(x.action, x.outcome, x.case_ref) for x in dossier.log_since(mark)]
    assert lines == [
        ("gezin_toestemming_bekeken", "geweigerd", case_ref),
        ("gezin_toestemming_verstuurd", "geweigerd", case_ref),
    ]


def test_a_parent_of_a_seventeen_year_old_is_told_their_consent_is_not_needed(dossier, runs):
    _, family = _planned(dossier, age=17)
    client = _browser(dossier, family, "ouder_1")
    text = text_of(client.get("/gezin/toestemming").text)
    assert "16 jaar of ouder" in text and "Uw toestemming is niet nodig." in text
    assert "telt niet als toestemming" in text


def test_after_a_withdrawal_the_plan_page_says_the_help_is_paused(dossier, runs):
    """The plan page said only "De hulp is begonnen op ..." while the arrangement stood still for want of consent."""
    case_ref, family = _planned(dossier, age=17, parents=())
    today = amsterdam_today()
    with unit_of_work(dossier.engine) as s:
        sv.record_consent(s, case_ref=case_ref, party="leerling", granted=True, actor="PRF-0001", today=today)
    with unit_of_work(dossier.engine) as s:
        sv.activate(s, case_ref=case_ref, actor="PRF-0001", today=today)
    client = _browser(dossier, family, "leerling")
    assert "staat stil" not in text_of(client.get("/gezin/plan").text)
    with unit_of_work(dossier.engine) as s:
        sv.record_consent(s, case_ref=case_ref, party="leerling", granted=False, actor="PRF-0001", today=today)
    paused = text_of(client.get("/gezin/plan").text)
    assert "Nu staat de hulp stil: eerst moet iedereen die het moet (weer) toestemming geven." in paused
    assert "The help is paused now" in text_of(client.get("/gezin/plan?taal=en").text)
