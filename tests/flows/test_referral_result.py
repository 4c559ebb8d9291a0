"""A referral's runs say who answers, what the answer was and what follows; the answer is picked, never defaulted."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentCreate

from flows import forms
from flows import referral as f_referral
from models.schooldays import today as amsterdam_today
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from tests.factories import active_case
from tests.flows.test_run_results import _artifacts, _run

pytestmark = pytest.mark.prefect


def _deployment(flow: str, name: str) -> str:
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name(flow)
        return str(
            client.create_deployment(**DeploymentCreate(flow_id=flow_id, name=name).model_dump(exclude_unset=True))
        )


def _link(shown: str, deployment_id: str) -> dict[str, object] | None:
    link = f"/deployments/deployment/{deployment_id}/run?parameters="
    if link not in shown:
        return None
    return json.loads(urllib.parse.unquote(shown.split(link, 1)[1].split(")", 1)[0]))["form"]


def test_a_referral_is_answered_by_choice_and_the_result_says_what_follows(engine_url):
    today = amsterdam_today()
    ref = active_case(  # living in Borne: the district team PRF-T3 answers
        get_engine(engine_url),
        school="20XY",
        coordinator="PRF-T1",
        bsn="100000307",
        born=dt.date(today.year - 17, 1, 1),
        today=today,
        municipality="GM0147",
    )
    answer, back = (
        _deployment("verwijzing-beantwoorden", "10 Antwoord wijkteam"),
        _deployment("terugkeer-uit-specialistische-zorg", "11 Terugkeer"),
    )
    state = f_referral.refer(form=forms.CaseAction(case_ref=ref, actor="PRF-T1"), return_state=True)
    [shown] = _artifacts(_run(state).id)
    assert "**verzonden, wacht op antwoord** (het wijkteam van GM0147)" in shown and "PRF-T3" in shown
    assert _link(shown, answer) == {"case_ref": ref, "actor": "PRF-T3"}  # the district team's code, not PRF-T1's
    assert _link(shown, back) is None

    untouched = f_referral.respond_to_referral(
        form={"case_ref": ref, "level_on_decline": 3, "actor": "PRF-T3"}, return_state=True
    )
    assert untouched.is_failed() and "Antwoord (answer)" in untouched.message  # nothing declined by default
    with unit_of_work(get_engine(engine_url)) as s:
        assert sv.case_summary(s, ref)["state"] == "geescaleerd"

    contradicting = f_referral.respond_to_referral(  # issue 25 (3): a level with an acceptance was ignored
        form=forms.RespondToReferral(case_ref=ref, answer="aanvaard", level_on_decline=1, actor="PRF-T3"),
        return_state=True,
    )
    assert contradicting.is_failed()
    assert contradicting.message.startswith(
        "Niveau op school (alleen bij afwijzing) (level_on_decline): een niveau op school hoort alleen bij afwijzen"
    ), contradicting.message
    with unit_of_work(get_engine(engine_url)) as s:
        assert sv.case_summary(s, ref)["state"] == "geescaleerd"

    state = f_referral.respond_to_referral(
        form=forms.RespondToReferral(case_ref=ref, answer="aanvaard", actor="PRF-T3"), return_state=True
    )
    [shown] = _artifacts(_run(state).id)
    assert "| Verwijzing | **aanvaard** (het wijkteam van GM0147) |" in shown
    assert "Navragen bij het wijkteam of de leerling kan terugkeren: uiterlijk" in shown  # the follow-up, by when
    assert _link(shown, answer) is None  # not offered again
    assert _link(shown, back) == {"case_ref": ref}
