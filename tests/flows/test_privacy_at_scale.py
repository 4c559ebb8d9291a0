"""Privacy proven at scale: 1,000 generated pupils through the whole lifecycle, then a search for their data.

Every step runs the lifecycle flows' own code (forms, the commit step, logs, events, the recommendation
artifact) inside one drill flow run, because a flow run per step costs a second and this is 1,000 pupils.
The first 100 pupils go through the commit *task* as the flows run it (a task run per step); the other
900 call the same function inside the drill flow, with the same logs and events, to keep this test to
a couple of minutes.
Then the real sweep (reminders over a real SMTP server), dispatch, monitoring and erasure flows run.
Afterwards every table of Prefect's database (runs, parameters, logs, artifacts, events, ...) and every
mail received is searched for every pupil's given name, family name, BSN and birth date (ISO, Dutch
numeric and Dutch long form). A hit fails the test with its place: table and column, or mail.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import string
from collections import defaultdict

import pytest
from prefect import flow
from prefect.client.schemas.objects import State
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogHandler
from sqlmodel import Session, select

from flows import common as f_common
from flows import forms
from flows import intake as f_intake
from flows import planning as f_planning
from flows import referral as f_referral
from flows import retention as fr
from flows import review as f_review
from flows.monitoring import daily_monitoring
from flows.sweep import daily_sweep, send_pending
from models.identity import age_on, required_consent
from models.lifecycle import Action, CaseState
from models.schooldays import add_school_days
from models.schooldays import today as amsterdam_today
from models.tables import Case
from models.vocabulary import ReturnReason
from notifications.render import long_date
from oja import services as sv
from oja.adapters import migrate
from oja.adapters.db import get_engine, unit_of_work
from oja.config import get_settings
from tests.privacy import prefect_texts
from tests.smtp import SMTPServer

pytestmark = pytest.mark.prefect

PUPILS = int(os.environ.get("OJA_PRIVACY_PUPILS", "1000"))
TASK_PUPILS = 100
SCHOOLS = [("31AA", "GM0164"), ("31BB", "GM0164"), ("31CC", "GM0147")]
KINDS = ("voortzetten", "opschalen", "afschalen", "afsluiten", "specialistische_zorg", "triage", "actief")


def _value(returned):
    """What a flow's function returned: a recorded step returns a Completed state with its message (the run's
    page says what changed) and the result as its data."""
    return returned.result() if isinstance(returned, State) else returned


def _bsn(rng: random.Random, taken: set[str]) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        number = "".join(map(str, digits)) + str(check)
        if check < 10 and digits[0] != 0 and number not in taken:
            taken.add(number)
            return number


def _name(rng: random.Random, length: int) -> str:
    return rng.choice(string.ascii_uppercase) + "".join(rng.choices("aeiouybdfgklmnprstvwz", k=length - 1))


@pytest.fixture
def region(prefect_server, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'oja.db'}"
    monkeypatch.setenv("OJA_DATABASE_URL", url)
    server = SMTPServer()
    server.start()
    monkeypatch.setenv("OJA_SMTP_URL", server.url)
    get_settings.cache_clear()
    migrate.upgrade(url)
    engine = get_engine(url)
    rng = random.Random(20261125)
    today = amsterdam_today()
    with unit_of_work(engine) as s:
        sv.upsert_municipality(s, code="GM0164", name="Hengelo")
        sv.upsert_municipality(s, code="GM0147", name="Borne")
        for code, gm in SCHOOLS:
            sv.upsert_school(s, code=code, name=f"School {code}", holiday_region="noord", municipality_code=gm)
            sv.upsert_professional(
                s,
                code=f"PRF-{code}",
                name=f"Coördinator {code}",
                role="zorgcoordinator",
                school_code=code,
                email=f"zc-{code.lower()}@school.example",
            )
            sv.upsert_professional(
                s,
                code=f"PRF-TL{code}",
                name=f"Teamleider {code}",
                role="teamleider",
                school_code=code,
                email=f"tl-{code.lower()}@school.example",
            )
        sv.upsert_provider(s, code="PRV-P", name="Aanbieder P")
        sv.upsert_professional(
            s,
            code="PRF-PW",
            name="Hulpverlener P",
            role="jeugdhulpverlener",
            provider_code="PRV-P",
            email="hv@aanbieder.example",
        )
        for gm in ("GM0164", "GM0147"):
            sv.upsert_professional(
                s,
                code=f"PRF-WT{gm[-3:]}",
                name=f"Wijkteam {gm}",
                role="wijkteam",
                municipality_code=gm,
                email=f"wijkteam-{gm.lower()}@gemeente.example",
            )
        pupils = []
        bsns: set[str] = set()
        for i in range(PUPILS):
            school, gm = SCHOOLS[i % len(SCHOOLS)]
            born = today - dt.timedelta(days=rng.randint(5 * 365 + 2, 17 * 365))
            given, family = _name(rng, 8), _name(rng, 10)
            bsn = _bsn(rng, bsns)
            parent = f"{_name(rng, 7)} {family}"
            ref = sv.register_pupil(
                s,
                given_name=given,
                family_name=family,
                birth_date=born,
                bsn=bsn,
                school_code=school,
                municipality_code=gm,
                parents=[sv.ParentSpec(parent)],
                today=today,
            )
            pupils.append(
                dict(
                    ref=ref,
                    school=school,
                    gm=gm,
                    given=given,
                    family=family,
                    bsn=bsn,
                    born=born,
                    parent=parent,
                    kind=KINDS[i % len(KINDS)],
                )
            )
    yield dict(url=url, pupils=pupils, mail=server, today=today)
    server.stop()
    get_settings.cache_clear()
    engine.dispose()


@flow(name="privacy-oefening", flow_run_name="privacy-oefening")
def drill(pupils: list[dict], today: dt.date) -> dict:
    """Each pupil's lifecycle through the flows' own code; the parameters carry references and codes only."""
    seen = defaultdict(int)
    as_task = f_common.commit

    def fast(step, use_case, **kwargs):  # the task's function, without the task run and the result artifact
        return f_common.settle(f_common._commit.fn(step, use_case, **kwargs))

    phases = (f_intake, f_planning, f_review, f_referral)
    try:
        for n, p in enumerate(pupils):
            for phase in phases:  # the first pupils as the flows run (task, result on the run), the rest faster
                phase.commit = as_task if n < TASK_PUPILS else fast
            actor = f"PRF-{p['school']}"
            ref = _value(
                f_intake.register_signal.fn(
                    forms.RegisterSignal(
                        pupil_ref=p["ref"],
                        school_code=p["school"],
                        source="school",
                        domains=["gedrag", "thuissituatie"],
                        urgency="normaal",
                        actor=actor,
                    )
                )
            )["case_ref"]
            p["case_ref"] = ref
            if p["kind"] == "triage":
                seen[CaseState.AWAITING_TRIAGE] += 1
                continue
            f_intake.triage.fn(forms.Triage(case_ref=ref, outcome="oja", level=2, actor=actor))
            f_planning.draft_plan.fn(
                forms.DraftPlan(
                    case_ref=ref,
                    goals=[forms.GoalForm(domain="gedrag")],
                    interventions=[
                        forms.InterventionForm(provider_code="PRV-P", hours_per_week=2, professional_code="PRF-PW")
                    ],
                    regie_holder=actor,
                    start_on=today,
                    planned_end_on=today + dt.timedelta(weeks=30),
                    actor=actor,
                )
            )
            for party in p["parties"]:
                f_planning.record_consent.fn(forms.RecordConsent(case_ref=ref, party=party, actor=actor))
            f_planning.activate.fn(forms.CaseAction(case_ref=ref, actor=actor))
            f_review.record_measurement.fn(
                forms.RecordMeasurement(case_ref=ref, goal_number=1, value=1, actor="PRF-PW")
            )
            if p["kind"] == "actief":
                seen[CaseState.ACTIVE] += 1
                continue
            escalate = p["kind"] == "specialistische_zorg"
            f_review.record_review.fn(
                forms.RecordReview(
                    case_ref=ref,
                    held_on=today,
                    gas_scores=[forms.GoalScoreForm(goal_number=1, gas=0)],
                    safety_concern=escalate,
                    actor="PRF-PW",
                )
            )
            level = {"opschalen": 3, "afschalen": 1}.get(p["kind"])
            decided = _value(
                f_review.take_decision.fn(
                    forms.TakeDecision(
                        case_ref=ref,
                        kind=p["kind"],
                        new_level=level,
                        end_reason="volgens_plan" if p["kind"] == "afsluiten" else None,
                        change_reason={
                            "opschalen": "herbeoordeling_verlenging",
                            "afschalen": "herbeoordeling_verkorting",
                        }.get(p["kind"]),
                        override_reason=None
                        if p["kind"] in ("voortzetten", "specialistische_zorg")
                        else "professioneel_oordeel",
                        actor=actor,
                    )
                )
            )
            seen[decided["action"]] += 1
            if escalate and len(p["ref"]) and int(p["ref"][-1]) % 2:
                f_referral.respond_to_referral.fn(
                    forms.RespondToReferral(
                        case_ref=ref, answer="afgewezen", level_on_decline=2, actor=f"PRF-WT{p['gm'][-3:]}"
                    )
                )
                seen[ReturnReason.REFERRAL_DECLINED] += 1
    finally:
        for phase in phases:
            phase.commit = as_task
    return dict(seen)


def _needles(pupils: list[dict]) -> dict[str, tuple[str, str]]:
    out = {}
    for p in pupils:
        born: dt.date = p["born"]
        for value, kind in (
            (p["given"], "given name"),
            (p["family"], "family name"),
            (p["parent"].split()[0], "parent's name"),
            (p["bsn"], "BSN"),
            (born.isoformat(), "birth date"),
            (born.strftime("%d-%m-%Y"), "birth date"),
            (long_date(born, "nl").split(" ", 1)[1], "birth date"),
        ):
            out[value] = (p["ref"], kind)
    return out


# the shapes a needle can have: a date (ISO, Dutch numeric, Dutch long) or a single word or number
_CANDIDATE = re.compile(r"(?<!\w)(?:\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4}|\d{1,2} [a-z]+ \d{4})(?!\w)|\w+")


def _search(texts: list[tuple[str, str]], needles: dict[str, tuple[str, str]]) -> list[str]:
    """Every (place, needle) where a needle occurs as a whole word or number, not inside a longer one.

    Each text is cut into candidates (every whole word or number, and every whole date) that are looked up
    in the needles: one pass per text, whatever the number of needles (an alternation of 7,000 needles in
    one regular expression took three minutes over Prefect's database)."""
    for needle in needles:  # every needle has one of the candidate shapes, or the search would miss it
        assert _CANDIDATE.fullmatch(needle), needle
    hits = []
    for place, text in texts:
        for candidate in _CANDIDATE.findall(text):
            if candidate in needles:
                ref, kind = needles[candidate]
                hits.append(f"{place}: {kind} of {ref}")
    return hits


def test_a_thousand_pupils_leave_no_personal_data_in_prefect_or_mail(region, prefect_server):
    pupils, today, mail = region["pupils"], region["today"], region["mail"]
    for p in pupils:  # who consents follows from the age; only the party codes go into the drill's parameters
        p["parties"] = sorted(required_consent(age_on(p["born"], today), ["ouder_1"]))
    seen = drill([{k: p[k] for k in ("ref", "school", "gm", "kind", "parties")} for p in pupils], today)
    n = len(pupils)
    assert seen[CaseState.AWAITING_TRIAGE] == len([p for p in pupils if p["kind"] == "triage"]) and n >= len(KINDS)
    decided = (Action.CONTINUE, Action.SCALE_UP, Action.SCALE_DOWN, Action.CLOSE, Action.ESCALATE)
    for action in (*decided, ReturnReason.REFERRAL_DECLINED):
        assert seen[action] > 0, action

    with Session(get_engine(region["url"])) as s:
        states = set(s.exec(select(Case.state)).all())
    assert {
        CaseState.AWAITING_TRIAGE,
        CaseState.ACTIVE,
        CaseState.CLOSED,
        CaseState.ESCALATED,
        CaseState.PLANNING,
    } <= states

    # reminders: triage due in two school days, and the first reviews' reminders, for every pupil at once
    triage_day = add_school_days(today, 8, "noord")
    sweep = daily_sweep(sweep_date=triage_day)
    assert sweep["dispatch"]["sent"] > 0 and sweep["dispatch"]["failed"] == 0
    with Session(get_engine(region["url"])) as s:
        review_on = min(d for d in s.exec(select(Case.next_review_on)).all() if d)
    assert daily_sweep(sweep_date=review_on)["planned"]["notices"] > 0  # due today, for every active case
    send_pending()
    daily_monitoring()
    erasing = next(p for p in pupils if p["kind"] == "afsluiten")
    request = fr.request_erasure(
        form=forms.RequestErasure(pupil_ref=erasing["ref"], requested_by="ouder_1", actor=f"PRF-{erasing['school']}")
    )
    fr.decide_erasure(
        form=forms.DecideErasure(request_ref=request["request_ref"], grant=True, actor=f"PRF-{erasing['school']}")
    )
    assert len(mail.messages) >= 3

    APILogHandler().flush()
    EventsWorker.drain_all()
    texts = prefect_texts(prefect_server)
    texts += [(f"mail to {m.rcpt_tos[0]} '{m.subject}'", f"{m.subject}\n{m.text}\n{m.html}") for m in mail.messages]
    needles = _needles(pupils)

    # the search works: it finds what is planted, and the references it should see are there
    planted = _search([("planted", f"x {pupils[0]['bsn']} {pupils[1]['family']}.")], needles)
    assert planted == [f"planted: BSN of {pupils[0]['ref']}", f"planted: family name of {pupils[1]['ref']}"]
    born = pupils[2]["born"]
    dates = f"geboren {long_date(born, 'nl')}, ({born.isoformat()}) of {born:%d-%m-%Y}; not {born.isoformat()}9"
    owner = needles[born.isoformat()][0]  # a pupil of that birthday (another may share it)
    assert _search([("planted", dates)], needles) == [f"planted: birth date of {owner}"] * 3
    everything = "\n".join(t for _, t in texts)
    assert all(p["ref"] in everything for p in pupils[:50])
    assert any(place.startswith("Prefect table log.") for place, _ in texts)
    assert any(place.startswith("Prefect table events.") for place, _ in texts)
    assert any(place.startswith("Prefect table artifact.") for place, _ in texts)

    hits = _search(texts, needles)
    assert not hits, f"{len(hits)} personal data hit(s), first ones:\n" + "\n".join(hits[:20])
