"""The gateway's rules in plain Python: the allow-list per role and endpoint, a step bound to the person, the tags."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.prefect_access import (
    ALLOW_LIST,
    ROLE_CAPABILITIES,
    Capability,
    Kind,
    StepRefused,
    actor_of,
    allow_list_markdown,
    bind_actor,
    decide,
    find_rule,
    run_tags,
    state_change_allowed,
)
from models.vocabulary import Role
from oja.config import PROJECT_DIR

RUN = "0b5e0d4c-0b1b-4d47-9a28-1b0f2d3c4e5f"


def test_every_role_has_its_capabilities_and_an_unknown_role_none():
    assert set(ROLE_CAPABILITIES) == {r.value for r in Role}
    assert decide("onbekend", "POST", "/flow_runs/filter").allowed is False
    assert ROLE_CAPABILITIES["manager"] == {Capability.READ_RUNS, Capability.READ_ARTIFACTS}
    assert ROLE_CAPABILITIES["privacyfunctionaris"] == frozenset()
    assert [r for r, caps in ROLE_CAPABILITIES.items() if Capability.ADMINISTER in caps] == ["beheerder"]


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("zorgcoordinator", "POST", "/flow_runs/filter", True),
        ("zorgcoordinator", "POST", f"/deployments/{RUN}/create_flow_run", True),
        ("zorgcoordinator", "POST", f"/deployments/{RUN}/pause_deployment", False),
        ("zorgcoordinator", "POST", "/block_documents/filter", False),
        ("zorgcoordinator", "DELETE", f"/flow_runs/{RUN}", False),
        ("manager", "POST", "/artifacts/filter", True),
        ("manager", "POST", "/logs/filter", False),
        ("manager", "POST", f"/deployments/{RUN}/create_flow_run", False),
        ("beheerder", "DELETE", f"/flow_runs/{RUN}", True),
        ("beheerder", "PATCH", "/variables/name/drempel", True),
        ("beheerder", "POST", "/flow_runs/", False),  # nobody: a run without a deployment
        ("beheerder", "POST", "/logs/", False),  # nobody: the workers' own
        ("beheerder", "POST", "/admin/database/clear", False),
        ("zorgcoordinator", "GET", "/flows/filter", False),  # `{id}` is an id, not any word
        ("zorgcoordinator", "HEAD", f"/flow_runs/{RUN}", True),  # HEAD as GET
        ("zorgcoordinator", "get", f"/flow_runs/{RUN}", True),
    ],
)
def test_decide(role, method, path, allowed):
    decision = decide(role, method, path)
    assert decision.allowed is allowed
    assert decision.reason  # in words, also when allowed


def test_a_refusal_says_in_dutch_what_the_role_may_not():
    assert decide("manager", "POST", "/logs/filter").reason == "de rol manager mag geen logs bekijken"
    unlisted = decide("beheerder", "POST", "/logs/")
    assert unlisted.rule is None and "staat niet op de lijst" in unlisted.reason


def test_the_special_kinds_are_where_runs_are_started_or_changed():
    assert find_rule("POST", f"/deployments/{RUN}/create_flow_run").kind == Kind.START_RUN
    assert find_rule("POST", f"/flow_runs/{RUN}/set_state").kind == Kind.RUN_STATE
    assert find_rule("POST", f"/flow_runs/{RUN}/resume").kind == Kind.RESUME
    assert {r.kind for r in ALLOW_LIST if r.capability == Capability.START_STEPS} == {
        Kind.START_RUN,
        Kind.RUN_STATE,
        Kind.RESUME,
    }


def test_no_rule_is_listed_twice():
    keys = [(r.method, r.path) for r in ALLOW_LIST]
    assert len(keys) == len(set(keys))


def test_a_write_is_never_a_read_of_a_lesser_capability():
    """A rule that changes something needs the operator or is a step's: a professional's capabilities to read
    never cover a write."""
    reads = {Capability.READ_RUNS, Capability.READ_ARTIFACTS, Capability.READ_LOGS, Capability.READ_EVENTS}
    for rule in ALLOW_LIST:
        if rule.capability in reads:
            assert (
                rule.method in ("GET", "WS")
                or rule.path.rstrip("/").endswith(
                    ("/filter", "/count", "/paginate", "/history", "/lateness", "/validate", "/next", "/next-runs")
                )
                or rule.path.startswith(("/ui/", "/events/count-by/"))
            ), rule


@pytest.mark.parametrize(
    ("given_actor", "bound"),
    [
        (None, "PRF-0001"),
        ("", "PRF-0001"),
        ("PRF-0001", "PRF-0001"),
        (" prf-0001 ", "PRF-0001"),
        ("PRF-0001 — zorgcoördinator 10HV", "PRF-0001"),  # a label chosen from the form's list
    ],
)
def test_a_step_is_bound_to_the_person(given_actor, bound):
    form = {"case_ref": "OJA-2026-000001"} | ({} if given_actor is None else {"actor": given_actor})
    parameters = {"form": form}
    result = bind_actor(parameters, "PRF-0001")
    assert result == {"form": {"case_ref": "OJA-2026-000001", "actor": bound}}
    assert parameters == {"form": form}  # the given ones are not changed


@pytest.mark.parametrize(
    "other",
    # a parent's or the pupil's code (issue 26, 4): only the family's own page starts a run in their name
    ["PRF-0002", "PRF-0002 — zorgcoördinator 11HE", "PRF-00010", "prf-0002", "ouder_1", "ouder_2", "leerling"],
)
def test_a_step_in_someone_elses_name_is_refused_naming_the_field(other):
    with pytest.raises(StepRefused) as refused:
        bind_actor({"form": {"actor": other}}, "PRF-0001")
    assert refused.value.field == "Uitgevoerd door (actor)" and refused.value.status == 422
    assert "ingelogd als PRF-0001" in refused.value.rule and "geen run gestart" in refused.value.rule


@pytest.mark.parametrize("parameters", [[], "x", {"form": []}, {"form": "PRF-0002"}, {"form": {"actor": 7}}])
def test_parameters_of_the_wrong_shape_are_refused_not_passed_on(parameters):
    with pytest.raises(StepRefused) as refused:
        bind_actor(parameters, "PRF-0001")
    assert refused.value.status == 422


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=12,
    )
)
def test_binding_never_fails_otherwise_and_never_lets_another_actor_through(parameters):
    try:
        bound = bind_actor(parameters, "PRF-0001")
    except StepRefused:
        return
    assert actor_of(bound) == "PRF-0001"


def test_tags_never_name_another_person():
    assert run_tags(["door:PRF-0002", "x", 7, "door:PRF-0001"], "PRF-0001") == ["x", "door:PRF-0001"]
    assert run_tags(None, "PRF-0003") == ["door:PRF-0003"]
    assert run_tags("door:PRF-0002", "PRF-0003") == ["door:PRF-0003"]


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        ({"type": "SCHEDULED", "name": "AwaitingRetry"}, True),
        ({"type": "CANCELLING"}, True),
        ({"type": "cancelled"}, True),
        ({"type": "COMPLETED"}, False),
        ({"type": "RUNNING"}, False),
        ({"type": "FAILED"}, False),
        (None, False),
        ("SCHEDULED", False),
    ],
)
def test_a_professional_retries_or_cancels_their_own_run_nothing_else(state, allowed):
    assert state_change_allowed(state) is allowed


def test_the_allow_list_in_docs_is_the_one_the_gateway_uses():
    assert (PROJECT_DIR / "docs" / "prefect-access.md").read_text(encoding="utf-8") == allow_list_markdown(), (
        "docs/prefect-access.md is generated: python -c 'from models.prefect_access import allow_list_markdown; "
        'open("docs/prefect-access.md", "w").write(allow_list_markdown())\''
    )
