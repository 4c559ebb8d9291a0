"""A parent's journey through the engine `oja start` runs (issue 26), in headless Chromium, without a professional
typing anything for them:

1. the coordinator invites the parent from the case page; the invitation mail arrives at the SMTP server, and its
   link sets up the parent's login;
2. the parent logs in with the code from the next mail and reads the plan;
3. the parent consents on their page: the consent becomes a run of "04 Toestemming" in Prefect with the party as
   actor (codes only), the worker runs it and the case moves on;
4. the arrangement starts and, weeks later (the test moves the review day to a week from now), the daily sweep asks
   the parent for their view by mail; the parent fills in the questionnaire, and the coordinator sees it on the case.

Every family page passes axe-core. Afterwards Prefect's database, the engine's logs and every mail are searched for
the pupil's and the parent's personal data, the parent's e-mail address and the parent's own words: none may be
there. Screenshots are kept with the test's files.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from models.schooldays import add_school_days, previous_school_day
from models.schooldays import today as amsterdam_today
from notifications.render import long_date
from oja.deployments import deployment_path
from tests.factories import valid_bsn
from tests.privacy import prefect_texts
from tests.system.conftest import wait

pytestmark = pytest.mark.system

COORDINATOR = "PRF-0001"  # of 10HV
PASSWORD = "een zin die alleen deze ouder kent"
PHONE = {"width": 400, "height": 860}
LINK = re.compile(r"/gezin/welkom/([A-Za-z0-9_\-]+)")
CODE = re.compile(r"Uw inlogcode is: ([0-9]{6})")
TOKEN = re.compile(r"(?<![\w-])(?:\d{4}-\d{2}-\d{2}|\d{1,2}-\d{1,2}-\d{4}|\d{1,2} [a-z]+ \d{4})(?![\w-])|\w+")


def school_day() -> dt.date:
    """Today, or on a weekend or in a holiday the school day before it: the day the test's sweep runs as of (the
    sweep asks the family only on a school day)."""
    return previous_school_day(amsterdam_today(), "noord")


def _word(rng: random.Random, length: int) -> str:
    return rng.choice("BDFGKLMNPRSTVWZ") + "".join(rng.choices("aeiouklmnrstvz", k=length - 1))


@pytest.fixture(scope="module")
def family(engine) -> dict:
    """A pupil of 10 at 10HV whose joint plan waits for the parents' consent: fictional, words found nowhere else."""
    from oja import services as sv
    from oja.adapters.db import get_engine, unit_of_work

    rng = random.Random()
    today = school_day()
    found = {
        "given": _word(rng, 9),
        "family": _word(rng, 12),
        "parent_given": _word(rng, 8),
        "bsn": valid_bsn(rng.randint(0, 9999), base=620000000),
        "born": dt.date(today.year - 10, rng.randint(1, 12), rng.randint(1, 28)) - dt.timedelta(days=366),
        "mailbox": _word(rng, 11).lower(),
        "going_well": _word(rng, 10),
        "to_change": _word(rng, 10),
    }
    found["email"] = f"{found['mailbox']}@gezin.example"
    db = get_engine(f"sqlite:///{engine.home / 'oja.db'}")
    with unit_of_work(db) as s:
        pupil = sv.register_pupil(
            s,
            given_name=found["given"],
            family_name=found["family"],
            birth_date=found["born"],
            bsn=found["bsn"],
            school_code="10HV",
            municipality_code="GM0164",
            parents=[sv.ParentSpec(f"{found['parent_given']} {found['family']}")],
            today=today,
        )
        ref = sv.register_signal(
            s,
            pupil_ref=pupil,
            school_code="10HV",
            source="school",
            domains=["leren"],
            urgency="normaal",
            actor=COORDINATOR,
            received_on=today,
            today=today,
            policy=sv.DEFAULT_POLICY,
        ).case_ref
        sv.triage(s, case_ref=ref, outcome="oja", level=2, actor=COORDINATOR, today=today, policy=sv.DEFAULT_POLICY)
        sv.draft_plan(
            s,
            case_ref=ref,
            goals=[sv.GoalSpec("leren")],
            interventions=[sv.InterventionSpec("JEUGDPUNT", 2)],
            regie_holder=COORDINATOR,
            start_on=today,
            planned_end_on=today + dt.timedelta(weeks=20),
            actor=COORDINATOR,
            today=today,
            policy=sv.DEFAULT_POLICY,
        )
    found.update(pupil_ref=pupil, case_ref=ref)
    return found


def _mail_to(engine, address: str, count: int):
    """The `count`-th mail to `address` (1-based), once it has arrived."""
    return wait(lambda: ([m for m in engine.smtp.messages if address in m.rcpt_tos][count - 1:] or [None])[0],
                60, f"mail {count} to the parent")  # fmt: skip


def _axe(page, where: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page)
    serious = [v for v in found.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, f"{where}: " + "; ".join(f"{v['id']}: {v['help']}" for v in serious)


def _state(engine, case_ref: str) -> str:
    with engine.engine_db() as db:
        return db.execute("SELECT state FROM oja_case WHERE ref = ?", (case_ref,)).fetchone()[0]


def test_a_parent_is_invited_logs_in_consents_and_gives_their_view_which_the_coordinator_sees(
    engine, browser, family, tmp_path
):
    case_ref = family["case_ref"]
    # 1. the coordinator invites the parent from the case page
    coordinator_context, coordinator = engine.signed_in(browser, COORDINATOR)
    coordinator.goto(f"{engine.dossier_url}/casus/{case_ref}/uitnodigen")
    coordinator.select_option("#partij", "ouder_1")
    coordinator.fill("#e-mailadres", family["email"])
    coordinator.get_by_role("button", name="Uitnodiging versturen").click()
    assert "is verstuurd" in coordinator.locator("[role=status]").inner_text()
    coordinator.screenshot(path=tmp_path / "01-invited.png", full_page=True)
    invitation = _mail_to(engine, family["email"], 1)
    link = LINK.search(invitation.text)
    assert link, invitation.text

    # 2. the parent sets a password through the link, logs in with the code of the next mail, reads the plan
    parent_context = browser.new_context(viewport=PHONE)
    parent = parent_context.new_page()
    parent.goto(f"{engine.dossier_url}/gezin/welkom/{link.group(1)}")
    _axe(parent, "welkom")
    parent.fill("#wachtwoord", PASSWORD)
    parent.fill("#wachtwoord_herhaald", PASSWORD)
    parent.get_by_role("button", name="Wachtwoord opslaan").click()
    parent.wait_for_url(re.compile(r"/gezin/inloggen"))
    _axe(parent, "inloggen")
    parent.fill("#e-mailadres", family["email"])
    parent.fill("#wachtwoord", PASSWORD)
    parent.get_by_role("button", name="Verder").click()
    parent.wait_for_url(re.compile(r"/gezin/code"))
    code = CODE.search(_mail_to(engine, family["email"], 2).text)
    assert code
    _axe(parent, "code")
    parent.fill("#code", code.group(1))
    parent.get_by_role("button", name="Inloggen").click()
    parent.wait_for_url(f"{engine.dossier_url}/gezin/")
    _axe(parent, "home")
    parent.screenshot(path=tmp_path / "02-home.png", full_page=True)
    parent.get_by_role("link", name="Bekijk het plan").click()
    parent.wait_for_url(re.compile(r"/gezin/plan"))
    assert family["given"] in parent.locator("h1").inner_text()
    _axe(parent, "plan")
    parent.screenshot(path=tmp_path / "03-plan.png", full_page=True)

    # 3. the parent consents on their own page: a run of 04 Toestemming, and the case moves on
    parent.goto(f"{engine.dossier_url}/gezin/toestemming")
    _axe(parent, "toestemming")
    parent.get_by_role("button", name="Ja, ik geef toestemming").click()
    assert "Ontvangen, wordt verwerkt" in parent.locator("body").inner_text()
    parent.screenshot(path=tmp_path / "04-consent-received.png", full_page=True)
    wait(lambda: _state(engine, case_ref) == "toestemming_compleet", 120, "the consent run to complete the consent")
    parent.goto(f"{engine.dossier_url}/gezin/toestemming")
    assert "Uw antwoord is verwerkt" in parent.locator("body").inner_text()
    parent.screenshot(path=tmp_path / "05-consent-done.png", full_page=True)
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with engine.client() as client:
        deployment = client.read_deployment_by_name(deployment_path("toestemming-vastleggen"))
        of_step = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))

        def consent_runs():  # the case moved in the run's last task; the run ends just after
            runs = client.read_flow_runs(deployment_filter=of_step)
            mine = [r for r in runs if r.parameters.get("form", {}).get("case_ref") == case_ref]
            return mine if mine and all(r.state.is_final() for r in mine) else None

        runs = wait(consent_runs, 60, "the consent run to end")
    assert len(runs) == 1 and runs[0].state.is_completed(), [(r.name, r.state) for r in runs]
    form = runs[0].parameters["form"]
    assert form["actor"] == "ouder_1" and form["party"] == "ouder_1" and form["granted"] is True
    assert "gezin:ouder_1" in runs[0].tags

    # 4. the arrangement starts; weeks later the sweep asks the parent's view, the coordinator sees it
    from oja import services as sv
    from oja.adapters.db import get_engine, unit_of_work

    today = school_day()
    db = get_engine(f"sqlite:///{engine.home / 'oja.db'}")
    with unit_of_work(db) as s:
        sv.activate(s, case_ref=case_ref, actor=COORDINATOR, today=today)
    review_on = add_school_days(today, 5, "noord")  # as if the arrangement had run for weeks: its review is near
    with engine.engine_db() as conn:
        conn.execute("UPDATE oja_case SET next_review_on = ? WHERE ref = ?", (review_on.isoformat(), case_ref))
    mails_before = len([m for m in engine.smtp.messages if family["email"] in m.rcpt_tos])
    with engine.client() as client:
        sweep = client.read_deployment_by_name(deployment_path("dagelijkse-herinneringen"))
        run = client.create_flow_run_from_deployment(sweep.id, parameters={"sweep_date": today.isoformat()})
        wait(lambda: client.read_flow_run(run.id).state.is_final(), 180, "the sweep to finish on the worker", 2)
        assert client.read_flow_run(run.id).state.is_completed()
    asked = _mail_to(engine, family["email"], mails_before + 1)
    assert "/gezin/" in asked.text and family["given"] not in asked.text
    parent.goto(f"{engine.dossier_url}/gezin/")
    parent.get_by_role("link", name="Geef uw mening").click()
    parent.wait_for_url(re.compile(r"/gezin/mijn-mening"))
    _axe(parent, "mijn-mening")
    parent.check('input[name="doel_1"][value="-1"]')
    parent.fill("#gaat_goed", f"Het lezen gaat beter, zegt {family['going_well']}")
    parent.fill("#moet_anders", f"Meer rust in de klas graag, {family['to_change']}")
    parent.get_by_role("button", name="Mening opslaan").click()
    assert "is opgeslagen" in parent.locator("[role=status]").inner_text()
    assert long_date(review_on, "nl") in parent.locator("body").inner_text()
    parent.screenshot(path=tmp_path / "06-view-given.png", full_page=True)
    parent_context.close()

    coordinator.goto(f"{engine.dossier_url}/casus/{case_ref}")
    views = coordinator.locator("section", has=coordinator.get_by_role("heading", name="Mening van leerling en ouders"))
    shown = views.inner_text()
    assert "doel 1: -1" in shown and family["going_well"] in shown and family["to_change"] in shown
    coordinator.screenshot(path=tmp_path / "07-coordinator-sees-the-view.png", full_page=True)
    coordinator_context.close()
    with engine.engine_db() as conn:
        parties = {p for (p,) in conn.execute("SELECT professional_code FROM access_log WHERE pupil_ref = ?",
                                               (family["pupil_ref"],))}  # fmt: skip
    assert {"ouder_1", COORDINATOR} <= parties  # every view is logged, the parent's too
    family["done"] = True


def test_the_family_is_nowhere_in_prefect_its_logs_or_the_mail(engine, family):
    if not family.get("done"):
        pytest.skip("the journey above did not get to its end")
    born: dt.date = family["born"]
    needles = {
        family["given"]: "pupil's given name",
        family["family"]: "family name",
        family["parent_given"]: "parent's given name",
        family["bsn"]: "BSN",
        family["mailbox"]: "parent's e-mail address",
        family["going_well"]: "the parent's own words",
        family["to_change"]: "the parent's own words",
        born.isoformat(): "birth date",
        born.strftime("%d-%m-%Y"): "birth date",
        f"{born.day}-{born.month}-{born.year}": "birth date",
        long_date(born, "nl").split(" ", 1)[1]: "birth date",
    }
    for needle in needles:
        assert TOKEN.fullmatch(needle), needle
    databases = sorted((engine.home / "prefect").glob("*.db"))
    texts = [t for db in databases for t in prefect_texts(db)]
    raw = [p for db in databases for p in (db, db.with_name(db.name + "-wal")) if p.exists()]
    texts += [(f"bytes of {p.name}", p.read_bytes().decode("utf-8", errors="replace")) for p in raw]
    logs = sorted((engine.home / "logs").glob("*.log"))
    texts += [(f"log {p.name}", p.read_text(errors="replace")) for p in logs]
    texts += [("oja start's output", engine.output.read_text(errors="replace"))]
    with engine.engine_db() as db:  # the access log: pseudonyms and codes only
        cursor = db.execute("SELECT * FROM access_log")
        columns = [d[0] for d in cursor.description]
        texts += [(f"access_log.{c}", str(v)) for row in cursor for c, v in zip(columns, row, strict=True) if v]
    texts += [(f"mail '{m.subject}'", f"{m.subject}\n{m.text}\n{m.html}") for m in engine.smtp.messages]
    everything = "\n".join(text for _, text in texts)
    assert family["case_ref"] in everything and "/gezin/welkom/" in everything, "the search sees the journey"
    hits = [f"{place}: {needles[c]} ({c})" for place, text in texts for c in TOKEN.findall(text) if c in needles]
    assert not hits, f"{len(hits)} personal data hit(s):\n" + "\n".join(hits[:20])
