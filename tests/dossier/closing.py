"""Helpers for the outcome questions at closing on the family's page (issue 26): a pupil of 10HV whose arrangement
ran and was closed, with a family member's session made directly (the login itself: test_family_login.py)."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlmodel import select

from models.identity import age_on, required_consent
from models.schooldays import today as amsterdam_today
from models.tables import Case, Pupil
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services import family_logins
from tests.dossier.family import pupil_with_case

PROVIDER = "JEUGDPUNT"


def closed_case(dossier, *, age: int = 13) -> tuple[str, str, str]:
    """A pupil of 10HV with an arrangement that runs (to close with `close`): (case, pupil ref, family name)."""
    case_ref, pupil_ref, family = pupil_with_case(dossier, age=age, parents=(("Ouder Een", True), ("Ouder Twee", True)))
    today = amsterdam_today()
    policy = sv.DEFAULT_POLICY
    with unit_of_work(dossier.engine) as s:
        sv.triage(s, case_ref=case_ref, outcome="oja", level=2, actor="PRF-0001", today=today, policy=policy)
        sv.draft_plan(
            s, case_ref=case_ref, goals=[sv.GoalSpec("leren")], interventions=[sv.InterventionSpec(PROVIDER, 2)],
            regie_holder="PRF-0001", start_on=today, planned_end_on=today + dt.timedelta(weeks=20), actor="PRF-0001",
            today=today, policy=policy,
        )  # fmt: skip
        born = s.exec(select(Pupil.birth_date).where(Pupil.ref == pupil_ref)).one()
        for party in sorted(required_consent(age_on(born, today), ["ouder_1", "ouder_2"])):
            sv.record_consent(
                s, case_ref=case_ref, party=party, granted=True, actor="PRF-0001", recorded_on=today, today=today
            )
        sv.activate(s, case_ref=case_ref, actor="PRF-0001", today=today)
    return case_ref, pupil_ref, family


def family_client(dossier, family: str, party: str) -> httpx.Client:
    """A browser of `party` of the pupil with this family name, logged in (a session made directly)."""
    return family_session(dossier, family, party)[0]


def family_session(dossier, family: str, party: str) -> tuple[httpx.Client, str]:
    """`family_client`, and the session's CSRF token."""
    now = dt.datetime.now(dt.UTC)
    with dossier.db() as s:
        pupil = s.exec(select(Pupil).where(Pupil.family_name == family)).one()
        email = f"{party}.{family.lower()}@gezin.test"
        login = family_logins.set_login(s, pupil, party, email, "een-lang-wachtwoord", now=now, today=amsterdam_today())
        s.commit()
        assert login.id is not None
        token, csrf = family_logins.open_session(s, login.id, now=now)
        s.commit()
    client = dossier.client()
    client.cookies.set("oja_gezin", token)
    return client, csrf


def close(dossier, case_ref: str) -> None:
    with unit_of_work(dossier.engine) as s:
        sv.decide(
            s, case_ref=case_ref, kind="afsluiten", actor="PRF-0001", today=amsterdam_today(),
            end_reason="volgens_plan", policy=sv.DEFAULT_POLICY,
        )  # fmt: skip
        assert s.exec(select(Case.state).where(Case.ref == case_ref)).one() == "gesloten"
