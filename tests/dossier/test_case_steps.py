"""A case page offers the steps that can follow: while a referral waits, its answer (a form for the district team
only), once answered, the return; never the answer again."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from models.schooldays import today as amsterdam_today
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
