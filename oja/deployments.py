"""Each flow's deployment: the one map from a flow to the name `prefect.yaml` gives its deployment.

The Prefect UI lists deployments by name, A to Z, ten to a page (a browser can choose 25), and shows
the flow's name small under each. So a deployment's name is its step's number in the lifecycle and the
step in Dutch (`01 Signaal registreren`): the Deployments page reads as a menu, in the order of an
arrangement's life, the steps people start first and the scheduled work last. A name stays short
enough for the UI's column (`MAX_NAME_LENGTH`). `prefect.yaml` declares the same names (a test holds
the two together); code that finds a deployment asks here: `deployment_path("dagelijkse-monitoring")`
is `"dagelijkse-monitoring/16 Monitoring"`, what `run_deployment` and `prefect deployment run` take.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_NAME_LENGTH = 23  # "06 Evaluatie vastleggen" fits the UI's Deployment column at 1400 px; longer is cut off

# flow name -> deployment name, in the order of prefect.yaml (and of the Deployments page)
DEPLOYMENTS: dict[str, str] = {
    "signaal-registreren": "01 Signaal registreren",
    "triage": "02 Triage",
    "plan-opstellen": "03 Plan opstellen",
    "toestemming-vastleggen": "04 Toestemming",
    "arrangement-starten": "05 Arrangement starten",
    "evaluatie-vastleggen": "06 Evaluatie vastleggen",
    "meting-vastleggen": "07 Meting vastleggen",
    "besluit-nemen": "08 Besluit nemen",
    "verwijzen-specialistische-zorg": "09 Verwijzen",
    "verwijzing-beantwoorden": "10 Antwoord wijkteam",
    "terugkeer-uit-specialistische-zorg": "11 Terugkeer",
    "casus-heropenen": "12 Casus heropenen",
    "verzoek-vernietiging-registreren": "13 Verzoek vernietiging",
    "verzoek-vernietiging-beslissen": "14 Besluit vernietiging",
    # scheduled, in the order they run in a day
    "bewaartermijn": "15 Bewaartermijn",
    "dagelijkse-monitoring": "16 Monitoring",
    "dagelijkse-herinneringen": "17 Herinneringsronde",
    "berichten-versturen": "18 Berichten versturen",
}


# the scheduled work: no form, no actor; started by its schedule (or by the operator)
SCHEDULED_FLOWS = frozenset(
    {"bewaartermijn", "dagelijkse-monitoring", "dagelijkse-herinneringen", "berichten-versturen"}
)
# the lifecycle's steps: a professional's form with an `actor`, which the gateway binds to the person signed in
LIFECYCLE_FLOWS = frozenset(DEPLOYMENTS) - SCHEDULED_FLOWS


def deployment_name(flow_name: str) -> str:
    """The name of this flow's deployment, as prefect.yaml declares it."""
    try:
        return DEPLOYMENTS[flow_name]
    except KeyError:
        raise LookupError(f"no deployment of flow {flow_name!r} in prefect.yaml (oja/deployments.py)") from None


def deployment_path(flow_name: str) -> str:
    """`flow/deployment`, as `run_deployment`, `read_deployment_by_name` and `prefect deployment run` take it."""
    return f"{flow_name}/{deployment_name(flow_name)}"


def undeclared(deployed: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Of these (flow, deployment name) pairs, the deployments of the engine's flows that prefect.yaml no
    longer declares: left behind by a rename (every deployment was once named `oja`). Other flows' are kept."""
    return [(flow, name) for flow, name in deployed if flow in DEPLOYMENTS and DEPLOYMENTS[flow] != name]


def remove_undeclared(api_url: str, auth: str = "") -> list[str]:
    """Delete, on the Prefect server at `api_url`, the deployments of the engine's flows that prefect.yaml no
    longer declares (a renamed deployment stays behind, schedules and all); their paths, for the log."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    updates = {PREFECT_API_URL: api_url}
    if auth:
        updates[PREFECT_API_AUTH_STRING] = auth
    with temporary_settings(updates), get_client(sync_client=True) as client:
        flows = {f.id: f.name for f in client.read_flows()}
        deployed = {(flows.get(d.flow_id, ""), d.name): d.id for d in client.read_deployments()}
        stale = undeclared(deployed)
        for key in stale:
            client.delete_deployment(deployed[key])
    return [f"{flow}/{name}" for flow, name in stale]
