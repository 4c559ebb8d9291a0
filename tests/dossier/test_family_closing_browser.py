"""The outcome questions at closing in a real browser (headless Chromium, issue 26): a parent submits the form
without choosing (the page names both questions at once), then chooses and
saves; axe-core finds no serious or critical violation on the questions with their errors, on a phone's screen.
The screenshot is kept with the test's files (`OJA_SCREENSHOTS`, when set, gets a copy to look at)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlmodel import select

from models.tables import Pupil
from models.tables_family import ClosingAnswer
from oja.services import family_logins
from tests.dossier.closing import close, closed_case
from tests.dossier.test_family_plan_browser import SERIOUS, axe_violations, chromium  # noqa: F401 - the fixture


def _token(dossier, family: str) -> str:
    import datetime as dt

    from models.schooldays import today as amsterdam_today

    now = dt.datetime.now(dt.UTC)
    with dossier.db() as s:
        pupil = s.exec(select(Pupil).where(Pupil.family_name == family)).one()
        login = family_logins.set_login(
            s, pupil, "ouder_1", f"browser.{family.lower()}@gezin.test", "een-lang-wachtwoord", now=now,
            today=amsterdam_today(),
        )  # fmt: skip
        s.commit()
        token, _ = family_logins.open_session(s, login.id, now=now)
        s.commit()
    return token


def test_a_parent_answers_in_the_browser_and_the_page_is_accessible(dossier, chromium, tmp_path):  # noqa: F811
    case_ref, _, family = closed_case(dossier)
    token = _token(dossier, family)
    close(dossier, case_ref)
    context = chromium.new_context(viewport={"width": 390, "height": 900})
    context.add_cookies([{"name": "oja_gezin", "value": token, "url": dossier.base_url}])
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if "Refused" in m.text else None)
    page.goto(f"{dossier.base_url}/gezin/")
    page.get_by_role("link", name="Naar de vragen").click()
    page.get_by_role("button", name="Antwoord opslaan").click()  # nothing chosen
    assert page.get_by_role("alert").inner_text().count("Kies") == 2
    shot = tmp_path / "gezin-afsluiting-fouten-390.png"
    page.screenshot(path=shot, full_page=True)
    if os.environ.get("OJA_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["OJA_SCREENSHOTS"]) / shot.name)
    violations = axe_violations(page)
    page.get_by_label("Tevreden", exact=True).check()
    page.get_by_label("Voor een deel").check()
    page.get_by_role("button", name="Antwoord opslaan").click()
    assert "Bedankt voor uw antwoord!" in page.get_by_role("status").inner_text()
    done = tmp_path / "gezin-afsluiting-bedankt-390.png"
    page.screenshot(path=done, full_page=True)
    if os.environ.get("OJA_SCREENSHOTS"):
        shutil.copy(done, Path(os.environ["OJA_SCREENSHOTS"]) / done.name)
    thanks_violations = axe_violations(page)
    context.close()
    assert not complaints, complaints
    assert [v for v in violations + thanks_violations if v["impact"] in SERIOUS] == [], violations + thanks_violations
    with dossier.db() as s:
        answers = s.exec(
            select(ClosingAnswer.satisfaction, ClosingAnswer.without_help).where(ClosingAnswer.party == "ouder_1")
        )
        assert ("tevreden", "deels") in answers.all()
