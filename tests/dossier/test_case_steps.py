"""A case page offers the steps that can follow: while a referral waits, its answer (a form for the district team
only), once answered, the return; never the answer again."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlmodel import select

from models.schooldays import today as amsterdam_today
from notifications.render import long_date
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.deployments import DEPLOYMENTS
from tests.factories import valid_bsn


def _actions(html: str) -> list[str]:
    """The titles of the steps a case page offers (its `actions` paragraph)."""
    actions = html.split('<p class="actions">', 1)[1].split("</p>", 1)[0]
    return re.findall(r">(\d\d [^<]+)<", actions)


def _action_links(html: str) -> list[str]:
    """The flows whose forms the case page's steps link to (the fixed deployment ids are uuid5 of the flow)."""
    actions = html.split('<p class="actions">', 1)[1].split("</p>", 1)[0]
    ids = {str(uuid.uuid5(uuid.NAMESPACE_URL, flow)): flow for flow in DEPLOYMENTS}
    return [ids[i] for i in re.findall(r"/deployments/deployment/([0-9a-f-]{36})/run", actions)]


def test_the_case_page_offers_the_answer_to_a_referral_until_it_is_given_then_the_return(dossier):
    today = amsterdam_today()
    with unit_of_work(dossier.engine) as s:
        pupil = sv.register_pupil(
            s,
            given_name="Verwezen",
            family_name="Testleerling",
            birth_date=dt.date(today.year - 13, 3, 3),
            bsn=valid_bsn(1, base=540000000),
            school_code="10HV",
            municipality_code="GM0164",
            parents=[],
            today=today,
        )
        ref = sv.register_signal(
            s,
            pupil_ref=pupil,
            school_code="10HV",
            source="school",
            domains=["leren"],
            urgency="normaal",
            actor="PRF-0001",
            received_on=today,
            today=today,
            policy=sv.DEFAULT_POLICY,
        ).case_ref
        sv.triage(
            s, case_ref=ref, outcome="specialistische_zorg", actor="PRF-0001", today=today, policy=sv.DEFAULT_POLICY
        )
    waiting = dossier.as_user("PRF-0021").get(f"/casus/{ref}")
    assert _actions(waiting.text) == ["10 Antwoord wijkteam"]
    assert "verwijzing-beantwoorden" in _action_links(waiting.text)  # the district team's own form
    school = dossier.as_user("PRF-0001").get(f"/casus/{ref}")
    assert _actions(school.text) == ["10 Antwoord wijkteam"] and _action_links(school.text) == []  # not theirs
    with unit_of_work(dossier.engine) as s:
        sv.respond_to_referral(s, case_ref=ref, accepted=True, actor="PRF-0021", today=today, policy=sv.DEFAULT_POLICY)
    answered = dossier.as_user("PRF-0001").get(f"/casus/{ref}")
    assert _actions(answered.text) == ["11 Terugkeer"]  # the answer is not offered again


def _started_later(dossier, bsn: str, days: int) -> tuple[str, dt.date]:
    """A case of 10HV whose arrangement was started today with a plan that starts `days` days later."""
    today = amsterdam_today()
    later = today + dt.timedelta(days=days)
    with unit_of_work(dossier.engine) as s:
        pupil = sv.register_pupil(
            s,
            given_name="Later",
            family_name="Startleerling",
            birth_date=dt.date(today.year - 17, 1, 1),
            bsn=bsn,
            school_code="10HV",
            municipality_code="GM0164",
            parents=[],
            today=today,
        )
        ref = sv.register_signal(
            s,
            pupil_ref=pupil,
            school_code="10HV",
            source="school",
            domains=["leren"],
            urgency="normaal",
            actor="PRF-0001",
            received_on=today,
            today=today,
            policy=sv.DEFAULT_POLICY,
        ).case_ref
        sv.triage(s, case_ref=ref, outcome="oja", level=2, actor="PRF-0001", today=today, policy=sv.DEFAULT_POLICY)
        sv.draft_plan(
            s,
            case_ref=ref,
            goals=[sv.GoalSpec("leren")],
            interventions=[sv.InterventionSpec("JEUGDPUNT", 2)],
            regie_holder="PRF-0001",
            start_on=later,
            planned_end_on=later + dt.timedelta(weeks=20),
            actor="PRF-0001",
            today=today,
            policy=sv.DEFAULT_POLICY,
        )
        sv.record_consent(
            s, case_ref=ref, party="leerling", granted=True, actor="PRF-0001", recorded_on=today, today=today
        )
        sv.activate(s, case_ref=ref, actor="PRF-0001", today=today)
    with dossier.db() as s:
        from models.tables import Case

        return ref, s.exec(select(Case.activated_on).where(Case.ref == ref)).one()


def test_a_case_that_starts_later_offers_no_review_before_it_and_says_when(dossier):
    """Issue 25, 5: the case page offered 06 Evaluatie, which is refused until the arrangement starts."""
    ref, starts = _started_later(dossier, valid_bsn(2, base=540000000), 21)
    page = dossier.as_user("PRF-0001").get(f"/casus/{ref}")
    assert page.status_code == 200
    assert _actions(page.text) == ["09 Verwijzen"] and _action_links(page.text) == ["verwijzen-specialistische-zorg"]
    said = " ".join(page.text.split())
    assert f"06 Evaluatie vastleggen kan vanaf {long_date(starts, 'nl')}" in said
    assert f"07 Meting vastleggen kan vanaf {long_date(starts, 'nl')}" in said
    home = dossier.as_user("PRF-0001").get("/")
    row = home.text.split(f'<a href="/casus/{ref}">{ref}</a>', 1)[1].split("</tr>", 1)[0]
    assert "evaluatie-vastleggen" not in str(_action_links(f'<p class="actions">{row}</p>'))
    assert f"kan vanaf {starts.strftime('%d-%m-%Y')}" in row  # the worklist agrees: no link before that day
