"""The API client a flow run's own work goes over: the run's, when there is one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.context import FlowRunContext


@contextlib.contextmanager
def run_client() -> Iterator[SyncPrefectClient]:
    """The current flow run's own API client (its connection open already), or a new one outside a run."""
    context = FlowRunContext.get()
    client = getattr(context, "client", None)
    if isinstance(client, SyncPrefectClient):
        yield client
    else:
        with get_client(sync_client=True) as new:
            yield new
