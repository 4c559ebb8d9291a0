"""The family's own page (issue 26), as a service: `family_view` reads the pupil's current case for a parent or the
pupil, on SQLite and PostgreSQL, with cases made through the use cases (tests/factories.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlmodel import select

from models.errors import InvalidInput, UnknownReference
from models.tables import Case, Pupil
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services.dossier import actor_of, describe_goals
from oja.services.family_view import FamilyView, family_export, family_view
from oja.services.retention import destroy_dossiers
from oja.services.review import recommendation
from tests.factories import active_case, valid_bsn

TODAY = dt.date(2026, 11, 24)  # a Tuesday in term time


def _pupil_id(engine, case_ref: str) -> int:
    with unit_of_work(engine) as s:
        return s.exec(select(Case.pupil_id).where(Case.ref == case_ref)).one()


def _active(engine, i: int, *, age: int, parents: tuple[str, ...] = ("Anna Jansen", "Bram Jansen")) -> str:
    return active_case(
        engine,
        school="40AB",
        coordinator="PRF-1",
        worker="PRF-2",
        bsn=valid_bsn(i, base=111_000_000),
        born=TODAY.replace(year=TODAY.year - age) - dt.timedelta(days=30),
        today=TODAY,
        parents=parents,
        names=("Noor", "Jansen"),
    )


def test_a_parent_sees_the_plan_in_words_who_helps_who_holds_regie_the_review_and_every_consent(engine):
    ref = _active(engine, 1, age=13)
    with unit_of_work(engine) as s:
        describe_goals(s, actor_of(s, "PRF-1"), ref, {1: "Noor maakt elke dag haar huiswerk."}, today=TODAY)
    with unit_of_work(engine) as s:
        view = family_view(s, _pupil_id(engine, ref), "ouder_1", TODAY)
    assert (view.case_ref, view.state, view.level, view.given_name, view.school_name) == (
        ref,
        "actief",
        2,
        "Noor",
        "De School",
    )
    assert [(g.number, g.domain, g.description) for g in view.goals] == [
        (1, "leren", "Noor maakt elke dag haar huiswerk.")
    ]
    assert [(h.provider_name, h.professional_name, h.hours_per_week, h.setting) for h in view.help] == [
        ("Aanbieder A", "Hulpverlener", 2, "individueel")
    ]
    assert view.regie is not None
    assert (view.regie.name, view.regie.role, view.regie.organisation) == (
        "Coördinator",
        "zorgcoordinator",
        "De School",
    )
    assert view.next_review_on is not None and view.next_review_on > TODAY
    assert (view.plan_start_on, view.planned_end_on) == (TODAY, TODAY + dt.timedelta(weeks=20))
    # 13 years old: both parents with authority and the pupil, each given
    assert [(c.party, c.needed, c.word) for c in view.consent] == [
        ("ouder_1", True, "gegeven"),
        ("ouder_2", True, "gegeven"),
        ("leerling", True, "gegeven"),
    ]
    assert [c.parent_name for c in view.consent] == ["Anna Jansen", "Bram Jansen", None]
    assert view.decisions == ()


def test_the_family_view_holds_no_professional_working_data():
    """Signals, triage, reviews' scores and remarks, the audit trail and professionals' codes are not in it."""
    fields = {f.name for f in dataclasses.fields(FamilyView)}
    for kept_out in ("signals", "triage_outcome", "reviews", "timeline", "urgency", "regie_holder", "drafted_by"):
        assert kept_out not in fields


def test_who_still_has_to_consent_follows_the_age_rule(engine):
    with unit_of_work(engine) as s:
        pupil = sv.register_pupil(
            s,
            given_name="Sem",
            family_name="Smit",
            birth_date=TODAY.replace(year=TODAY.year - 9),
            bsn=valid_bsn(2, base=111_000_000),
            school_code="40AB",
            municipality_code="GM0164",
            parents=[sv.ParentSpec("Iris Smit"), sv.ParentSpec("Tom Smit")],
            today=TODAY,
        )
        common = {"actor": "PRF-1", "today": TODAY, "policy": sv.DEFAULT_POLICY}
        ref = sv.register_signal(
            s,
            pupil_ref=pupil,
            school_code="40AB",
            source="school",
            domains=["gedrag"],
            urgency="normaal",
            received_on=TODAY,
            **common,
        ).case_ref
        sv.triage(s, case_ref=ref, outcome="oja", level=1, **common)
        sv.draft_plan(
            s,
            case_ref=ref,
            goals=[sv.GoalSpec("gedrag")],
            interventions=[sv.InterventionSpec("PRV-A", 1.5)],
            regie_holder="PRF-1",
            start_on=TODAY,
            planned_end_on=TODAY + dt.timedelta(weeks=12),
            **common,
        )
        sv.record_consent(s, case_ref=ref, party="ouder_1", granted=True, actor="PRF-1", recorded_on=TODAY, today=TODAY)
    with unit_of_work(engine) as s:
        view = family_view(s, _pupil_id(engine, ref), "ouder_2", TODAY)
    assert view.state == "plan_opgesteld"
    # under 12: the parents alone; the one who reads it has not given it yet
    assert [(c.party, c.word) for c in view.consent] == [("ouder_1", "gegeven"), ("ouder_2", "nog_niet")]
    assert [h.professional_name for h in view.help] == [None]  # the plan names no one: the provider only
    assert view.started_on is None and view.next_review_on is None


def test_a_pupil_of_sixteen_alone_consents_and_sees_the_decisions_with_their_reasons_then_the_end(engine):
    ref = _active(engine, 3, age=16, parents=("Els de Wit",))
    pupil_id = _pupil_id(engine, ref)
    common = {"actor": "PRF-1", "today": TODAY, "policy": sv.DEFAULT_POLICY}
    with unit_of_work(engine) as s:
        sv.record_review(s, case_ref=ref, held_on=TODAY, actor="PRF-1", today=TODAY, gas_scores={1: -1})
    with unit_of_work(engine) as s:
        recommended = recommendation(s, case_ref=ref, policy=sv.DEFAULT_POLICY).kind.value
    with unit_of_work(engine) as s:
        sv.decide(
            s,
            case_ref=ref,
            kind="afschalen",
            new_level=1,
            change_reason="herbeoordeling_verkorting",
            override_reason=None if recommended == "afschalen" else "wens_leerling_ouders",
            **common,
        )
    with unit_of_work(engine) as s:
        view = family_view(s, pupil_id, "leerling", TODAY)
    assert [(c.party, c.needed, c.word) for c in view.consent] == [("leerling", True, "gegeven")]
    [decision] = view.decisions
    assert (decision.kind, decision.from_level, decision.to_level, decision.reason) == (
        "afschalen",
        2,
        1,
        "herbeoordeling_verkorting",
    )
    assert decision.recommended is not None and decision.rule is not None
    assert decision.override == (None if decision.recommended == "afschalen" else "wens_leerling_ouders")

    with unit_of_work(engine) as s:
        sv.record_review(s, case_ref=ref, held_on=TODAY, actor="PRF-1", today=TODAY, gas_scores={1: 2})
    with unit_of_work(engine) as s:
        try:
            sv.decide(s, case_ref=ref, kind="afsluiten", end_reason="volgens_plan", **common)
        except InvalidInput:
            s.rollback()
            sv.decide(
                s,
                case_ref=ref,
                kind="afsluiten",
                end_reason="volgens_plan",
                override_reason="professioneel_oordeel",
                **common,
            )
    with unit_of_work(engine) as s:
        closed = family_view(s, pupil_id, "leerling", TODAY)
    assert (closed.state, closed.closed_on, closed.end_reason) == ("gesloten", TODAY, "volgens_plan")
    assert closed.regie is None and closed.next_review_on is None and closed.consent == ()
    assert [d.kind for d in closed.decisions] == ["afschalen", "afsluiten"]
    assert closed.goals, "the plan that ended is still shown"

    with unit_of_work(engine) as s:
        sv.reopen(s, case_ref=ref, **common)
    with unit_of_work(engine) as s:
        reopened = family_view(s, pupil_id, "leerling", TODAY)
    # a new episode: the earlier plan, its start and its help no longer count; the decisions stay in its history
    assert (reopened.state, reopened.goals, reopened.help, reopened.started_on) == ("wacht_op_triage", (), (), None)
    assert [d.kind for d in reopened.decisions] == ["afschalen", "afsluiten"]


def test_a_pupil_without_a_case_an_unknown_pupil_and_a_party_that_is_none(engine):
    with unit_of_work(engine) as s:
        ref = sv.register_pupil(
            s,
            given_name="Lotte",
            family_name="Bakker",
            birth_date=TODAY.replace(year=TODAY.year - 8),
            bsn=valid_bsn(4, base=111_000_000),
            school_code="40AB",
            municipality_code="GM0164",
            parents=[sv.ParentSpec("Kim Bakker")],
            today=TODAY,
        )
        pupil_id = s.exec(select(Pupil.id).where(Pupil.ref == ref)).one()
    with unit_of_work(engine) as s:
        view = family_view(s, pupil_id, "ouder_1", TODAY)
        assert (view.case_ref, view.given_name, view.pupil_ref) == (None, "Lotte", ref)
        assert family_export(s, pupil_id)["pupil"]["ref"] == ref
        with pytest.raises(UnknownReference):
            family_view(s, 999_999, "ouder_1", TODAY)
        with pytest.raises(InvalidInput):
            family_view(s, pupil_id, "PRF-1", TODAY)


def test_the_export_is_the_own_pupils_only(engine):
    first, second = _active(engine, 5, age=10), _active(engine, 6, age=11)
    with unit_of_work(engine) as s:
        data = family_export(s, _pupil_id(engine, first))
    assert [c["case"]["ref"] for c in data["cases"]] == [first]
    assert second not in str(data)


def test_a_destroyed_dossier_shows_nothing_of_it(engine):
    ref = _active(engine, 7, age=12)
    pupil_id = _pupil_id(engine, ref)
    with unit_of_work(engine) as s:
        described = describe_goals(s, actor_of(s, "PRF-1"), ref, {1: "Een tekst die weg moet."}, today=TODAY)
        assert described.case_ref == ref
    with unit_of_work(engine) as s:
        destroy_dossiers(s, [pupil_id], actor="PRF-1", reason="test", today=TODAY)
    with unit_of_work(engine) as s:
        view = family_view(s, pupil_id, "ouder_1", TODAY)
    assert view.destroyed and view.given_name == "" and view.case_ref is None
    assert (view.goals, view.help, view.consent, view.decisions, view.regie) == ((), (), (), (), None)
