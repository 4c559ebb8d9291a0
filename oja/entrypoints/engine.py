"""The process a worker starts for one flow run: Prefect's own `python -m prefect.engine`, but quiet on refusals.

A step the engine refuses (a wrong form, an illegal transition, missing consent) ends its run Failed with a
Dutch message that names the field and the rule (`flows/common.py`). Prefect's entry point then raises that
state again and logs it as "Engine execution exited with unexpected exception" with a Python traceback,
under the professional's message. This entry point runs the flow the same way and takes the final state
as it is: an unexpected error inside a flow is still logged with its traceback by the flow engine itself.

Its routine lines (the deployment's pull step, "Beginning flow run", a task's "Finished in state Completed()")
are not logged: on the run's page the step's own message stands first, after the worker's two lines.

The work pool in `prefect.yaml` starts it (`command: python -m oja.entrypoints.engine`), with the engine's
virtual environment first on the workers' PATH (`oja start` sees to that).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import ssl
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

# what every run logs before its step has said anything: nothing a professional needs to read
ROUTINE = re.compile(
    r"^(Running \d+ deployment pull step|Executing deployment step|Deployment step '.*' completed successfully"
    r"|All deployment steps completed successfully|Beginning flow run|Finished in state Completed\(\)$"
    r"|Running hook 'publish_pending'|Hook 'publish_pending' finished running successfully)"
)


class RoutineLines(logging.Filter):
    """Drops the run process's routine INFO lines; a warning, an error or a final state with a message stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or not ROUTINE.match(record.getMessage())


def quiet_routine_lines() -> None:
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addFilter(RoutineLines())


@contextlib.contextmanager
def _no_suspension_watch(*args: object, **kwargs: object) -> Iterator[None]:
    yield


def run_without_suspension_watch() -> None:
    """Prefect opens an event-stream subscription in every deployment's run before its flow starts, in case
    somebody suspends the run from outside (about 0.15 s per run, and a connection on the server per run). The
    engine's runs are never suspended: a step is one transaction of a tenth of a second, and a wait for a
    person is a state in the database, not a paused run. Cancellation is not affected (the worker's control
    channel and the process's signals carry it)."""
    import prefect.flow_engine

    prefect.flow_engine.observe_flow_run_suspension = _no_suspension_watch  # type: ignore[attr-defined]


class _TLSContexts:
    """`ssl` as Prefect's client module sees it, with the verified context for one CA file made once.

    Every Prefect API client builds a TLS context from certifi's bundle when it is made (about 25 ms of CPU),
    even for an `http://` API; a run makes several clients, and this was a fifth of a run's CPU. The context
    made with a CA file is never changed by Prefect after it is made (only the unverified one is, and that one is
    still made anew), so one per CA file serves every client of the process.
    """

    def __init__(self) -> None:
        self._made: dict[str, ssl.SSLContext] = {}

    def __getattr__(self, name: str) -> object:
        return getattr(ssl, name)

    def create_default_context(self, *args: Any, cafile: str | None = None, **kwargs: Any) -> ssl.SSLContext:
        if args or kwargs or cafile is None:
            return ssl.create_default_context(*args, cafile=cafile, **kwargs)
        if cafile not in self._made:
            self._made[cafile] = ssl.create_default_context(cafile=cafile)
        return self._made[cafile]


def reuse_tls_contexts() -> None:
    """Prefect's clients in this process share their verified TLS context (`_TLSContexts`); at once made for
    certifi's bundle, so that a warm parent makes it before it forks."""
    import certifi
    import prefect.client.orchestration as orchestration

    contexts = getattr(orchestration, "ssl", None)
    if not isinstance(contexts, _TLSContexts):
        contexts = _TLSContexts()
        setattr(orchestration, "ssl", contexts)  # noqa: B010 - the module's own name for the stdlib's ssl
    contexts.create_default_context(cafile=certifi.where())


def _version_check_key(api_url: str, client_version: str) -> tuple[str, str]:
    return (api_url.rstrip("/"), client_version)


def check_server_version_once(checked_api_url: str | None = None) -> None:
    """Prefect checks the server's version once per process and API address (`/admin/version`), but keeps the
    address as it was written: its events client checks `.../api` and its API client `.../api/` (as httpx keeps a
    base URL), so every run asked twice. One key for both. `checked_api_url`: the address the worker that forked
    this run checked already (the same Prefect, from the same interpreter), so the run asks nothing."""
    import prefect
    import prefect.client.orchestration as orchestration
    from prefect._internal import version_checking

    setattr(orchestration, "_api_version_check_key", _version_check_key)  # noqa: B010 - Prefect's own name
    setattr(version_checking, "_api_version_check_key", _version_check_key)  # noqa: B010
    if checked_api_url:
        version_checking._cache_api_version_check(_version_check_key(checked_api_url, prefect.__version__))


@contextlib.contextmanager
def server_result_storage_read_once() -> Iterator[None]:
    """While one run runs here: the server's default result storage read once, not at each of the two places
    Prefect's flow engine asks for it (`/admin/storage`, before the run starts and as its context is set up).
    The run's result goes where it went; within the run the answer cannot differ but by a change made in the
    milliseconds between the two reads (the engine never sets a server default: results go to PREFECT_HOME)."""
    import functools

    import prefect.results as results

    read = results._read_server_default_result_storage_block_id
    results._read_server_default_result_storage_block_id = functools.cache(read)
    try:
        yield
    finally:
        results._read_server_default_result_storage_block_id = read


def remember_related(flow_run: FlowRun, known: Mapping[str, Any]) -> None:
    """The flow, deployment and work pool of this run, as the worker read them when it took the run, and its work
    queue as the run names it, kept where Prefect's event client looks for them first
    (`prefect.events.related.RESOURCE_CACHE`). Every event the run sends (its task run's states, the step's own)
    names them as related resources; without them the run read each of the four from the server before its first
    event. Only an object that is the run's own is kept (the others are still read)."""
    from prefect.client.schemas.objects import WorkQueue
    from prefect.events.related import RESOURCE_CACHE
    from prefect.types._datetime import now

    objects = dict(known)
    if flow_run.work_queue_id and flow_run.work_queue_name and flow_run.work_pool_id:
        # what the event names of a queue: its id and name (a queue has no tags)
        queue = WorkQueue(id=flow_run.work_queue_id, name=flow_run.work_queue_name, work_pool_id=flow_run.work_pool_id)
        objects["work-queue"] = queue
    wanted = {
        "flow": flow_run.flow_id,
        "deployment": flow_run.deployment_id,
        "work-queue": flow_run.work_queue_id,
        "work-pool": flow_run.work_pool_name,
    }
    for kind, obj_id in wanted.items():
        obj = objects.get(kind)
        if obj_id is None or obj is None or (obj.name if kind == "work-pool" else obj.id) != obj_id:
            continue
        # as Prefect stamps its own entries (its annotation names its own datetime type; `now` returns the stdlib's)
        RESOURCE_CACHE[f"{kind}.{obj_id}"] = ({"kind": kind, "object": obj}, now("UTC"))  # type: ignore[assignment]


@contextlib.contextmanager
def deployment_as_read(deployment: Any | None) -> Iterator[None]:
    """While the run's flow is loaded: its deployment as the worker read it to build the run's job (a moment ago),
    not read again (Prefect's `load_flow_from_flow_run` reads it for its entrypoint and pull steps). Any other
    deployment is read as before."""
    from prefect.client.orchestration import PrefectClient

    if deployment is None:
        yield
        return
    had = "read_deployment" in vars(PrefectClient)
    read = PrefectClient.read_deployment

    async def read_deployment(self: PrefectClient, deployment_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if deployment_id == deployment.id:
            return deployment
        return await read(self, deployment_id, *args, **kwargs)

    setattr(PrefectClient, "read_deployment", read_deployment)  # noqa: B010
    try:
        yield
    finally:
        if had:
            setattr(PrefectClient, "read_deployment", read)  # noqa: B010
        else:
            delattr(PrefectClient, "read_deployment")


class _SharedCsrfToken:
    """One CSRF token for all of Prefect's API clients in this process.

    Each client asks the server for a token of its own before its first change (`/csrf-token`, a write to the
    server's database), and a run has two: its engine's, and the one its logs go over. The server binds a token to
    the client id sent with it, so a client without a token takes the process's token and id; a token a client
    fetched becomes the process's. A token the server refused (the client drops it and asks again) is not lent
    again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client_id: UUID | None = None
        self._token: str | None = None
        self._expiration: dt.datetime | None = None

    def lend(self, client: Any) -> None:
        with self._lock:
            if client.csrf_token is not None or self._token is None:
                return
            if getattr(client, "_oja_csrf_token", None) == self._token:  # refused: the client fetches a new one
                self._token = None
                return
            if self._expiration is not None and dt.datetime.now(dt.UTC) > self._expiration:
                return
            client.csrf_client_id, client.csrf_token = self._client_id, self._token
            client.csrf_token_expiration = self._expiration

    def keep(self, client: Any) -> None:
        with self._lock:
            client._oja_csrf_token = client.csrf_token
            if client.csrf_token is not None and client.csrf_token != self._token:
                self._client_id, self._token = client.csrf_client_id, client.csrf_token
                self._expiration = client.csrf_token_expiration


def share_csrf_token() -> None:
    """Prefect's API clients in this process (a run's) share one CSRF token (`_SharedCsrfToken`)."""
    from prefect.client.base import PrefectHttpxAsyncClient, PrefectHttpxSyncClient

    if getattr(PrefectHttpxSyncClient._add_csrf_headers, "_oja_shared", False):
        return
    shared = _SharedCsrfToken()
    add_sync, add_async = PrefectHttpxSyncClient._add_csrf_headers, PrefectHttpxAsyncClient._add_csrf_headers

    def add_sync_headers(self: PrefectHttpxSyncClient, request: Any) -> None:
        shared.lend(self)
        add_sync(self, request)
        shared.keep(self)

    async def add_async_headers(self: PrefectHttpxAsyncClient, request: Any) -> None:
        shared.lend(self)
        await add_async(self, request)
        shared.keep(self)

    add_sync_headers._oja_shared = True  # type: ignore[attr-defined]
    setattr(PrefectHttpxSyncClient, "_add_csrf_headers", add_sync_headers)  # noqa: B010
    setattr(PrefectHttpxAsyncClient, "_add_csrf_headers", add_async_headers)  # noqa: B010


def main(argv: list[str], *, related: Mapping[str, Any] | None = None, checked_api_url: str | None = None) -> int:
    """Run one flow run; `related` and `checked_api_url` come from the worker that forked it (`warm_runs`)."""
    from prefect._internal.control_listener import configure_from_env
    from prefect.engine import handle_engine_signals

    flow_run_id = UUID(argv[1] if len(argv) > 1 else os.environ["PREFECT__FLOW_RUN_ID"])
    configure_from_env()  # before any flow code is loaded, as Prefect's own entry point does
    quiet_routine_lines()
    run_without_suspension_watch()
    reuse_tls_contexts()
    check_server_version_once(checked_api_url)
    share_csrf_token()
    with handle_engine_signals(flow_run_id), server_result_storage_read_once():
        from prefect.flow_engine import load_flow, load_flow_run, run_flow
        from prefect.logging.loggers import flow_run_logger

        flow_run = load_flow_run(flow_run_id=flow_run_id)
        remember_related(flow_run, related or {})
        logger = flow_run_logger(flow_run=flow_run)
        try:
            with deployment_as_read((related or {}).get("deployment")):
                flow = load_flow(flow_run)
        except Exception:
            logger.error("De flow kon niet worden geladen", exc_info=True)
            raise
        # Prefect's own entry point passes this adapter too; run_flow's annotation is narrower than its use
        state = run_flow(flow, flow_run=flow_run, error_logger=logger, return_type="state")  # type: ignore[arg-type]
    return 0 if getattr(state, "is_final", lambda: True)() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
