"""A small demo region, loaded once and idempotently: every lifecycle state has a case.

Two municipalities (Hengelo, Borne), four schools, three providers, their
professionals, and twelve fictional pupils. Cases are made through the use cases
in `oja.services`, so their audit trail is real. A pupil that already exists
(found by its BSN or onderwijsnummer) is skipped with its whole story.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import Session, select

from models.identity import age_on, required_consent, validate_bsn
from models.schooldays import next_school_day, previous_school_day
from models.tables import Case, Pupil
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy

MUNICIPALITIES = [("GM0164", "Hengelo", "wijkteam@hengelo.example"), ("GM0147", "Borne", "wijkteam@borne.example")]
SCHOOLS = [
    ("10HV", "Lyceum De Veldkamp", "GM0164"),
    ("11HE", "Basisschool De Esch", "GM0164"),
    ("12BK", "Obs Het Kompas", "GM0147"),
    ("13BB", "Kindcentrum De Berkel", "GM0147"),
]
PROVIDERS = [("JEUGDPUNT", "Jeugdpunt Twente"), ("KOMPASZORG", "Kompaszorg"), ("TALENTGROEI", "Talentgroei")]
# code, name, role, e-mail, school, provider, municipality
PROFESSIONALS = [
    ("PRF-0001", "Ilse Brinkman", "zorgcoordinator", "zc.veldkamp@school.example", "10HV", None, None),
    ("PRF-0002", "Mehmet Kaya", "zorgcoordinator", "zc.esch@school.example", "11HE", None, None),
    ("PRF-0003", "Sanne de Wit", "zorgcoordinator", "zc.kompas@school.example", "12BK", None, None),
    ("PRF-0004", "Joost Lammers", "zorgcoordinator", "zc.berkel@school.example", "13BB", None, None),
    ("PRF-0011", "Noor Haverkamp", "jeugdhulpverlener", "noor@jeugdpunt.example", None, "JEUGDPUNT", None),
    ("PRF-0012", "Daan Smit", "jeugdhulpverlener", "daan@kompaszorg.example", None, "KOMPASZORG", None),
    ("PRF-0013", "Fatima El Amrani", "jeugdhulpverlener", "fatima@talentgroei.example", None, "TALENTGROEI", None),
    ("PRF-0014", "Bas Oude Egberink", "schoolmaatschappelijk_werker", "smw@jeugdpunt.example", None, "JEUGDPUNT", None),
    ("PRF-0021", "Ellen Nijhuis", "wijkteam", "e.nijhuis@hengelo.example", None, None, "GM0164"),
    ("PRF-0022", "Ruud Pape", "wijkteam", "r.pape@borne.example", None, None, "GM0147"),
    ("PRF-0031", "Karin Olthof", "teamleider", "teamleider@swv.example", None, None, None),
    ("PRF-0041", "Herman Wessels", "manager", "manager@swv.example", None, None, None),
    ("PRF-0051", "Lotte Bosman", "privacyfunctionaris", "privacy@swv.example", None, None, None),
    ("PRF-0061", "Wouter Brink", "beheerder", "beheer@swv.example", None, None, None),
]
COORDINATOR = {school: code for code, _, role, _, school, _, _ in PROFESSIONALS if role == "zorgcoordinator"}


@dataclasses.dataclass(frozen=True)
class DemoPupil:
    given_name: str
    family_name: str
    age: int
    school: str
    municipality: str
    story: str  # the state the case is brought to
    parents: tuple[str, ...] = ("Ouder Een", "Ouder Twee")


PUPILS = [
    DemoPupil("Lotte", "Veldhuis", 9, "11HE", "GM0164", "awaiting_triage"),
    DemoPupil("Sem", "Jansen", 13, "10HV", "GM0164", "planning"),
    DemoPupil("Yara", "Bosman", 14, "10HV", "GM0147", "plan_drafted"),
    DemoPupil("Finn", "Kuipers", 10, "12BK", "GM0147", "consented", ("Ouder Een",)),
    DemoPupil("Mila", "Hofstede", 8, "13BB", "GM0147", "active"),
    DemoPupil("Daan", "Scholten", 16, "10HV", "GM0164", "active_review_due"),
    DemoPupil("Noah", "Wolters", 12, "11HE", "GM0164", "reviewed"),
    DemoPupil("Saar", "Meijer", 15, "12BK", "GM0147", "escalated"),
    DemoPupil("Luuk", "Post", 11, "13BB", "GM0147", "closed_basic"),
    DemoPupil("Julia", "Dijkstra", 13, "10HV", "GM0164", "returned"),
    DemoPupil("Thijs", "Hendriks", 17, "10HV", "GM0147", "reopened"),
    DemoPupil("Zoë", "Timmer", 10, "11HE", "GM0164", "closed_after_review"),
]


def demo_bsn(i: int) -> str:
    """A valid, fictional BSN per demo pupil (eleven-test)."""
    n = 240000000 + i * 1000
    while True:
        try:
            return validate_bsn(f"{n:09d}")
        except ValueError:
            n += 1


def _upsert_reference(session: Session) -> None:
    for code, name, email in MUNICIPALITIES:
        sv.upsert_municipality(session, code=code, name=name, district_team_email=email)
    for code, name, municipality_code in SCHOOLS:
        sv.upsert_school(session, code=code, name=name, holiday_region="noord", municipality_code=municipality_code)
    for code, name in PROVIDERS:
        sv.upsert_provider(session, code=code, name=name)
    for code, name, role, email, school, provider, municipality in PROFESSIONALS:
        sv.upsert_professional(
            session,
            code=code,
            name=name,
            role=role,
            email=email,
            school_code=school,
            provider_code=provider,
            municipality_code=municipality,
        )
    sv.upsert_group(
        session,
        code="GRP-VK-1",
        provider_code="KOMPASZORG",
        professional_code="PRF-0012",
        capacity=6,
        hours_per_week=4,
        school_code="10HV",
    )


def _school_day_by(day: dt.date, today: dt.date, region: str) -> dt.date:
    """The school day a story step happens on: `day`, or the school day after it, but never after `today` (loaded on
    a Saturday or in a holiday, "today's" steps are on the last school day before it, not on Monday)."""
    return min(next_school_day(day, region), previous_school_day(today, region))


def _story(session: Session, pupil_ref: str, p: DemoPupil, born: dt.date, today: dt.date, policy: Policy) -> None:
    """Bring one pupil's case to the state of its story, through the use cases."""
    zc = COORDINATOR[p.school]
    region = "noord"
    started = today - dt.timedelta(days=38) if p.story in ("active_review_due", "reviewed") else today
    day = _school_day_by(started, today, region)  # the story happens on school days, none after today

    def signal(on: dt.date) -> str:
        return sv.register_signal(
            session,
            pupil_ref=pupil_ref,
            school_code=p.school,
            source="school",
            domains=["gedrag", "emotioneel"],
            urgency="normaal",
            actor=zc,
            received_on=on,
            today=on,
            policy=policy,
        ).case_ref

    ref = signal(day)
    if p.story == "awaiting_triage":
        return
    if p.story == "closed_basic":
        sv.triage(session, case_ref=ref, outcome="basisondersteuning", actor=zc, today=day, policy=policy)
        return
    if p.story == "escalated":
        sv.triage(session, case_ref=ref, outcome="specialistische_zorg", actor=zc, today=day, policy=policy)
        return
    sv.triage(session, case_ref=ref, outcome="oja", level=2, actor=zc, today=day, policy=policy)
    if p.story == "planning":
        return
    if p.story == "returned":
        sv.refer(session, case_ref=ref, actor=zc, today=day)
        sv.return_from_specialised(session, case_ref=ref, level=1, actor="PRF-0021", today=day, policy=policy)
        return

    def plan() -> None:
        sv.draft_plan(
            session,
            case_ref=ref,
            goals=[sv.GoalSpec("gedrag", baseline=-1, target=0), sv.GoalSpec("emotioneel", baseline=-2, target=0)],
            interventions=[
                sv.InterventionSpec("JEUGDPUNT", 3, professional_code="PRF-0011", swv_share_pct=40),
                sv.InterventionSpec("KOMPASZORG", 1.5, setting="groep", professional_code="PRF-0012"),
            ],
            regie_holder=zc,
            start_on=day,
            planned_end_on=day + dt.timedelta(weeks=26),
            actor=zc,
            today=day,
            policy=policy,
        )

    plan()
    parents = [f"ouder_{i}" for i in range(1, len(p.parents) + 1)]
    parties = sorted(required_consent(age_on(born, day), parents))
    if p.story == "plan_drafted":
        parties = parties[:1]  # consent still incomplete
    for party in parties:
        sv.record_consent(session, case_ref=ref, party=party, granted=True, actor=zc, recorded_on=day, today=day)
    if p.story in ("plan_drafted", "consented"):
        return
    sv.activate(session, case_ref=ref, actor=zc, today=day)
    if p.story in ("active", "active_review_due"):
        return
    if p.story == "reopened":
        sv.decide(
            session,
            case_ref=ref,
            kind="afsluiten",
            reason_code="voortijdig_in_overleg",
            actor=zc,
            today=day,
            policy=policy,
        )
        sv.reopen(session, case_ref=ref, actor=zc, today=day, policy=policy)
        return
    review_day = _school_day_by(today, today, region)
    sv.record_review(
        session,
        case_ref=ref,
        held_on=review_day,
        actor="PRF-0011",
        today=review_day,
        gas_scores={1: 1, 2: 0},
        attendance_pct=92,
        wellbeing=7,
        pupil_view="positief",
        parent_view="positief",
    )
    if p.story == "reviewed":
        return
    sv.decide(  # the goals are reached and pupil and parents would end it: not yet what the engine recommends
        session,
        case_ref=ref,
        kind="afsluiten",
        end_reason="volgens_plan",
        override_reason="wens_leerling_ouders",
        actor=zc,
        today=review_day,
        policy=policy,
    )


def _demo_logins(session: Session) -> None:
    """Every demo professional logs in to the dossier with the demo password and the demo TOTP secret (both
    printed by `oja start`; a production start has no demo). A login already there is left as it is."""
    from models.tables_dossier import Login
    from oja.services.logins import DEMO_PASSWORD, DEMO_TOTP_SECRET, enrol_totp, set_password

    for code, *_ in PROFESSIONALS:
        if session.get(Login, code) is None:
            set_password(session, code, DEMO_PASSWORD)
            session.flush()
            enrol_totp(session, code, DEMO_TOTP_SECRET)


DEMO_FAMILY = "Scholten"  # Daan (16), whose review is due: his parent's and his own login to the family's page
DEMO_FAMILY_LOGINS = (("ouder_1", "ouder.scholten@gezin.example"), ("leerling", "daan.scholten@gezin.example"))


def _demo_family(session: Session, today: dt.date) -> None:
    """The family's page (issue 26): a parent's and the pupil's login for the demo case of Daan Scholten, with the
    demo password (printed by `oja start`); the second factor, a code, goes by mail to the local mail sink."""
    from oja.services.family_logins import set_login
    from oja.services.logins import DEMO_PASSWORD

    pupil = session.exec(select(Pupil).where(Pupil.family_name == DEMO_FAMILY)).first()
    if pupil is None:
        return
    now = dt.datetime.now(dt.UTC)
    for party, email in DEMO_FAMILY_LOGINS:
        set_login(session, pupil, party, email, DEMO_PASSWORD, now=now, today=today)


def load_demo(
    engine: sa.Engine, today: dt.date, *, policy: Policy | None = None, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Load the demo region (idempotent) and return the number of cases per state."""
    policy = policy or Policy()
    with unit_of_work(engine) as session:
        _upsert_reference(session)
        _demo_logins(session)
    for i, p in enumerate(PUPILS):
        bsn = demo_bsn(i)
        with unit_of_work(engine) as session:
            if session.exec(select(Pupil.id).where(Pupil.bsn == bsn)).first() is not None:
                continue
            born = dt.date(today.year - p.age, (i % 12) + 1, 10)
            if born > today.replace(year=today.year - p.age):
                born = born.replace(year=born.year - 1)
            pupil_ref = sv.register_pupil(
                session,
                given_name=p.given_name,
                family_name=p.family_name,
                birth_date=born,
                bsn=bsn,
                school_code=p.school,
                municipality_code=p.municipality,
                parents=[sv.ParentSpec(f"{name} {p.family_name}") for name in p.parents],
                today=today,
            )
            _story(session, pupil_ref, p, born, today, policy)
        if progress:
            progress(p.story)
    with unit_of_work(engine) as session:
        _demo_family(session, today)
    with Session(engine) as session:
        return dict(Counter(session.exec(select(Case.state)).all()))
