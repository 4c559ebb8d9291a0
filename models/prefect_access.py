"""Who may do what on Prefect's API, through the engine's gateway: plain Python, no Prefect, no database.

Prefect's open-source server has no users. The gateway (`oja/dossier/gateway.py`) puts the dossier's login in front
of it and asks this module, for every request, whether the signed-in person's role may make it:

- `ALLOW_LIST` names every endpoint and method that anyone may reach, with the capability it needs. Anything not
  listed is refused, for every role: a worker's endpoints (heartbeats, claiming runs, writing logs and events),
  creating a flow run without a deployment, the server's database.
- `ROLE_CAPABILITIES` gives each role its capabilities: professionals read runs, logs, artifacts and events and
  start the lifecycle's steps as themselves; managers read runs and artifacts; only the operator (`beheerder`)
  changes deployments, schedules, work pools, blocks, variables, automations and concurrency limits, or deletes runs.
- `bind_actor` binds a step to the person: the form's `actor` is the signed-in professional (filled in when empty),
  or the step is refused.

`docs/prefect-access.md` is `allow_list_markdown()` (a test keeps the two equal).
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any

from models.vocabulary import Role


class Capability(enum.StrEnum):
    READ_RUNS = "runs_lezen"  # flows, runs, task runs, deployments, work pools: what the UI shows of the work
    READ_ARTIFACTS = "artefacten_lezen"  # a step's result, worklists, the managers' tables
    READ_LOGS = "logs_lezen"
    READ_EVENTS = "events_lezen"
    START_STEPS = "stappen_zetten"  # runs of the lifecycle's deployments, as oneself; retry or cancel one's own
    ADMINISTER = "beheren"  # the engine's settings in Prefect: deployments, schedules, pools, blocks, ...


class Kind(enum.StrEnum):
    """What the gateway does with an allowed request, beyond passing it on."""

    READ = "lezen"  # passed on; a refusal is logged
    WRITE = "wijzigen"  # passed on, and logged (allowed or refused)
    START_RUN = "run_starten"  # a deployment's run: the actor bound, no job variables, tagged `door:`
    RUN_STATE = "runstatus"  # retry or cancel: only one's own run of a lifecycle step (or the operator)
    RESUME = "hervatten"  # a paused run resumed with input: only one's own, its input's actor bound
    SETTINGS = "instellingen"  # the server's settings: the operator's passed on, anyone else gets a short version


PROFESSIONAL = frozenset(
    {
        Capability.READ_RUNS,
        Capability.READ_ARTIFACTS,
        Capability.READ_LOGS,
        Capability.READ_EVENTS,
        Capability.START_STEPS,
    }
)
ROLE_CAPABILITIES: Mapping[str, frozenset[Capability]] = {
    Role.COORDINATOR.value: PROFESSIONAL,
    Role.SCHOOL_SOCIAL_WORKER.value: PROFESSIONAL,
    Role.TEAM_LEAD.value: PROFESSIONAL,
    Role.YOUTH_WORKER.value: PROFESSIONAL,
    Role.DISTRICT_TEAM.value: PROFESSIONAL,
    Role.MANAGER.value: frozenset({Capability.READ_RUNS, Capability.READ_ARTIFACTS}),
    Role.PRIVACY_OFFICER.value: frozenset(),  # the access log, in the dossier; nothing in Prefect
    Role.OPERATOR.value: PROFESSIONAL | {Capability.ADMINISTER},
}

CAPABILITY_WORDS: Mapping[Capability, str] = {
    Capability.READ_RUNS: "runs, stappen en werkpools bekijken",
    Capability.READ_ARTIFACTS: "resultaten en tabellen (artefacten) bekijken",
    Capability.READ_LOGS: "logs bekijken",
    Capability.READ_EVENTS: "events bekijken",
    Capability.START_STEPS: "stappen van de levenscyclus zetten",
    Capability.ADMINISTER: "instellingen van de engine in Prefect inzien of wijzigen (alleen de beheerder)",
}


@dataclasses.dataclass(frozen=True)
class Rule:
    """One endpoint and method on Prefect's API (`/api` left off), the capability it needs, what happens then."""

    method: str  # GET, POST, PUT, PATCH, DELETE, or WS (a websocket)
    path: str  # Prefect's route, `{name}` for a path segment
    capability: Capability
    kind: Kind = Kind.READ

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.path)


_PATTERNS: dict[str, re.Pattern[str]] = {}
# `{id}`: one of Prefect's ids (a UUID); any other `{name}`: one path segment
UUID_SEGMENT = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
NAME_SEGMENT = "[^/]+"


def _compiled(path: str) -> re.Pattern[str]:
    found = _PATTERNS.get(path)
    if found is None:
        segments = [
            UUID_SEGMENT if part == "{id}" else NAME_SEGMENT if part.startswith("{") else re.escape(part)
            for part in path.split("/")
        ]
        found = re.compile("^" + "/".join(segments) + "$")
        _PATTERNS[path] = found
    return found


def _rules(capability: Capability, kind: Kind, *endpoints: str) -> tuple[Rule, ...]:
    return tuple(Rule(m, p, capability, kind) for m, p in (e.split(" ", 1) for e in endpoints))


R, A, L, E, S, B = (
    Capability.READ_RUNS,
    Capability.READ_ARTIFACTS,
    Capability.READ_LOGS,
    Capability.READ_EVENTS,
    Capability.START_STEPS,
    Capability.ADMINISTER,
)
READ, WRITE = Kind.READ, Kind.WRITE

ALLOW_LIST: tuple[Rule, ...] = (
    # what the UI asks for on every page
    *_rules(
        R, READ, "GET /health", "GET /ready", "GET /version", "GET /hello", "GET /csrf-token", "GET /admin/version"
    ),
    # flows, runs and their states, task runs
    *_rules(R, READ, "GET /flows/{id}", "GET /flows/name/{name}", "POST /flows/filter", "POST /flows/count"),
    *_rules(R, READ, "POST /flows/paginate", "GET /flow_runs/{id}", "POST /flow_runs/filter", "POST /flow_runs/count"),
    *_rules(R, READ, "POST /flow_runs/history", "POST /flow_runs/lateness", "POST /flow_runs/paginate"),
    *_rules(R, READ, "GET /flow_runs/{id}/graph", "GET /flow_runs/{id}/graph-v2", "GET /flow_run_states/"),
    *_rules(R, READ, "GET /flow_run_states/{id}", "GET /task_runs/{id}", "POST /task_runs/filter"),
    *_rules(R, READ, "POST /task_runs/count", "POST /task_runs/history", "POST /task_runs/paginate"),
    *_rules(R, READ, "GET /task_run_states/", "GET /task_run_states/{id}"),
    # deployments (the steps), their schedules, work pools and queues: read
    *_rules(R, READ, "GET /deployments/{id}", "GET /deployments/name/{flow_name}/{deployment_name}"),
    *_rules(R, READ, "POST /deployments/filter", "POST /deployments/paginate", "POST /deployments/count"),
    *_rules(R, READ, "GET /deployments/{id}/schedules", "GET /deployments/{id}/work_queue_check"),
    *_rules(R, READ, "GET /work_pools/{name}", "POST /work_pools/filter", "POST /work_pools/count"),
    *_rules(R, READ, "POST /work_pools/{name}/queues/filter", "GET /work_pools/{name}/queues/{queue}"),
    *_rules(R, READ, "POST /work_pools/{name}/workers/filter", "GET /work_queues/{id}", "POST /work_queues/filter"),
    *_rules(R, READ, "GET /work_queues/name/{name}", "GET /work_queues/{id}/status"),
    # the UI's own summaries, and its check of a form before Submit
    *_rules(R, READ, "POST /ui/flows/count-deployments", "POST /ui/flows/next-runs", "POST /ui/flow_runs/history"),
    *_rules(R, READ, "POST /ui/flow_runs/count-task-runs", "POST /ui/task_runs/dashboard/counts"),
    *_rules(R, READ, "POST /ui/task_runs/count", "GET /ui/task_runs/{id}", "POST /ui/schemas/validate"),
    *_rules(R, READ, "POST /saved_searches/filter", "POST /v2/concurrency_limits/filter"),
    # results and tables
    *_rules(A, READ, "GET /artifacts/{id}", "GET /artifacts/{key}/latest", "POST /artifacts/filter"),
    *_rules(A, READ, "POST /artifacts/latest/filter", "POST /artifacts/count", "POST /artifacts/latest/count"),
    # logs and events (also live, over a websocket)
    *_rules(L, READ, "POST /logs/filter", "GET /flow_runs/{id}/logs/download", "WS /logs/out"),
    *_rules(E, READ, "POST /events/filter", "GET /events/filter/next", "POST /events/count-by/{countable}"),
    *_rules(E, READ, "WS /events/out"),
    # a step: a run of a lifecycle deployment, as oneself; retrying or cancelling one's own
    Rule("POST", "/deployments/{id}/create_flow_run", S, Kind.START_RUN),
    Rule("POST", "/flow_runs/{id}/set_state", S, Kind.RUN_STATE),
    Rule("POST", "/flow_runs/{id}/resume", S, Kind.RESUME),
    # the operator: deployments and schedules
    *_rules(B, WRITE, "POST /deployments/", "PATCH /deployments/{id}", "DELETE /deployments/{id}"),
    *_rules(B, WRITE, "POST /deployments/bulk_delete", "POST /deployments/{id}/schedule"),
    *_rules(B, WRITE, "POST /deployments/{id}/pause_deployment", "POST /deployments/{id}/resume_deployment"),
    *_rules(B, WRITE, "POST /deployments/{id}/create_flow_run/bulk", "POST /deployments/{id}/schedules"),
    *_rules(B, WRITE, "PATCH /deployments/{id}/schedules/{schedule}", "DELETE /deployments/{id}/schedules/{schedule}"),
    # flows and runs: change, delete
    *_rules(B, WRITE, "PATCH /flows/{id}", "DELETE /flows/{id}", "POST /flows/bulk_delete"),
    *_rules(B, WRITE, "PATCH /flow_runs/{id}", "DELETE /flow_runs/{id}", "POST /flow_runs/bulk_delete"),
    *_rules(B, WRITE, "POST /flow_runs/bulk_set_state", "PATCH /flow_runs/{id}/labels", "DELETE /artifacts/{id}"),
    # work pools and queues
    *_rules(B, WRITE, "POST /work_pools/", "PATCH /work_pools/{name}", "DELETE /work_pools/{name}"),
    *_rules(B, WRITE, "POST /work_pools/{name}/queues", "PATCH /work_pools/{name}/queues/{queue}"),
    *_rules(B, WRITE, "DELETE /work_pools/{name}/queues/{queue}", "DELETE /work_pools/{name}/workers/{worker}"),
    *_rules(B, WRITE, "POST /work_queues/", "PATCH /work_queues/{id}", "DELETE /work_queues/{id}"),
    *_rules(B, READ, "POST /work_pools/{name}/concurrency_status", "POST /work_queues/{id}/concurrency_status"),
    *_rules(B, READ, "POST /task_workers/filter"),
    # blocks (the SMTP secret among them)
    *_rules(B, READ, "GET /block_types/{id}", "GET /block_types/slug/{slug}", "POST /block_types/filter"),
    *_rules(B, READ, "GET /block_types/slug/{slug}/block_documents", "GET /block_capabilities/"),
    *_rules(B, READ, "GET /block_types/slug/{slug}/block_documents/name/{name}", "GET /collections/views/{view}"),
    *_rules(B, READ, "POST /block_documents/filter", "POST /block_documents/count", "GET /block_documents/{id}"),
    *_rules(B, READ, "GET /block_schemas/{id}", "POST /block_schemas/filter", "GET /block_schemas/checksum/{checksum}"),
    *_rules(B, WRITE, "POST /block_types/", "PATCH /block_types/{id}", "DELETE /block_types/{id}"),
    *_rules(B, WRITE, "POST /block_documents/", "PATCH /block_documents/{id}", "DELETE /block_documents/{id}"),
    *_rules(B, WRITE, "POST /block_schemas/", "DELETE /block_schemas/{id}"),
    # variables
    *_rules(B, READ, "GET /variables/{id}", "GET /variables/name/{name}", "POST /variables/filter"),
    *_rules(B, READ, "POST /variables/count"),
    *_rules(B, WRITE, "POST /variables/", "PATCH /variables/{id}", "DELETE /variables/{id}"),
    *_rules(B, WRITE, "PATCH /variables/name/{name}", "DELETE /variables/name/{name}"),
    # automations (the alerts when no sweep ran among them)
    *_rules(B, READ, "GET /automations/{id}", "POST /automations/filter", "POST /automations/count"),
    *_rules(B, READ, "GET /automations/related-to/{resource}", "POST /templates/validate"),
    *_rules(B, READ, "POST /automations/templates/validate"),
    *_rules(B, WRITE, "POST /automations/", "PUT /automations/{id}", "PATCH /automations/{id}"),
    *_rules(B, WRITE, "DELETE /automations/{id}", "DELETE /automations/owned-by/{resource}"),
    # concurrency limits
    *_rules(B, READ, "GET /concurrency_limits/{id}", "GET /concurrency_limits/tag/{tag}"),
    *_rules(B, READ, "POST /concurrency_limits/filter", "GET /v2/concurrency_limits/{name}"),
    *_rules(B, WRITE, "POST /concurrency_limits/", "DELETE /concurrency_limits/{id}"),
    *_rules(B, WRITE, "DELETE /concurrency_limits/tag/{tag}", "POST /concurrency_limits/tag/{tag}/reset"),
    *_rules(B, WRITE, "POST /v2/concurrency_limits/", "PATCH /v2/concurrency_limits/{name}"),
    *_rules(B, WRITE, "DELETE /v2/concurrency_limits/{name}"),
    # saved filters on the Runs page, the server's settings
    *_rules(B, WRITE, "PUT /saved_searches/", "DELETE /saved_searches/{id}"),
    *_rules(B, READ, "GET /saved_searches/{id}"),
    # the UI asks for the server's settings on every page: the operator gets them (secrets masked by Prefect),
    # anyone else the few the UI reads, from the gateway itself
    Rule("GET", "/admin/settings", R, Kind.SETTINGS),
)

READ_ENDINGS = ("/filter", "/count", "/paginate", "/history", "/lateness", "/validate", "/next")


def is_read(method: str, path: str) -> bool:
    """Whether a request only reads: GET, HEAD, a websocket that streams out, and Prefect's POST searches."""
    method = method.upper()
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    if method == "WS":
        return path.endswith("/out")
    return method == "POST" and path.rstrip("/").endswith(READ_ENDINGS)


def find_rule(method: str, path: str) -> Rule | None:
    """The rule for this request (`path` without `/api`), or None: not on the list, refused for everyone."""
    method = "GET" if method.upper() == "HEAD" else method.upper()
    for rule in ALLOW_LIST:
        if rule.method == method and rule.pattern.match(path):
            return rule
    return None


@dataclasses.dataclass(frozen=True)
class Decision:
    rule: Rule | None
    allowed: bool
    reason: str  # in Dutch: the rule that refused, or what was allowed

    @property
    def read(self) -> bool:
        return self.rule.kind == Kind.READ if self.rule is not None else False


def capabilities(role: str) -> frozenset[Capability]:
    return ROLE_CAPABILITIES.get(role, frozenset())


def decide(role: str, method: str, path: str) -> Decision:
    """May a person with this role make this request to Prefect's API?"""
    rule = find_rule(method, path)
    if rule is None:
        return Decision(None, False, f"{method.upper()} {path} staat niet op de lijst van wat via de engine mag")
    if rule.capability not in capabilities(role):
        words = CAPABILITY_WORDS[rule.capability]
        return Decision(rule, False, f"de rol {role} mag geen {words}")
    return Decision(rule, True, CAPABILITY_WORDS[rule.capability])


def may_use_prefect(role: str) -> bool:
    """Whether the role sees anything in the Prefect UI at all."""
    return Capability.READ_RUNS in capabilities(role)


# --- a step bound to the person ---------------------------------------------------------------------------------

ACTOR_FIELD = "actor"
FORM_PARAMETER = "form"
SEPARATOR = " — "  # a code chosen from a form's list arrives as its label: `PRF-0001 — zorgcoördinator 10HV`


class StepRefused(Exception):
    """The gateway refuses a step: the message names the field and the rule, in Dutch; no run is created.

    422 by default: the form (or the request) says something this person may not ask, and the UI shows the message
    under Submit as it is (a 401 or 403 would also raise its generic "Oops. Something went wrong")."""

    def __init__(self, field: str, rule: str, status: int = 422) -> None:
        super().__init__(f"{field}: {rule}")
        self.field, self.rule, self.status = field, rule, status


def _code(value: object) -> str:
    text = value if isinstance(value, str) else ""
    if SEPARATOR in text:
        text = text.split(SEPARATOR, 1)[0]
    return text.strip().upper()


def bind_actor(parameters: object, code: str, *, label: str = "Uitgevoerd door (actor)") -> dict[str, Any]:
    """A lifecycle run's parameters, `{"form": {..., "actor": ...}}`, bound to the signed-in professional `code`:
    the actor filled in when empty, kept when it is `code` (also as a label chosen from the list), refused when it
    names anyone else. Returns new parameters; the ones given are not changed."""
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise StepRefused("parameters", "moet een object zijn met het formulier onder 'form'", 422)
    form = parameters.get(FORM_PARAMETER, {})
    if form is None:
        form = {}
    if not isinstance(form, dict):
        raise StepRefused("form", "moet een object zijn (de velden van het formulier)", 422)
    given = form.get(ACTOR_FIELD)
    if given not in (None, "") and not isinstance(given, str):
        raise StepRefused(label, "moet een code van een professional zijn, bijvoorbeeld PRF-0001", 422)
    named = _code(given)
    if named and named != code:
        raise StepRefused(
            label,
            f"u bent ingelogd als {code} en kunt geen stap zetten namens {named}. "
            f"Laat het veld leeg of vul {code} in; er is geen run gestart",
        )
    return {**parameters, FORM_PARAMETER: {**form, ACTOR_FIELD: code}}


def actor_of(parameters: object) -> str:
    """Who a run's parameters name as its actor (their code), or '' when none."""
    form = parameters.get(FORM_PARAMETER) if isinstance(parameters, dict) else None
    return _code(form.get(ACTOR_FIELD)) if isinstance(form, dict) else ""


DOOR_TAG = "door:"  # a run's tag naming who started it: `door:PRF-0001`


def run_tags(tags: object, code: str) -> list[str]:
    """The tags of a new run: the client's own, but never a `door:` tag it made up, and `door:<code>`."""
    given = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
    return [*dict.fromkeys(t for t in given if not t.startswith(DOOR_TAG)), f"{DOOR_TAG}{code}"]


# what a professional may set a run's state to: retry it, or cancel it
RETRY_STATES = frozenset({"SCHEDULED"})
CANCEL_STATES = frozenset({"CANCELLING", "CANCELLED"})


def state_change_allowed(state: object) -> bool:
    """A professional's change of their own run: a retry (Scheduled) or a cancel; nothing else."""
    kind = state.get("type") if isinstance(state, dict) else None
    return isinstance(kind, str) and kind.upper() in RETRY_STATES | CANCEL_STATES


# --- the list in words, for docs/prefect-access.md -------------------------------------------------------------


def roles_with(capability: Capability) -> list[str]:
    return [role for role, caps in ROLE_CAPABILITIES.items() if capability in caps]


def allow_list_markdown(rules: Iterable[Rule] = ALLOW_LIST) -> str:
    """The allow-list as docs/prefect-access.md holds it: the roles per capability, then every rule."""
    lines = [
        "# Who may do what in Prefect: the gateway's allow-list",
        "",
        "Generated from `models/prefect_access.py` (`allow_list_markdown()`); a test keeps this file equal to it.",
        "Every request to Prefect's API through the engine (`/api/...` on the dossier's address) is checked against",
        "this list. A method and endpoint that are not listed are refused for every role, the operator's too:",
        "the workers' own endpoints (heartbeats, claiming runs, writing logs and events), a flow run without a",
        "deployment, the server's database. The engine's own processes talk to Prefect directly, with its secret.",
        "",
        "## Roles",
        "",
        "| capability | what it allows | roles |",
        "|---|---|---|",
    ]
    for capability in Capability:
        roles = ", ".join(f"`{r}`" for r in roles_with(capability)) or "nobody"
        lines.append(f"| `{capability.value}` | {CAPABILITY_WORDS[capability]} | {roles} |")
    lines += [
        "",
        "Kinds: `lezen` is passed on (a refusal is logged); `wijzigen` is passed on and logged, allowed or refused;",
        "`run_starten` binds the form's `actor` to the signed-in professional (filled in when empty, refused when",
        "it names someone else), refuses `job_variables` from anyone but the operator, starts only the lifecycle's",
        "deployments for anyone but the operator, tags the run `door:<code>` and logs it; `runstatus` lets a",
        "professional retry (Scheduled) or cancel only a run whose actor they are; `hervatten` the same for a resume,",
        "its input's `actor` bound too; `instellingen` passes the server's settings on to the operator and answers",
        "anyone else with the few the UI reads (no addresses, paths or masked secrets of the server).",
        "",
        "A refusal by role is 403; a step refused for what its form says (someone else's `actor`, `job_variables`)",
        "is 422, so that the UI shows the Dutch message under Submit as it is. Both are in the access log.",
        "",
        "## Endpoints",
        "",
        "| method | endpoint (after `/api`) | capability | kind |",
        "|---|---|---|---|",
    ]
    for rule in rules:
        lines.append(f"| {rule.method} | `{rule.path}` | `{rule.capability.value}` | {rule.kind.value} |")
    return "\n".join(lines) + "\n"
