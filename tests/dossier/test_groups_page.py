"""The operator's page of group arrangements (issue 23, item 19): the groups with their places, a form that creates
or changes one (every wrong field named at once, nothing written then), only for the operator, in the access log;
a case started in a group shows it on its page and in its timeline."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil

import pytest
from sqlmodel import select

from models.schooldays import previous_school_day
from models.schooldays import today as amsterdam_today
from models.tables import Case, GroupArrangement
from oja import services as sv
from oja.adapters.db import unit_of_work
from tests.dossier.conftest import SESSION_COOKIE
from tests.dossier.test_pages import actions_since, field_errors, table_rows
from tests.factories import active_case, valid_bsn

OPERATOR = "PRF-0061"


def _groups(dossier) -> dict[str, GroupArrangement]:
    with dossier.db() as s:
        return {g.code: g for g in s.exec(select(GroupArrangement)).all()}


def _form(csrf: str, **changes: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "code": "GRP-PAGINA",
        "provider_code": "KOMPASZORG",
        "professional_code": "PRF-0012",
        "school_code": "10HV",
        "capacity": "5",
        "hours_per_week": "3,5",
    } | changes


def test_the_operator_sees_every_group_with_its_places_and_the_view_is_logged(dossier):
    user = dossier.as_user(OPERATOR)
    mark = dossier.log_mark()
    response = user.get("/groepen")
    assert response.status_code == 200
    rows = {r[0]: r for r in table_rows(response.text)}
    assert rows["GRP-VK-1"][1:4] == ["KOMPASZORG", "PRF-0012", "10HV"]
    assert 'href="/groepen"' in response.text  # in the header's menu
    assert (OPERATOR, "groepen_bekeken", None) in actions_since(dossier, mark)


def test_a_group_with_several_wrong_fields_names_each_one_and_writes_nothing(dossier):
    user = dossier.as_user(OPERATOR)
    before = _groups(dossier)
    form = _form(user.csrf, professional_code="PRF-0011", school_code="99ZZ", capacity="veel", hours_per_week="0")
    response = user.post("/groepen", data=form)
    assert response.status_code == 422
    errors = field_errors(response.text)
    assert set(errors) == {"professional_code", "school_code", "capacity", "hours_per_week"}, errors
    assert "KOMPASZORG" in errors["professional_code"] and "99ZZ" in errors["school_code"]
    assert "Niets opgeslagen: 4 velden kloppen niet" in html.unescape(response.text)
    assert _groups(dossier).keys() == before.keys()


def test_the_operator_creates_then_changes_a_group_and_each_change_is_logged(dossier):
    user = dossier.as_user(OPERATOR)
    mark = dossier.log_mark()
    made = user.post("/groepen", data=_form(user.csrf))
    assert made.status_code == 303 and made.headers["location"] == "/groepen?opgeslagen=GRP-PAGINA"
    group = _groups(dossier)["GRP-PAGINA"]
    assert (group.provider_code, group.professional_code, group.school_code, group.capacity, group.hours_per_week) == (
        "KOMPASZORG", "PRF-0012", "10HV", 5, 3.5,
    )  # fmt: skip
    shown = user.get("/groepen?groep=GRP-PAGINA")
    assert 'value="GRP-PAGINA"' in shown.text and 'value="3.5"' in shown.text  # the form holds the group to change
    changed = user.post("/groepen", data=_form(user.csrf, school_code="", capacity="8"))
    assert changed.status_code == 303
    group = _groups(dossier)["GRP-PAGINA"]
    assert (group.school_code, group.capacity) == (None, 8)
    with dossier.db() as s:
        from models.tables_dossier import AccessLogEntry

        reasons = [
            e.reason
            for e in s.exec(select(AccessLogEntry).where(AccessLogEntry.id > mark)).all()
            if e.action == "groep_gewijzigd"
        ]
    assert reasons == ["groep GRP-PAGINA aangemaakt", "groep GRP-PAGINA gewijzigd"]


@pytest.mark.parametrize("code", ["PRF-0001", "PRF-0041"])
def test_anyone_but_the_operator_is_refused_and_the_refusal_is_logged(dossier, code):
    user = dossier.as_user(code)
    mark = dossier.log_mark()
    before = _groups(dossier)
    assert user.get("/groepen").status_code == 403
    response = user.post("/groepen", data=_form(user.csrf, code="GRP-NIET"))
    assert response.status_code == 403 and "alleen de beheerder" in html.unescape(response.text)
    assert _groups(dossier).keys() == before.keys()
    logged = [(e.action, e.outcome) for e in dossier.log_since(mark)]
    assert logged == [("groepen_bekeken", "geweigerd"), ("groep_gewijzigd", "geweigerd")]


def test_without_a_login_the_page_goes_to_the_login(dossier):
    response = dossier.client().get("/groepen")
    assert response.status_code == 303 and response.headers["location"].startswith("/inloggen")


def test_a_case_started_in_a_group_shows_it_on_its_page_and_in_its_timeline(dossier):
    today = amsterdam_today()
    with unit_of_work(dossier.engine) as s:
        pupil = sv.register_pupil(
            s, given_name="Guus", family_name="Groepspagina", birth_date=dt.date(today.year - 15, 1, 1),
            bsn=valid_bsn(1, base=530000000), school_code="10HV", municipality_code="GM0164", today=today,
        )  # fmt: skip
        ref = sv.register_signal(
            s, pupil_ref=pupil, school_code="10HV", source="school", domains=["leren"], urgency="normaal",
            actor="PRF-0001", received_on=today, today=today, policy=sv.DEFAULT_POLICY,
        ).case_ref  # fmt: skip
        sv.triage(s, case_ref=ref, outcome="oja", level=1, actor="PRF-0001", today=today, policy=sv.DEFAULT_POLICY)
        sv.draft_plan(
            s, case_ref=ref, goals=[sv.GoalSpec("leren")],
            interventions=[sv.InterventionSpec("KOMPASZORG", 1, setting="groep")], regie_holder="PRF-0001",
            start_on=today, planned_end_on=today + dt.timedelta(weeks=12), actor="PRF-0001", today=today,
            policy=sv.DEFAULT_POLICY, group_code="GRP-VK-1",
        )  # fmt: skip
    page = html.unescape(dossier.as_user("PRF-0001").get(f"/casus/{ref}").text)
    assert re.search(r"<dt>Groepsarrangement</dt><dd>GRP-VK-1</dd>", page)
    assert "plan versie 1; groep GRP-VK-1" in page  # the audit in words (models.words), the group named


def test_the_groups_page_in_a_browser_shows_each_wrong_field_by_its_input(dossier, tmp_path):
    from playwright.sync_api import sync_playwright

    token, _ = dossier.open_session(OPERATOR)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        context = browser.new_context()
        context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": dossier.base_url}])
        page = context.new_page()
        complaints: list[str] = []
        page.on("console", lambda m: complaints.append(m.text) if "Refused" in m.text else None)
        page.goto(f"{dossier.base_url}/groepen")
        page.fill("#code", "GRP-BROWSER")
        page.select_option("#provider_code", "KOMPASZORG")
        page.select_option("#professional_code", "PRF-0011")  # of another provider
        page.fill("#capacity", "1")
        page.fill("#hours_per_week", "2")
        page.click("button:text-is('Opslaan')")
        page.wait_for_selector(".field-error")
        invalid = page.eval_on_selector_all("[aria-invalid=true]", "els => els.map(e => e.id)")
        assert set(invalid) == {"professional_code", "capacity"}
        assert page.input_value("#code") == "GRP-BROWSER"  # what was typed stays
        page.screenshot(path=tmp_path / "groups-errors.png", full_page=True)
        browser.close()
    assert not complaints


def test_the_case_page_names_a_reason_to_differ_also_when_only_the_level_differs(dossier):
    today = previous_school_day(amsterdam_today(), "noord")  # an arrangement started on a Saturday starts on Monday
    ref = active_case(
        dossier.engine, school="10HV", coordinator="PRF-0001", bsn=valid_bsn(2, base=530000000),
        born=dt.date(today.year - 17, 1, 1), today=today, provider="JEUGDPUNT", level=3,
        names=("Lieke", "Niveaupagina"),
    )  # fmt: skip
    with unit_of_work(dossier.engine) as s:  # started two months ago
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        case.activated_on = today - dt.timedelta(days=60)
    for held_on in (today - dt.timedelta(days=30), today):  # on track twice, on days a month apart
        with unit_of_work(dossier.engine) as s:
            sv.record_review(s, case_ref=ref, held_on=held_on, actor="PRF-0001", today=today, gas_scores={1: 0})
            advice = sv.recommendation(s, case_ref=ref, policy=sv.DEFAULT_POLICY)
            if advice.kind.value == "voortzetten":
                sv.decide(s, case_ref=ref, kind="voortzetten", actor="PRF-0001", today=today, policy=sv.DEFAULT_POLICY)
    assert (advice.kind.value, advice.new_level) == ("afschalen", 2)
    with unit_of_work(dossier.engine) as s:
        sv.decide(
            s, case_ref=ref, kind="afschalen", new_level=1, override_reason="capaciteit", actor="PRF-0001",
            today=today, policy=sv.DEFAULT_POLICY,
        )  # fmt: skip
    page = html.unescape(dossier.as_user("PRF-0001").get(f"/casus/{ref}").text)
    decided = page[page.index("<h2>Besluiten en verwijzingen</h2>") :]
    assert "aanbevolen was afschalen, afgeweken: capaciteit" in decided
