"""Links to a step's form in the Prefect UI, filled in: `.../deployments/deployment/<id>/run?parameters=...`.

The UI reads the `parameters` query as the run's parameters (`{"form": {...}}`), so the link opens the custom
run form with the case reference and the actor (and for a decision, the recommendation) already there. Only
codes go into a link: it reaches Prefect, and browser histories.

`step_links` looks the deployments up at once, for a step's result (flows/result.py), or takes the ids its caller
read already (a step reads them once for its result and its school's worklist); `DeploymentIds` keeps them a
minute, for the dossier, which shows a link on every row of a worklist.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from prefect.settings import get_current_settings


def form_url(ui: str, deployment_id: UUID | str, values: Mapping[str, object]) -> str:
    query = urllib.parse.quote(json.dumps({"form": dict(values)}, separators=(",", ":")))
    return f"{ui.rstrip('/')}/deployments/deployment/{deployment_id}/run?parameters={query}"


def deployment_ids(flows: Iterable[str], client: SyncPrefectClient | None = None) -> dict[str, UUID]:
    """The deployment of each of these flows on the Prefect server (a flow without one is left out), whatever it
    is named; over `client` if given (a run's own), else a new one."""
    wanted = list(flows)
    if not wanted:
        return {}
    with contextlib.nullcontext(client) if client is not None else get_client(sync_client=True) as api:
        deployments = api.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=wanted)))
        flow_names = {f.id: f.name for f in api.read_flows(flow_filter=FlowFilter(name=FlowFilterName(any_=wanted)))}
    return {name: d.id for d in deployments if (name := flow_names.get(d.flow_id)) is not None}


def ui_url() -> str:
    return get_current_settings().ui_url or ""


def step_links(
    flows: Iterable[str],
    form: Mapping[str, object],
    preset: Mapping[str, Mapping[str, object]] | None = None,
    client: SyncPrefectClient | None = None,
    ids: Mapping[str, UUID] | None = None,
) -> dict[str, str]:
    """For each flow, a link to its deployment's form in the UI, with `form` (the case reference and actor)
    filled in, and for a flow in `preset` its values too (the decision form preset to the recommendation).
    Over `ids` if given (the deployments of these flows and maybe more, read by the caller), else looked up."""
    wanted = list(flows)
    ui = ui_url()
    if not wanted or not ui:
        return {}
    if ids is None:
        ids = deployment_ids(wanted, client)
    return {flow: form_url(ui, ids[flow], {**form, **(preset or {}).get(flow, {})}) for flow in wanted if flow in ids}


class DeploymentIds:
    """The deployments of the lifecycle's flows, read from the Prefect server at most once a minute; empty
    (no links, the page still shown) while the server cannot be reached."""

    def __init__(self, flows: Iterable[str], ttl: float = 60.0) -> None:
        self.flows = sorted(set(flows))
        self.ttl = ttl
        self._ids: dict[str, UUID] = {}
        self._read_at = -ttl
        self._lock = threading.Lock()

    def get(self) -> dict[str, UUID]:
        if not get_current_settings().api.url:  # no server set: Prefect's client would start one in-process
            return {}
        with self._lock:
            if time.monotonic() - self._read_at >= self.ttl:
                try:
                    self._ids = deployment_ids(self.flows)
                except Exception:  # noqa: BLE001 - the Prefect server away: the page without links
                    self._ids = {}
                self._read_at = time.monotonic()
            return dict(self._ids)
