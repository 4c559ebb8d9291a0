"""Bad input, kind by kind: each gets an error naming the field and the rule, and nothing is half-written.

Every case runs against a real database (SQLite and PostgreSQL) holding an active case, a case in
planning and a registered pupil; the row count of every table is compared before and after.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from models.errors import IllegalTransition, InvalidInput
from models.lifecycle import TRANSITIONS, Action, CaseState
from models.tables import Case, Pupil
from models.words import action_word, state_word
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.adapters.notify import alert_operators, build_sender
from oja.config import Settings, load_policy
from oja.services import retention
from tests.factories import active_case
from tests.integration.test_services import POLICY, TODAY, counts, do, signal

HUGE = "x" * 100_000
# words of an English rule: a refusal is written in Dutch (issue 13), so none of them may appear in one
ENGLISH = re.compile(r"\b(the|must|cannot|may not|is not|needs?|unknown|only|at most|between|after|before)\b")


@dataclasses.dataclass
class World:
    engine: object
    active: str  # an active case (pupil 17)
    planning: str  # a case in planning
    pupil: str  # a registered pupil without a case, a parent without authority


@pytest.fixture
def world(engine) -> World:
    with unit_of_work(engine) as s:
        sv.upsert_provider(s, code="PRV-B", name="Aanbieder B")
    active = active_case(
        engine, school="40AB", coordinator="PRF-1", bsn="111222333", born=dt.date(2009, 1, 1), today=TODAY
    )
    with unit_of_work(engine) as s:
        p2 = sv.register_pupil(
            s,
            given_name="B",
            family_name="C",
            birth_date=dt.date(2013, 1, 1),
            school_code="40AB",
            municipality_code="GM0164",
            bsn="123456782",
            parents=[sv.ParentSpec("Ouder", has_authority=True)],
            today=TODAY,
        )
        p3 = sv.register_pupil(
            s,
            given_name="D",
            family_name="E",
            birth_date=dt.date(2016, 1, 1),
            school_code="40AB",
            municipality_code="GM0164",
            onderwijsnummer="100000004",
            parents=[sv.ParentSpec("Voogd zonder gezag", has_authority=False)],
            today=TODAY,
        )
    planning = signal(engine, p2).case_ref
    do(
        engine,
        sv.triage,
        case_ref=planning,
        outcome="oja",
        level=2,
        actor="PRF-1",
        today=TODAY,
        policy=sv.DEFAULT_POLICY,
    )
    return World(engine, active, planning, p3)


def pupil_with(**changes) -> Callable[[World], object]:
    base = dict(
        given_name="Nieuw",
        family_name="Kind",
        birth_date=dt.date(2015, 5, 5),
        school_code="40AB",
        municipality_code="GM0164",
        bsn="100000009",
        today=TODAY,
    )
    return lambda w: do(w.engine, sv.register_pupil, **{**base, **changes})


def signal_with(**changes) -> Callable[[World], object]:
    def run(w: World):
        base = dict(
            pupil_ref=w.pupil,
            school_code="40AB",
            source="school",
            domains=["leren"],
            urgency="normaal",
            actor="PRF-1",
            received_on=TODAY,
            today=TODAY,
            policy=POLICY,
        )
        return do(w.engine, sv.register_signal, **{**base, **changes})

    return run


def plan_with(**changes) -> Callable[[World], object]:
    iv = changes.pop("iv", {})

    def run(w: World):
        base = dict(
            case_ref=w.planning,
            goals=[sv.GoalSpec("leren")],
            interventions=[sv.InterventionSpec(**{"provider_code": "PRV-A", "hours_per_week": 2, **iv})],
            regie_holder="PRF-1",
            start_on=TODAY,
            planned_end_on=TODAY + dt.timedelta(weeks=10),
            actor="PRF-1",
            today=TODAY,
            policy=POLICY,
        )
        return do(w.engine, sv.draft_plan, **{**base, **changes})

    return run


def review_with(**changes) -> Callable[[World], object]:
    def run(w: World):
        base = dict(case_ref=w.active, held_on=TODAY, actor="PRF-1", today=TODAY, gas_scores={1: 0})
        return do(w.engine, sv.record_review, **{**base, **changes})

    return run


# kind -> (what to do, the field the error must name, a fragment of the rule)
BAD = {
    "BSN with a wrong checksum": (pupil_with(bsn="123456789"), "bsn", "elfproef"),
    "BSN too short": (pupil_with(bsn="1234567"), "bsn", "9 cijfers"),
    "BSN too long": (pupil_with(bsn="1234567890"), "bsn", "9 cijfers"),
    "BSN with letters": (pupil_with(bsn="12345678a"), "bsn", "cijfers"),
    "BSN all zeros": (pupil_with(bsn="000000000"), "bsn", ""),
    "onderwijsnummer with a wrong checksum": (pupil_with(bsn=None, onderwijsnummer="100000005"), "onderwijsnummer", ""),
    "neither BSN nor onderwijsnummer": (pupil_with(bsn=None), "bsn", "onderwijsnummer"),
    "birth date in the future": (pupil_with(birth_date=TODAY + dt.timedelta(days=1)), "birth_date", ""),
    "birth date implausibly far back": (pupil_with(birth_date=dt.date(1900, 1, 1)), "birth_date", ""),
    "unknown school": (pupil_with(school_code="99ZZ"), "school_code", "school '99ZZ' is niet bekend"),
    "unknown municipality": (
        pupil_with(municipality_code="GM9999"),
        "municipality_code",
        "gemeente 'GM9999' is niet bekend",
    ),
    "huge name": (pupil_with(given_name=HUGE), "given_name", ""),
    "control characters in a name": (pupil_with(family_name="Kind\x00\x1b[31m"), "family_name", "stuurtekens"),
    "empty name": (pupil_with(given_name="   "), "given_name", "leeg"),
    "three parents": (
        pupil_with(parents=[sv.ParentSpec("A"), sv.ParentSpec("B"), sv.ParentSpec("C")]),
        "parents",
        "hoogstens twee",
    ),
    "a BSN registered twice": (pupil_with(bsn="111222333"), "bsn", "al een leerling met dit BSN"),
    "SQL-like school code": (signal_with(school_code="40AB' OR '1'='1"), "school_code", ""),
    "malformed pupil reference": (signal_with(pupil_ref="LL-1; DROP TABLE pupil"), "pupil_ref", "LL-000123"),
    "unknown pupil": (signal_with(pupil_ref="LL-999999"), "pupil_ref", "leerling 'LL-999999' is niet bekend"),
    "signal dated in the future": (signal_with(received_on=TODAY + dt.timedelta(days=1)), "received_on", "na vandaag"),
    "signal more than a year old": (signal_with(received_on=TODAY - dt.timedelta(days=400)), "received_on", "jaar"),
    "unknown source code": (signal_with(source="buurman"), "source", "één van deze codes"),
    "unknown concern domain": (signal_with(domains=["leren", "astrologie"]), "domains", "één van deze codes"),
    "no concern domain": (signal_with(domains=[]), "domains", "minstens één"),
    "unknown actor": (signal_with(actor="PRF-404"), "actor", "professional 'PRF-404' is niet bekend"),
    "actor outside their scope": (signal_with(actor="PRF-2"), "actor", "alleen casussen waarin PRV-A hulp levert"),
    "unknown provider": (plan_with(iv={"provider_code": "PRV-ZZ"}), "interventions[1].provider_code", "niet bekend"),
    "unknown professional as regie holder": (plan_with(regie_holder="PRF-404"), "regie_holder", "niet bekend"),
    "negative hours": (plan_with(iv={"hours_per_week": -2}), "interventions[1].hours_per_week", ""),
    "excessive hours": (plan_with(iv={"hours_per_week": 60}), "interventions[1].hours_per_week", ""),
    "a funding share over 100%": (
        plan_with(iv={"swv_share_pct": 150}),
        "interventions[1].swv_share_pct",
        "0 tot en met 100",
    ),
    "plan starting in the past": (plan_with(start_on=TODAY - dt.timedelta(days=1)), "start_on", ""),
    "plan ending before it starts": (plan_with(planned_end_on=TODAY), "planned_end_on", "na de startdatum"),
    "plan longer than the policy allows": (
        plan_with(planned_end_on=TODAY + dt.timedelta(weeks=300)),
        "planned_end_on",
        "tijdelijk",
    ),
    "GAS score above +2": (review_with(gas_scores={1: 3}), "gas_scores[1]", ""),
    "GAS score below -2": (review_with(gas_scores={1: -3}), "gas_scores[1]", ""),
    "score for a goal the plan does not have": (review_with(gas_scores={7: 0}), "gas_scores", ""),
    "review dated before activation": (review_with(held_on=TODAY - dt.timedelta(days=30)), "held_on", ""),
    "review dated in the future": (review_with(held_on=TODAY + dt.timedelta(days=3)), "held_on", "na vandaag"),
    "malformed case reference": (
        lambda w: do(w.engine, sv.activate, case_ref="OJA-2026-1' --", actor="PRF-1", today=TODAY),
        "case_ref",
        "OJA-2026-000123",
    ),
    "not the recommendation, without saying why": (  # the decision service loads the recommendation itself
        lambda w: do(
            w.engine,
            sv.decide,
            case_ref=w.active,
            kind="afsluiten",
            end_reason="volgens_plan",
            actor="PRF-1",
            today=TODAY,
            policy=sv.DEFAULT_POLICY,
        ),
        "override_reason",
        "vraagt een reden",
    ),
    "close without a reason": (
        lambda w: do(
            w.engine,
            sv.decide,
            case_ref=w.active,
            kind="afsluiten",
            override_reason="professioneel_oordeel",  # after the review: not the recommendation
            actor="PRF-1",
            today=TODAY,
            policy=sv.DEFAULT_POLICY,
        ),
        "end_reason",  # the form's field
        "",
    ),
    "scale up beyond the school ladder": (
        lambda w: do(
            w.engine,
            sv.decide,
            case_ref=w.active,
            kind="opschalen",
            new_level=4,
            override_reason="professioneel_oordeel",
            actor="PRF-1",
            today=TODAY,
            policy=sv.DEFAULT_POLICY,
        ),
        "new_level",
        "",
    ),
    "erasure asked by a guardian without authority": (
        lambda w: do(
            w.engine,
            retention.request_erasure,
            pupil_ref=w.pupil,
            requested_by="ouder_1",
            actor="PRF-1",
            received_on=TODAY,
            today=TODAY,
            policy=POLICY,
        ),  # fmt: skip
        "requested_by",
        "gezag",
    ),
}


REVIEWED_FIRST = (
    "close without a reason",
    "scale up beyond the school ladder",
    "not the recommendation, without saying why",
)


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_input_names_the_field_and_the_rule_and_writes_nothing(world, kind):
    action, field, rule = BAD[kind]
    if kind in REVIEWED_FIRST:
        review_with()(world)  # a valid review first: the decision after it is the bad input
    before = counts(world.engine)
    with pytest.raises(InvalidInput) as refused:
        action(world)
    err = refused.value
    assert err.field == field, f"{kind}: named {err.field!r}, expected {field!r} ({err})"
    assert rule.lower() in err.rule.lower() and err.rule
    assert not ENGLISH.search(err.rule), f"{kind}: not Dutch: {err.rule!r}"
    after = counts(world.engine)
    if kind == "actor outside their scope":  # the refusal itself is audited, nothing else
        after["auditrecord"] -= 1
    assert after == before, f"{kind}: something was written"
    assert HUGE not in str(err) and "\x00" not in str(err)  # the message never echoes what was typed


def test_a_second_signal_joins_the_open_case_instead_of_a_second_intake(world):
    with Session(world.engine) as s:
        pupil_ref = s.exec(
            select(Pupil.ref).join(Case, Case.pupil_id == Pupil.id).where(Case.ref == world.active)
        ).one()
    outcome = signal_with(pupil_ref=pupil_ref)(world)
    assert outcome.joined and outcome.case_ref == world.active
    with Session(world.engine) as s:
        assert len(s.exec(select(Case).join(Pupil).where(Pupil.ref == pupil_ref)).all()) == 1


def test_a_name_that_looks_like_sql_is_stored_as_it_is(world):
    name = "Robert'); DROP TABLE pupil;--"
    ref = pupil_with(family_name=name)(world)
    with Session(world.engine) as s:
        assert s.exec(select(Pupil.family_name).where(Pupil.ref == ref)).one() == name


def test_consent_from_a_guardian_without_authority_is_refused(world):
    ref = signal_with()(world).case_ref
    do(
        world.engine,
        sv.triage,
        case_ref=ref,
        outcome="oja",
        level=1,
        actor="PRF-1",
        today=TODAY,
        policy=sv.DEFAULT_POLICY,
    )
    plan_with(case_ref=ref)(world)
    before = counts(world.engine)
    for party in ("ouder_1", "ouder_2", "leerling"):  # no authority; no second parent; 10 years old
        with pytest.raises(InvalidInput) as refused:
            do(
                world.engine, sv.record_consent, case_ref=ref, party=party, granted=True, actor="PRF-1",
                recorded_on=TODAY, today=TODAY,
            )  # fmt: skip
        assert refused.value.field in ("party", "parents"), refused.value
    assert counts(world.engine) == before


ILLEGAL = [(state, action) for state in CaseState for action in Action if action not in TRANSITIONS.get(state, {})]


def test_every_illegal_transition_is_refused_with_the_allowed_ones(world):
    """Every (state, action) pair outside the table: the rules refuse it, naming state and allowed steps."""
    from models.lifecycle import next_state

    assert len(ILLEGAL) > 50
    for state, action in ILLEGAL:
        with pytest.raises(IllegalTransition) as refused:
            next_state(state, action, case_ref="OJA-2026-000001")
        assert f"'{state_word(state)}'" in str(refused.value) and f"'{action_word(action)}'" in str(refused.value)


@pytest.mark.parametrize(
    ("use_case", "kwargs"),
    [
        (sv.activate, {}),
        (sv.triage, {"outcome": "oja", "level": 1, "policy": POLICY}),
        (sv.reopen, {"policy": POLICY}),
        (sv.respond_to_referral, {"accepted": True, "policy": POLICY}),
        (sv.return_from_specialised, {"level": 2, "policy": POLICY}),
    ],
)
def test_an_illegal_step_on_an_active_case_writes_nothing(world, use_case, kwargs):
    before = counts(world.engine)
    with pytest.raises(IllegalTransition) as refused:
        do(world.engine, use_case, case_ref=world.active, actor="PRF-1", today=TODAY, **kwargs)
    assert f"kan niet in status '{state_word(CaseState.ACTIVE)}'" in str(refused.value) and "mogelijk:" in str(
        refused.value
    )
    assert counts(world.engine) == before


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ("[policy]\nreview_cadence_weeks = 0\n", "policy.review_cadence_weeks"),
        ("[policy]\nreview_cadence_weeks = 'six'\n", "policy.review_cadence_weeks"),
        ("[policy]\ndefault_holiday_region = 'oost'\n", "policy.default_holiday_region"),
        ("[policy]\nretention_years = 5\n", "policy.retention_years"),
        ("[policy]\nreveiw_cadence_weeks = 8\n", "policy.reveiw_cadence_weeks"),
        ("[policy\n", "policy_file"),
    ],
)
def test_a_policy_file_with_a_wrong_value_names_the_key(tmp_path, toml, field):
    path = tmp_path / "policy.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        load_policy(path)
    assert refused.value.field == field


@pytest.mark.parametrize("url", ["not a url", "mailto://", "nosuchservice://x", "mailto://:@"])
def test_a_malformed_apprise_url_is_refused_naming_the_setting(url):
    with pytest.raises(InvalidInput) as refused:
        alert_operators(Settings(operator_urls=[url]), "t", "b")
    assert refused.value.field == "operator_urls"
    with pytest.raises(InvalidInput) as refused:
        build_sender(Settings(smtp_url=url))
    assert refused.value.field == "smtp_url"
