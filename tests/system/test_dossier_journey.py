"""A coordinator's journey through the engine `oja start` runs, in headless Chromium: log in to the dossier with a
password and a TOTP code, register a pupil, find them under "Mijn casussen", follow the link to "01 Signaal
registreren" into the Prefect UI, find the form filled in with the pupil's pseudonym, submit it, and see the new
case under "Mijn casussen". Afterwards Prefect's database, every log file of the engine and every mail are searched
for the pupil's names, BSN and birth date: none may be there. Screenshots are kept with the test's files.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import random
import re
import urllib.parse

import pytest

from notifications.render import long_date
from oja.deployments import DEPLOYMENTS
from tests.factories import valid_bsn
from tests.privacy import prefect_texts
from tests.system.conftest import LOGIN_PAGE, wait

pytestmark = pytest.mark.system

COORDINATOR = "PRF-0001"  # of 10HV
VIEWPORT = {"width": 1400, "height": 1000}
CANDIDATE = re.compile(r"(?<![\w-])(?:\d{4}-\d{2}-\d{2}|\d{1,2}-\d{1,2}-\d{4}|\d{1,2} [a-z]+ \d{4})(?![\w-])|\w+")


def _name(rng: random.Random, length: int) -> str:
    return rng.choice("BDFGKLMNPRSTVWZ") + "".join(rng.choices("aeiouklmnrstvz", k=length - 1))


@pytest.fixture(scope="module")
def pupil() -> dict:
    """The pupil the coordinator registers: fictional, and words found nowhere else."""
    rng = random.Random()
    family = _name(rng, 12)
    return {
        "given": _name(rng, 9),
        "family": family,
        "parent": f"{_name(rng, 8)} {family}",
        "bsn": valid_bsn(rng.randint(0, 9999), base=610000000),
        "born": dt.date(2013, rng.randint(1, 12), rng.randint(1, 28)),
    }


def _select(page, label: str, option: str) -> None:
    """Choose `option` in the Prefect form's select (or multi-select) labelled `label`."""
    field = page.locator(
        ".schema-form-property", has=page.locator(".schema-form-property__label", has_text=re.compile(f"^{label}$"))
    ).last  # the innermost: the form's own property holds them all
    field.locator(".p-select-button__control").click()
    page.keyboard.press("ArrowDown")  # opens the options
    page.get_by_role("option", name=option, exact=True).click()


def test_a_coordinator_registers_a_pupil_and_opens_their_case_through_the_prefect_form(
    engine, browser, pupil, tmp_path
):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(engine.dossier_url + "/")
    page.wait_for_url(LOGIN_PAGE)
    page.screenshot(path=tmp_path / "01-login.png", full_page=True)
    engine.log_in(page, COORDINATOR)
    page.wait_for_url(engine.dossier_url + "/")
    assert page.get_by_role("heading", name="Mijn casussen").is_visible()
    page.screenshot(path=tmp_path / "02-my-cases.png", full_page=True)

    page.get_by_role("link", name="Leerling registreren").click()
    page.fill("#given_name", pupil["given"])
    page.fill("#family_name", pupil["family"])
    page.fill("#birth_date", pupil["born"].isoformat())
    page.select_option("#municipality_code", "GM0164")
    page.fill("#bsn", pupil["bsn"])
    page.fill("#parent_1", pupil["parent"])
    page.screenshot(path=tmp_path / "03-register.png", full_page=True)
    page.get_by_role("button", name="Registreren").click()
    page.wait_for_url(re.compile(r"/\?geregistreerd=LL-\d{6}$"))
    ref = page.url.rsplit("=", 1)[1]
    pupil["ref"] = ref
    assert f"Leerling {ref} is geregistreerd" in page.locator("[role=status]").inner_text()
    row = page.locator("tr", has_text=f"{pupil['given']} {pupil['family']}")
    assert row.count() == 1 and ref in row.inner_text()
    assert pupil["born"].strftime("%d-%m-%Y") in row.inner_text()
    page.screenshot(path=tmp_path / "04-registered.png", full_page=True)

    step = row.get_by_role("link", name=DEPLOYMENTS["signaal-registreren"])
    href = step.get_attribute("href")
    assert href.startswith(f"{engine.ui_url}/deployments/deployment/"), href
    preset = json.loads(urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)["parameters"][0])["form"]
    assert preset == {"pupil_ref": ref, "school_code": "10HV", "actor": COORDINATOR}
    step.click()
    page.wait_for_url(f"{engine.ui_url}/deployments/deployment/**")
    page.wait_for_function(
        "ref => [...document.querySelectorAll('textarea, input')].some(i => i.value === ref)", arg=ref, timeout=60_000
    )
    assert page.locator("button[modelvalue='10HV']").count() == 1  # the school, chosen
    assert page.locator(f"button[modelvalue='{COORDINATOR}']").count() == 1  # and who takes the step
    page.screenshot(path=tmp_path / "05-prefect-form.png", full_page=True)
    _select(page, "Bron van het signaal", "school")
    _select(page, "Zorgdomeinen", "leren")
    page.get_by_text("Run Name", exact=True).click()  # closes the options
    page.screenshot(path=tmp_path / "06-prefect-form-filled.png", full_page=True)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/deployments/deployment/*?tab=Runs", timeout=30_000)

    def case_listed():  # the worker runs the step; the new case is on the coordinator's list
        page.goto(engine.dossier_url + "/")
        found = page.locator("tr", has_text=f"{pupil['given']} {pupil['family']}")
        cases = [r for r in found.all() if re.search(r"OJA-\d{4}-\d{6}", r.inner_text())]
        return cases[0] if cases else None

    listed = wait(case_listed, 120, "the signal's run to open the case", every=2)
    case_ref = re.search(r"OJA-\d{4}-\d{6}", listed.inner_text()).group(0)
    pupil["case_ref"] = case_ref
    assert "wacht op triage" in listed.inner_text()
    assert listed.get_by_role("link", name=DEPLOYMENTS["triage"]).count() == 1  # the next step
    page.screenshot(path=tmp_path / "07-my-cases-with-the-case.png", full_page=True)
    listed.get_by_role("link", name=f"{pupil['given']} {pupil['family']}").click()
    page.wait_for_url(f"{engine.dossier_url}/casus/{case_ref}")
    facts = page.locator("body").inner_text()
    assert pupil["bsn"] in facts and pupil["parent"] in facts and "leren" in facts
    page.screenshot(path=tmp_path / "08-case.png", full_page=True)
    context.close()
    with engine.engine_db() as db:
        [state] = db.execute("SELECT state FROM oja_case WHERE ref = ?", (case_ref,)).fetchone()
        views = db.execute(
            "SELECT action FROM access_log WHERE professional_code = ? AND pupil_ref = ? ORDER BY id",
            (COORDINATOR, ref),
        ).fetchall()
    assert state == "wacht_op_triage"
    assert {"leerling_geregistreerd", "werklijst_bekeken", "casus_bekeken"} <= {a for (a,) in views}


def test_the_registered_pupil_is_nowhere_in_prefect_its_logs_or_the_mail(engine, pupil):
    if "case_ref" not in pupil:
        pytest.skip("the journey above did not get as far as the case")
    born: dt.date = pupil["born"]
    needles = {
        pupil["given"]: "given name",
        pupil["family"]: "family name",
        pupil["parent"].split()[0]: "parent's name",
        pupil["bsn"]: "BSN",
        born.isoformat(): "birth date",
        born.strftime("%d-%m-%Y"): "birth date",
        f"{born.day}-{born.month}-{born.year}": "birth date",
        long_date(born, "nl").split(" ", 1)[1]: "birth date",
    }
    for needle in needles:
        assert CANDIDATE.fullmatch(needle), needle
    databases = sorted((engine.home / "prefect").glob("*.db"))
    assert databases, "Prefect's database is in OJA_HOME/prefect"
    texts = [t for db in databases for t in prefect_texts(db)]
    logs = sorted((engine.home / "logs").glob("*.log"))
    assert {"prefect-server.log", "dossier.log"} <= {p.name for p in logs}
    texts += [(f"log {p.name}", p.read_text(errors="replace")) for p in logs]
    texts += [("oja start's output", engine.output.read_text(errors="replace"))]
    with engine.engine_db() as db:  # the dossier's access log: pseudonyms and codes only
        cursor = db.execute("SELECT * FROM access_log")
        columns = [d[0] for d in cursor.description]
        texts += [(f"access_log.{c}", str(v)) for row in cursor for c, v in zip(columns, row, strict=True) if v]
    texts += [(f"mail '{m.subject}'", f"{m.subject}\n{m.text}\n{m.html}") for m in engine.smtp.messages]
    # raw bytes too: a row removed or rewritten may still be in a page of the file or its write-ahead log
    raw = [p for db in databases for p in (db, db.with_name(db.name + "-wal")) if p.exists()]
    texts += [(f"bytes of {p.name}", p.read_bytes().decode("utf-8", errors="replace")) for p in raw]

    everything = "\n".join(text for _, text in texts)
    assert pupil["ref"] in everything and pupil["case_ref"] in everything, "the search sees the journey's run"
    assert f"GET /casus/{pupil['case_ref']} HTTP/1.1" in (engine.home / "logs" / "dossier.log").read_text()
    planted = f"x {pupil['bsn']}, {html.escape(pupil['family'])}. geboren {long_date(born, 'nl')}"
    assert len([c for c in CANDIDATE.findall(planted) if c in needles]) == 3

    hits = [f"{place}: {needles[c]} ({c})" for place, text in texts for c in CANDIDATE.findall(text) if c in needles]
    assert not hits, f"{len(hits)} personal data hit(s):\n" + "\n".join(hits[:20])
