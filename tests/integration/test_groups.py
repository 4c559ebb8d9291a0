"""Group arrangements: the audit says why and where (issue 23, item 14); a case starts in a group at the plan step,
and the group is shown and audited (item 19)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, select

from models.errors import InvalidInput
from models.lifecycle import AuditAction
from models.tables import AuditRecord, Case, GroupMember, Professional
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services.dossier_case import case_view
from oja.services.kernel import access_actor
from oja.services.status import case_status
from tests.factories import active_case
from tests.integration.test_services import TODAY, counts, do


@pytest.fixture
def region(engine):
    with unit_of_work(engine) as s:
        sv.upsert_group(
            s,
            code="GRP-VK-1",
            provider_code="PRV-A",
            professional_code="PRF-2",
            capacity=2,
            hours_per_week=3,
            school_code="40AB",
        )
    return engine


def _reviewed(engine, bsn: str, *, safety: bool = False) -> str:
    ref = active_case(  # 17: the pupil consents alone
        engine, school="40AB", coordinator="PRF-1", bsn=bsn, born=dt.date(2009, 1, 1), today=TODAY
    )
    do(engine, sv.record_review, case_ref=ref, held_on=TODAY, actor="PRF-2", today=TODAY, safety_concern=safety)
    return ref


def _last_audit(engine, ref: str) -> AuditRecord:
    with Session(engine) as s:
        return s.exec(
            select(AuditRecord).where(AuditRecord.case_ref == ref).order_by(col(AuditRecord.id).desc())
        ).first()


def _decide(engine, ref: str, **kwargs):
    return do(engine, sv.decide, case_ref=ref, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY, **kwargs)


def test_continuing_against_the_recommendation_audits_the_recommendation_and_the_reason(region):
    ref = _reviewed(region, "100000009", safety=True)  # a safety concern: the engine recommends escalating
    _decide(region, ref, kind="voortzetten", override_reason="wens_leerling_ouders")
    record = _last_audit(region, ref)
    assert record.action == AuditAction.CONTINUE
    assert "aanbeveling specialistische_zorg" in record.reason and "wens_leerling_ouders" in record.reason


def test_following_the_recommendation_audits_the_rule_it_followed(region):
    ref = _reviewed(region, "100000009", safety=True)
    _decide(region, ref, kind="specialistische_zorg")
    assert "volgens aanbeveling (veiligheid)" in _last_audit(region, ref).reason


def test_scaling_down_into_a_group_names_the_group_and_scaling_up_names_the_group_left(region):
    ref = _reviewed(region, "100000009")
    _decide(region, ref, kind="afschalen", new_level=1, group_code="GRP-VK-1", override_reason="capaciteit")
    reason = _last_audit(region, ref).reason
    assert "groep GRP-VK-1" in reason and "capaciteit" in reason and "verkorting" in reason
    do(region, sv.record_review, case_ref=ref, held_on=TODAY, actor="PRF-2", today=TODAY)
    _decide(region, ref, kind="opschalen", new_level=2, override_reason="professioneel_oordeel")
    assert "groep GRP-VK-1 verlaten" in _last_audit(region, ref).reason


def test_the_case_page_and_the_steps_result_name_the_group(region):
    ref = _reviewed(region, "100000009")
    _decide(region, ref, kind="afschalen", new_level=1, group_code="GRP-VK-1", override_reason="capaciteit")
    with Session(region) as s:
        coordinator = access_actor(s.get(Professional, "PRF-1"))
        view = case_view(s, coordinator, ref, today=TODAY, policy=sv.DEFAULT_POLICY)
        status = case_status(s, case_ref=ref, today=TODAY, policy=sv.DEFAULT_POLICY)
    assert view.group_code == "GRP-VK-1" and status.group_code == "GRP-VK-1"
    assert any("GRP-VK-1" in (t.reason or "") for t in view.timeline)


def _planning(engine, bsn: str, *, level: int) -> str:
    """A case triaged to an in-school arrangement at `level`: the plan is due."""
    with unit_of_work(engine) as s:
        pupil = sv.register_pupil(
            s, given_name="Groep", family_name="Leerling", birth_date=dt.date(2009, 1, 1), bsn=bsn,
            school_code="40AB", municipality_code="GM0164", today=TODAY,
        )  # fmt: skip
        ref = sv.register_signal(
            s, pupil_ref=pupil, school_code="40AB", source="school", domains=["leren"], urgency="normaal",
            actor="PRF-1", received_on=TODAY, today=TODAY, policy=sv.DEFAULT_POLICY,
        ).case_ref  # fmt: skip
        sv.triage(s, case_ref=ref, outcome="oja", level=level, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    return ref


def _plan(engine, ref: str, group_code: str | None):
    return do(
        engine, sv.draft_plan, case_ref=ref, goals=[sv.GoalSpec("leren")],
        interventions=[sv.InterventionSpec("PRV-A", 1, setting="groep")], regie_holder="PRF-1", start_on=TODAY,
        planned_end_on=TODAY + dt.timedelta(weeks=12), actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY,
        group_code=group_code,
    )  # fmt: skip


def _places(engine, ref: str) -> list[tuple[str, bool]]:
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        rows = s.exec(select(GroupMember).where(GroupMember.case_id == case.id).order_by(col(GroupMember.id))).all()
    return [(m.group_code, m.left_on is None) for m in rows]


def test_a_plan_at_level_one_starts_the_pupil_in_a_group_and_the_audit_names_it(region):
    ref = _planning(region, "100000009", level=1)
    _plan(region, ref, "grp-vk-1")
    assert _places(region, ref) == [("GRP-VK-1", True)]
    assert _last_audit(region, ref).reason == "plan v1; groep GRP-VK-1"
    _plan(region, ref, "GRP-VK-1")  # a new version in the same group keeps its one place
    assert _places(region, ref) == [("GRP-VK-1", True)]
    _plan(region, ref, None)  # a version without a group gives the place back
    assert _places(region, ref) == [("GRP-VK-1", False)]
    assert _last_audit(region, ref).reason == "plan v3; groep GRP-VK-1 verlaten"
    with Session(region) as s:
        assert sv.case_summary(s, ref)["group"] is None


def test_a_plan_in_a_group_is_refused_with_every_rule_it_breaks_at_once_and_nothing_changes(region):
    with unit_of_work(region) as s:
        sv.upsert_school(s, code="50CD", name="Andere School", holiday_region="noord", municipality_code="GM0164")
        sv.upsert_group(
            s, code="GRP-ELDERS", provider_code="PRV-A", professional_code="PRF-2", capacity=2, hours_per_week=2,
            school_code="50CD",
        )  # fmt: skip
    full = [_planning(region, bsn, level=1) for bsn in ("100000022", "100000034")]
    for ref in full:
        _plan(region, ref, "GRP-VK-1")
    ref = _planning(region, "100000009", level=2)
    before = counts(region)
    with pytest.raises(InvalidInput) as raised:
        _plan(region, ref, "GRP-VK-1")
    assert raised.value.field == "group_code"
    assert "voor niveau 1; deze casus heeft niveau 2" in raised.value.rule and "vol (2 plaatsen)" in raised.value.rule
    with pytest.raises(InvalidInput) as raised:
        _plan(region, ref, "GRP-ELDERS")
    assert "niveau 2" in raised.value.rule and "hoort bij school 50CD" in raised.value.rule
    with pytest.raises(InvalidInput) as raised:
        _plan(region, ref, "GRP-NIET")
    assert raised.value.field == "group_code" and "groepsarrangement 'GRP-NIET' is niet bekend" in raised.value.rule
    assert counts(region) == before


def test_a_group_keeps_room_for_its_pupils_and_their_school_when_it_is_changed(region):
    with unit_of_work(region) as s:
        sv.upsert_school(s, code="50CD", name="Andere School", holiday_region="noord", municipality_code="GM0164")
    for bsn in ("100000022", "100000034"):
        _plan(region, _planning(region, bsn, level=1), "GRP-VK-1")
    with Session(region) as s:
        problems = sv.check_group(
            s, code="GRP-VK-1", provider_code="PRV-A", professional_code="PRF-1", capacity=1, hours_per_week=50,
            school_code="50CD",
        )  # fmt: skip
        assert [p.field for p in problems] == [
            "professional_code",
            "capacity",
            "hours_per_week",
            "capacity",
            "school_code",
        ]
        assert "het aantal leerlingen in de groep nu (2)" in problems[3].rule
        assert "leerlingen van school 40AB" in problems[4].rule
        assert [(g.code, g.taken, g.capacity) for g in sv.list_groups(s)] == [("GRP-VK-1", 2, 2)]
    with pytest.raises(InvalidInput) as raised, unit_of_work(region) as s:
        sv.upsert_group(
            s, code="GRP-VK-1", provider_code="PRV-A", professional_code="PRF-2", capacity=1, hours_per_week=3
        )
    assert raised.value.field == "capacity"
