"""After a review: the run ends with the recommendation and a link to the decision form preset to it; no run waits."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentCreate
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from sqlmodel import Session, select

from flows import forms
from flows import review as f_review
from models.lifecycle import CaseState
from models.schooldays import today as amsterdam_today
from models.tables import Case, Decision, GroupMember
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from tests.factories import active_case

pytestmark = pytest.mark.prefect


def _active_case(url: str, bsn: str) -> str:
    today = amsterdam_today()
    ref = active_case(
        get_engine(url), school="20XY", coordinator="PRF-T1", bsn=bsn, born=dt.date(2009, 4, 4), today=today
    )
    with unit_of_work(get_engine(url)) as s:  # it started two months ago, with an earlier review on track
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        case.activated_on = today - dt.timedelta(days=60)
        s.add(case)
    with unit_of_work(get_engine(url)) as s:
        sv.record_review(
            s, case_ref=ref, held_on=today - dt.timedelta(days=30), actor="PRF-T2", today=today, gas_scores={1: 0}
        )
        sv.decide(s, case_ref=ref, kind="voortzetten", actor="PRF-T1", today=today, policy=sv.DEFAULT_POLICY)
    return ref


@pytest.fixture(scope="module")
def decision_deployment(engine_url) -> str:
    """The decision step's deployment on the test server, as `oja start` makes one per step."""
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("besluit-nemen")
        return str(
            client.create_deployment(
                **DeploymentCreate(flow_id=flow_id, name="08 Besluit nemen").model_dump(exclude_unset=True)
            )
        )


def _review(ref: str, gas: int):
    return f_review.record_review(
        form=forms.RecordReview(case_ref=ref, gas_scores=[forms.GoalScoreForm(goal_number=1, gas=gas)], actor="PRF-T2"),
        return_state=True,
    )


def _result_artifact(state) -> str:
    only_this_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=only_this_run)
    [shown] = [a.data for a in found if a.type == "markdown" and not a.key]  # the worklist has a key
    return shown


def _linked_form(shown: str, deployment_id: str) -> dict:
    """The parameters the result's link to the decision form fills in (as the UI reads them)."""
    link = f"/deployments/deployment/{deployment_id}/run?parameters="
    assert link in shown
    return json.loads(urllib.parse.unquote(shown.split(link, 1)[1].split(")", 1)[0]))["form"]


def _state(url: str, ref: str) -> tuple[str, int]:
    with Session(get_engine(url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        return case.state, case.level


def _latest_decision(url: str, ref: str) -> Decision:
    with Session(get_engine(url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        decision = s.exec(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id.desc())).first()
        assert decision is not None
        return decision


def test_a_review_ends_at_once_with_the_recommendation_and_its_reasons(engine_url, decision_deployment):
    ref = _active_case(engine_url, "100000022")
    state = _review(ref, gas=0)  # on track twice at level 2: scale down to 1
    assert state.is_completed()  # not paused: nothing waits for the professional
    assert state.result()["recommendation"] == {"kind": "afschalen", "new_level": 1, "rule": "op_koers"}
    assert _state(engine_url, ref) == (CaseState.REVIEWED, 2)
    shown = _result_artifact(state)
    assert "### Aanbeveling: **afschalen** naar niveau 1" in shown and "doel 1: +0" in shown
    assert "Besluit na de evaluatie: uiterlijk" in shown  # the next deadline, by the sweep's rule
    assert "dan krijgt de regiehouder een herinnering" in shown
    assert shown.index("### Aanbeveling") < shown.index("### Volgende stap")


def test_the_result_links_to_the_decision_form_preset_to_the_recommendation_and_submitting_it_decides(
    engine_url, decision_deployment
):
    ref = _active_case(engine_url, "100000058")
    form = _linked_form(_result_artifact(_review(ref, gas=0)), decision_deployment)
    assert form == {"case_ref": ref, "kind": "afschalen", "new_level": 1}  # no actor: the gateway fills in who

    # Submit, as preset, by the professional logged in (the gateway adds their code)
    state = f_review.take_decision(form=forms.TakeDecision(**form, actor="PRF-T2"), return_state=True)
    assert state.is_completed(), state.message
    assert _state(engine_url, ref) == (CaseState.ACTIVE, 1)
    decision = _latest_decision(engine_url, ref)
    assert (decision.kind, decision.recommended_kind, decision.override_reason) == ("afschalen", "afschalen", None)
    assert decision.decided_by == "PRF-T2"


def test_a_recommendation_without_a_level_presets_the_kind_only(engine_url, decision_deployment):
    ref = _active_case(engine_url, "100000034")
    form = _linked_form(_result_artifact(_review(ref, gas=-1)), decision_deployment)
    assert form["kind"] in {"voortzetten", "opschalen"} and form["case_ref"] == ref
    assert form.get("new_level") != 1  # never a level left over from another recommendation


def test_an_override_without_a_reason_is_refused_in_dutch_and_nothing_changes(engine_url):
    ref = _active_case(engine_url, "100000071")
    _review(ref, gas=0)  # recommends scaling down
    state = f_review.take_decision(
        form=forms.TakeDecision(case_ref=ref, kind="voortzetten", actor="PRF-T1"), return_state=True
    )
    assert state.is_failed()
    assert state.message.startswith("Reden om af te wijken (override_reason):")
    assert _state(engine_url, ref) == (CaseState.REVIEWED, 2)

    state = f_review.take_decision(
        form=forms.TakeDecision(
            case_ref=ref, kind="voortzetten", override_reason="wens_leerling_ouders", actor="PRF-T1"
        ),
        return_state=True,
    )
    assert state.is_completed(), state.message
    decision = _latest_decision(engine_url, ref)
    assert (decision.kind, decision.recommended_kind, decision.override_reason) == (
        "voortzetten",
        "afschalen",
        "wens_leerling_ouders",
    )


def test_closing_without_an_ending_reason_names_the_form_field(engine_url):
    ref = _active_case(engine_url, "100000125")
    state = f_review.take_decision(
        form=forms.TakeDecision(case_ref=ref, kind="afsluiten", override_reason="wens_leerling_ouders", actor="PRF-T1"),
        return_state=True,
    )
    assert state.is_failed()
    assert "Reden beëindiging (bij afsluiten) (end_reason):" in state.message and "reason_code" not in state.message
    assert _state(engine_url, ref) == (CaseState.ACTIVE, 2)


def test_the_decision_after_a_review_can_scale_down_into_a_group(engine_url):
    ref = _active_case(engine_url, "100000137")
    with unit_of_work(get_engine(engine_url)) as s:
        sv.upsert_group(
            s, code="GRP-REVIEW", provider_code="PRV-A", professional_code="PRF-T2", capacity=4, hours_per_week=2
        )
    _review(ref, gas=0)  # on track twice at level 2: scale down to 1
    refused = f_review.take_decision(
        form=forms.TakeDecision(
            case_ref=ref, kind="voortzetten", override_reason="wens_leerling_ouders", group_code="GRP-REVIEW",
            actor="PRF-T1",
        ),
        return_state=True,
    )  # fmt: skip
    assert refused.is_failed() and "group_code" in refused.message
    state = f_review.take_decision(
        form=forms.TakeDecision(case_ref=ref, kind="afschalen", new_level=1, group_code="GRP-REVIEW", actor="PRF-T1"),
        return_state=True,
    )
    assert state.is_completed(), state.message
    assert state.result()["level"] == 1
    with Session(get_engine(engine_url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        members = s.exec(select(GroupMember).where(GroupMember.case_id == case.id)).all()
    assert [(m.group_code, m.left_on) for m in members] == [("GRP-REVIEW", None)]


def test_a_decision_form_with_two_wrong_fields_names_both_in_the_runs_message_first(engine_url):
    """Issue 23 (16): continuing with a level names the missing reason and the wrong level in one try; the run's
    state message is the Dutch message alone, each wrong field by its title."""
    ref = _active_case(engine_url, "100000095")
    _review(ref, 0)
    state = f_review.take_decision(
        form=forms.TakeDecision(case_ref=ref, kind="voortzetten", new_level=3, actor="PRF-T1"), return_state=True
    )
    assert state.is_failed()
    lines = state.message.split("; ")
    assert len(lines) == 2, state.message
    assert lines[0].startswith("Reden om af te wijken (override_reason): ")
    assert "(new_level): kies alleen een nieuw niveau bij opschalen of afschalen" in lines[1]
    shown = _result_artifact(state)
    assert "override_reason" in shown and "new_level" in shown


def test_a_reason_to_differ_while_following_the_recommendation_is_refused_naming_the_field(engine_url):
    """Issue 25 (3): the decision as recommended, with "Reden om af te wijken" filled in, completed and the reason
    was gone (`override_reason` NULL). Contradictory input is refused in Dutch, nothing written."""
    ref = _active_case(engine_url, "100000149")
    _review(ref, gas=0)  # recommends scaling down to 1
    state = f_review.take_decision(
        form=forms.TakeDecision(
            case_ref=ref, kind="afschalen", new_level=1, override_reason="capaciteit", actor="PRF-T1"
        ),
        return_state=True,
    )
    assert state.is_failed()
    assert state.message == (
        "Reden om af te wijken (override_reason): u volgt de aanbeveling 'afschalen': er is niets om van af te "
        "wijken; laat het veld leeg"
    )
    assert _state(engine_url, ref) == (CaseState.REVIEWED, 2)
    assert "Er is niets gewijzigd. Verbeter het formulier en start de stap opnieuw." in _result_artifact(state)

    state = f_review.take_decision(
        form=forms.TakeDecision(case_ref=ref, kind="afschalen", new_level=1, actor="PRF-T1"), return_state=True
    )
    assert state.is_completed(), state.message
    decision = _latest_decision(engine_url, ref)
    assert (decision.kind, decision.recommended_kind, decision.override_reason) == ("afschalen", "afschalen", None)


def test_a_second_review_the_same_day_is_not_a_second_consecutive_review(engine_url):
    """Issue 25 (2): two reviews 3 minutes apart gave "2 opeenvolgende evaluaties" and a recommendation to scale
    down. The result says what the recommendation counted, and what it left out."""
    today = amsterdam_today()
    ref = active_case(
        get_engine(engine_url), school="20XY", coordinator="PRF-T1", bsn="100000150", born=dt.date(2009, 4, 4),
        today=today,
    )  # fmt: skip
    assert _review(ref, gas=0).result()["recommendation"]["kind"] == "voortzetten"
    decided = f_review.take_decision(
        form=forms.TakeDecision(case_ref=ref, kind="voortzetten", actor="PRF-T1"), return_state=True
    )
    assert decided.is_completed(), decided.message
    again = _review(ref, gas=0)  # minutes later
    assert again.result()["recommendation"] == {"kind": "voortzetten", "new_level": None, "rule": "eerste_evaluatie"}
    shown = _result_artifact(again)
    assert "op verschillende dagen, minstens 14 dagen uit elkaar" in shown, shown
    assert f"Niet meegeteld: {today.isoformat()} (een latere evaluatie op dezelfde dag telt)" in shown
