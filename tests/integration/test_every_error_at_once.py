"""A form is checked whole: every wrong field is named in one refusal, not one per try (issue 23, item 16)."""

from __future__ import annotations

import pytest

from models.errors import InvalidInput, InvalidInputs
from oja import services as sv
from tests.integration import test_bad_input as bad
from tests.integration.test_bad_input import World, plan_with
from tests.integration.test_services import TODAY, counts, do

world = bad.world  # the bad-input tests' region: an active case, a case in planning, a pupil


def _reviewed(w: World) -> None:
    do(w.engine, sv.record_review, case_ref=w.active, held_on=TODAY, gas_scores={1: 0}, actor="PRF-1", today=TODAY)


def test_continuing_with_a_level_names_the_missing_reason_and_the_wrong_level_at_once(world):
    _reviewed(world)
    before = counts(world.engine)
    with pytest.raises(InvalidInputs) as refused:
        do(
            world.engine,
            sv.decide,
            case_ref=world.active,
            kind="voortzetten",
            new_level=3,
            actor="PRF-1",
            today=TODAY,
            policy=sv.DEFAULT_POLICY,
        )
    fields = [e.field for e in refused.value.errors]
    assert fields == ["override_reason", "new_level"], str(refused.value)
    assert str(refused.value).splitlines() == [str(e) for e in refused.value.errors]
    assert counts(world.engine) == before


def test_a_reason_to_differ_when_following_the_recommendation_is_refused_not_dropped(world):
    """Issue 25 (3): a decision as recommended with a reason to differ completed, and the reason was gone."""
    _reviewed(world)  # a first review: the engine recommends continuing
    before = counts(world.engine)
    with pytest.raises(InvalidInput) as refused:
        do(world.engine, sv.decide, case_ref=world.active, kind="voortzetten", override_reason="capaciteit",
           actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)  # fmt: skip
    assert refused.value.field == "override_reason"
    assert refused.value.rule == (
        "u volgt de aanbeveling 'voortzetten': er is niets om van af te wijken; laat het veld leeg"
    )
    assert counts(world.engine) == before


def test_a_reason_to_differ_that_does_not_apply_is_named_with_the_other_wrong_fields(world):
    _reviewed(world)
    before = counts(world.engine)
    with pytest.raises(InvalidInputs) as refused:
        do(world.engine, sv.decide, case_ref=world.active, kind="voortzetten", override_reason="capaciteit",
           end_reason="volgens_plan", actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)  # fmt: skip
    assert [e.field for e in refused.value.errors] == ["override_reason", "end_reason"], str(refused.value)
    assert counts(world.engine) == before


def test_a_level_given_with_the_recommended_level_is_kept_and_another_level_is_an_override(world):
    """The recommendation's own level is no override; another level for the same kind of decision is one, and
    asks a reason, never dropped or replaced by the recommended level."""
    _reviewed(world)  # the recommendation: continue, no level
    with pytest.raises(InvalidInputs) as refused:
        do(world.engine, sv.decide, case_ref=world.active, kind="voortzetten", new_level=2, actor="PRF-1",
           today=TODAY, policy=sv.DEFAULT_POLICY)  # fmt: skip
    assert [e.field for e in refused.value.errors] == ["override_reason", "new_level"]


def test_a_plan_names_every_refusal_at_once(world):
    before = counts(world.engine)
    draft = plan_with(
        goals=[sv.GoalSpec("leren", baseline=5), sv.GoalSpec("geen_domein")],
        iv={"provider_code": "PRV-ONBEKEND", "hours_per_week": 0, "swv_share_pct": 150},
        review_cadence_weeks=40,
        planned_end_on=TODAY,
    )
    with pytest.raises(InvalidInputs) as refused:
        draft(world)
    fields = [e.field for e in refused.value.errors]
    assert fields == [
        "planned_end_on",
        "review_cadence_weeks",
        "goals[1].baseline",
        "goals[2].domain",
        "interventions[1].provider_code",
        "interventions[1].hours_per_week",
        "interventions[1].swv_share_pct",
    ], str(refused.value)
    assert counts(world.engine) == before


def test_a_plan_without_goals_or_interventions_names_both(world):
    with pytest.raises(InvalidInputs) as refused:
        plan_with(goals=[], interventions=[])(world)
    assert [e.field for e in refused.value.errors] == ["goals", "interventions"]


def test_a_review_names_every_wrong_figure_at_once(world):
    with pytest.raises(InvalidInputs) as refused:
        do(
            world.engine,
            sv.record_review,
            case_ref=world.active,
            held_on=TODAY,
            gas_scores={1: 3, 7: 0},
            attendance_pct=120,
            wellbeing=0,
            pupil_view="blij",
            actor="PRF-1",
            today=TODAY,
        )
    assert [e.field for e in refused.value.errors] == [
        "attendance_pct",
        "wellbeing",
        "pupil_view",
        "gas_scores[1]",
        "gas_scores",
    ]


def test_a_triage_names_the_missing_reason_and_the_level_that_does_not_belong_at_once(world):
    case_ref = do(
        world.engine, sv.register_signal, pupil_ref=world.pupil, school_code="40AB", source="school",
        domains=["leren"], urgency="normaal", actor="PRF-1", received_on=TODAY, today=TODAY, policy=sv.DEFAULT_POLICY,
    ).case_ref  # fmt: skip
    with pytest.raises(InvalidInputs) as refused:
        do(world.engine, sv.triage, case_ref=case_ref, outcome="geen_actie", level=2, actor="PRF-1", today=TODAY,
           policy=sv.DEFAULT_POLICY)  # fmt: skip
    assert [e.field for e in refused.value.errors] == ["no_action_reason", "level"]


def test_consent_names_a_future_day_and_a_party_without_authority_at_once(world):
    import datetime as dt

    plan_with()(world)  # the case in planning gets a plan that asks for consent
    with pytest.raises(InvalidInputs) as refused:
        do(world.engine, sv.record_consent, case_ref=world.planning, party="ouder_2", granted=True, actor="PRF-1",
           recorded_on=TODAY + dt.timedelta(days=3), today=TODAY)  # fmt: skip
    assert [e.field for e in refused.value.errors] == ["recorded_on", "party"]


def test_an_erasure_request_names_a_late_registration_and_a_guardian_without_authority_at_once(world):
    import datetime as dt

    from oja.services import retention

    with pytest.raises(InvalidInputs) as refused:
        do(world.engine, retention.request_erasure, pupil_ref=world.pupil, requested_by="ouder_1", actor="PRF-1",
           received_on=TODAY - dt.timedelta(days=60), today=TODAY, policy=sv.DEFAULT_POLICY)  # fmt: skip
    assert [e.field for e in refused.value.errors] == ["received_on", "requested_by"]
