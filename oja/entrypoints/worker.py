"""The engine's Prefect worker: Prefect's process worker, with each run forked from a warm parent.

Prefect's process worker starts a fresh `python -m oja.entrypoints.engine` per flow run. Of the ~2 s a
professional waits after Submit, that fresh interpreter took about 1.5 s (its imports and the pull step) for a
step of 0.1 s, and the worker's next poll took another 0.5 s on average.

This worker is the same worker (`prefect worker start --type process` on the pool `oja`, the same deployments,
states, cancellation and crash detection) with two things changed:

1. **No cold start.** One *fork server* (`multiprocessing`'s forkserver) imports Prefect and the engine once
   (`warm_parent.py`); each run is a process forked from it (`warm_runs.run_forked`), in which the run's own
   environment, working directory and control channel are set as the process worker would set them. Every run
   is still its own process: one that crashes, leaks or is killed harms no other. The parent runs no flow and
   opens no connection; if it dies, the next run starts a new one.
2. **No poll wait.** Besides polling (`PREFECT_WORKER_QUERY_SECONDS`), the worker listens to Prefect's event
   stream for runs that become Scheduled in its pool and asks for work at once. A run created by the
   dossier's gateway, or by anyone, starts within milliseconds instead of at the next poll. If the stream is
   down, polling goes on as before.

And it asks Prefect's server less per run (one process serves every run): the run's deployment read once, not
twice, when a run is taken (`read_once_per_submission`), and the run's process is handed what the worker knows
(the flow, deployment and work pool its events name, the deployment its flow is loaded from, and that the
server's version was checked): see `engine.remember_related`, `engine.deployment_as_read` and
`engine.check_server_version_once`.

Why a fork server rather than a pool of warm processes or Prefect's runner: a pool must replace each process
after its run and keeps idle interpreters of ~150 MB each; Prefect's runner serves flows from one process
(no isolation between runs). Forking from a parent that never runs anything gives each run a clean process
in about 10 ms, and the parent's pages are shared copy-on-write (see docs/architecture.md).

    oja worker [--pool oja] [--limit 4] [--name NAME]
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import multiprocessing.process
import multiprocessing.util
import os
import shutil
import tempfile
import warnings
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import anyio
import anyio.abc
import anyio.to_thread
import prefect.types._datetime
from prefect.flows import load_flow_from_flow_run
from prefect.runner._flow_run_executor import FlowRunExecutionResult, FlowRunExecutorContext
from prefect.runner._process_manager import ProcessHandle
from prefect.settings import get_current_settings
from prefect.utilities.processutils import sanitize_subprocess_env
from prefect.workers.process import ProcessJobConfiguration, ProcessWorker, ProcessWorkerResult

from oja.entrypoints.warm_runs import run_forked

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun, WorkPool
    from prefect.runner._control_channel import ControlChannel

PRELOAD = ["oja.entrypoints.warm_parent"]
_RELISTEN_SECONDS = 5.0  # the event stream was down: listen again after this long (polling goes on meanwhile)
_EXIT_POLL_SECONDS = 0.2  # a run outliving its parent (the parent killed): how often to look whether it ended


def fork_context() -> multiprocessing.context.ForkServerContext:
    """The fork server's context, with the engine preloaded in the parent (started at once, not at the first run)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


_UNIX_PATH_MAX = 100  # a Unix socket's path: 108 bytes on Linux, 104 elsewhere; the listener's name adds ~20


def _socket_folder() -> None:
    """Where the warm parent's socket goes: multiprocessing puts it in a folder of its own under TMPDIR (the
    engine's `tmp/`), but a socket's path has at most 108 bytes, and an engine's folder can be deeper than that
    allows ("AF_UNIX path too long": the worker stopped at its start). Then a private folder (0700, as
    `mkdtemp` makes it) under /tmp instead. Private it must be: whoever can open the socket can have the parent
    fork a process as the engine's user."""
    config = multiprocessing.process.current_process()._config  # type: ignore[attr-defined]
    if config.get("tempdir") or len(tempfile.gettempdir()) + len("/pymp-xxxxxxxx/listener-xxxxxxxx") < _UNIX_PATH_MAX:
        return
    folder = tempfile.mkdtemp(prefix="oja-mp-", dir="/tmp")
    multiprocessing.util.Finalize(None, shutil.rmtree, args=[folder, True], exitpriority=-100)
    config["tempdir"] = folder


def start_warm_parent() -> int | None:
    """Start the warm parent now (its imports take a second or two), so that the first run does not wait on them;
    its process id."""
    _socket_folder()
    multiprocessing.forkserver.ensure_running()
    return getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)


def run_environment(base: dict[str, str | None], flow_run: FlowRun, control: dict[str, str]) -> dict[str, str]:
    """The run's environment as Prefect's `EngineCommandStarter` builds it for a fresh process."""
    env: dict[str, str | None] = {**os.environ, **base}
    env.update(get_current_settings().to_environment_variables(exclude_unset=True))
    env.update(
        {
            "PREFECT__FLOW_RUN_ID": str(flow_run.id),
            "PREFECT__ENABLE_CANCELLATION_AND_CRASHED_HOOKS": "false",
            "PREFECT__DEPLOYMENT_NAME": base.get("PREFECT__DEPLOYMENT_NAME"),
            **control,
        }
    )
    return sanitize_subprocess_env(env)


def related_objects(configuration: ProcessJobConfiguration, pool: WorkPool | None) -> dict[str, Any]:
    """The run's flow and deployment as Prefect's worker read them to build its job (a moment ago), and its work
    pool as the worker keeps it (read at every poll): what every event of the run names as related
    (`engine.remember_related`)."""
    known: dict[str, Any] = dict(getattr(configuration, "_related_objects", None) or {})
    found = {"flow": known.get("flow"), "deployment": known.get("deployment"), "work-pool": pool}
    return {kind: obj for kind, obj in found.items() if obj is not None}


def checked_api_url() -> str | None:
    """The API address whose server version this worker has checked (its event stream checks it when it connects),
    if it has: a run forked from it runs the same Prefect and need not check again."""
    import prefect
    from prefect._internal.version_checking import _api_version_check_key, _is_api_version_check_cached

    url = get_current_settings().api.url
    if not url:
        return None
    checked = (_api_version_check_key(u, prefect.__version__) for u in (url, url.rstrip("/"), url.rstrip("/") + "/"))
    return url if any(_is_api_version_check_cached(key) for key in checked) else None


# the deployments read while the worker takes one run (deployment id -> the deployment), for the next read of each
_READ_IN_SUBMISSION: contextvars.ContextVar[dict[UUID, Any] | None] = contextvars.ContextVar(
    "oja_read_in_submission", default=None
)


def read_once_per_submission(read: Callable[[UUID], Awaitable[Any]]) -> Callable[[UUID], Awaitable[Any]]:
    """A client's `read_deployment` that, while one run is taken (`submission`), serves the read that follows a
    read of the same deployment from that read. Prefect's worker reads the run's deployment to see it still exists
    and, a moment later, again to build the run's job: two requests to the server for one answer. Outside a
    submission, and for the third read, it reads as before."""

    async def read_deployment(deployment_id: UUID) -> Any:
        kept = _READ_IN_SUBMISSION.get()
        if kept is not None and deployment_id in kept:
            return kept.pop(deployment_id)
        deployment = await read(deployment_id)
        if kept is not None:
            kept[deployment_id] = deployment
        return deployment

    return read_deployment


@contextlib.contextmanager
def submission() -> Iterator[None]:
    """While the worker takes one run (its `_submit_run`, and the job it starts, which inherits the context)."""
    token = _READ_IN_SUBMISSION.set({})
    try:
        yield
    finally:
        _READ_IN_SUBMISSION.reset(token)


class ForkStarter:
    """Prefect's `ProcessStarter` for one run: the run forked from the warm parent, then waited for."""

    def __init__(
        self,
        *,
        context: multiprocessing.context.ForkServerContext,
        cwd: Path | None,
        env: dict[str, str | None],
        control_channel: ControlChannel | None,
        related: Mapping[str, Any] | None = None,
    ) -> None:
        self._context = context
        self._cwd = cwd
        self._env = env
        self._control_channel = control_channel
        self._related = related

    async def start(
        self, flow_run: FlowRun, task_status: anyio.abc.TaskStatus[ProcessHandle] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        control: dict[str, str] = {}
        if self._control_channel is not None:
            try:  # cancellation through the control channel, as for a fresh process
                port, token = self._control_channel.register(flow_run.id)
                control = {"PREFECT__CONTROL_PORT": str(port), "PREFECT__CONTROL_TOKEN": token}
            except RuntimeError:  # no loopback listener: Prefect falls back to killing the process
                pass
        env = run_environment(self._env, flow_run, control)
        args = (str(flow_run.id), env, str(self._cwd) if self._cwd else None, self._related, checked_api_url())
        process = self._context.Process(target=run_forked, args=args, daemon=False)
        try:
            await anyio.to_thread.run_sync(process.start)
        except BaseException:
            if control and self._control_channel is not None:
                self._control_channel.unregister(flow_run.id)
            raise
        task_status.started(ProcessHandle(process))  # type: ignore[arg-type]
        await wait_for_exit(process)


async def wait_for_exit(process: multiprocessing.process.BaseProcess) -> None:
    """Until the run's process has ended. Its parent reports the exit code; if the parent itself was killed
    (the code then reads 255), the run may still be going: wait until its process is gone."""
    await anyio.to_thread.run_sync(process.join, abandon_on_cancel=True)
    pid = process.pid
    while pid is not None and process.exitcode == 255 and _alive(pid):
        await anyio.sleep(_EXIT_POLL_SECONDS)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


# the class below takes the process worker's type (`process`: the pool's type) in Prefect's registry of worker
# types, in this process only; Prefect warns about that, and that is the point
warnings.filterwarnings("ignore", message="Type 'WarmProcessWorker'", category=UserWarning)


class WarmProcessWorker(ProcessWorker):
    """The process worker with forked runs and event wake-ups (module docstring)."""

    _description = "Process worker whose flow runs are forked from a warm parent, woken by Prefect's events."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fork_context = fork_context()
        self._listener: asyncio.Task[None] | None = None
        self._executors: FlowRunExecutorContext | None = None
        self.woken = 0  # runs asked for because an event said so (the benches and tests read it)

    async def __aenter__(self) -> WarmProcessWorker:
        # the warm parent first: its imports take a few seconds, while the worker meets the server
        await anyio.to_thread.run_sync(start_warm_parent)
        await super().__aenter__()
        client = self.client
        setattr(client, "read_deployment", read_once_per_submission(client.read_deployment))  # noqa: B010
        # one executor context for all runs, as Prefect's runner keeps one (its client, control channel and
        # cancellation observer); Prefect's process worker builds and tears one down per run, ~0.3 s each
        self._executors = await FlowRunExecutorContext().__aenter__()
        self._listener = asyncio.create_task(self._listen_for_runs())
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(BaseException):
                await self._listener
        try:
            await super().__aexit__(*exc_info)  # the runs finish (or are stopped) first
        finally:
            if self._executors is not None:
                await self._executors.__aexit__(*exc_info)
                self._executors = None

    async def _listen_for_runs(self) -> None:
        """Ask for work as soon as Prefect says a run of this pool is Scheduled; polling stays as the fallback."""
        from prefect.events.clients import get_events_subscriber
        from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter

        while True:
            since = prefect.types._datetime.now("UTC")
            wanted = EventFilter(
                event=EventNameFilter(name=["prefect.flow-run.Scheduled"]), occurred=EventOccurredFilter(since=since)
            )
            try:
                async with get_events_subscriber(filter=wanted) as subscriber:
                    async for event in subscriber:
                        if self._in_this_pool(event):
                            self.woken += 1
                            await self.get_and_submit_flow_runs()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the stream is down: polling goes on; listen again in a while
                self._logger.debug("event stream unavailable (%s); polling only, listening again in %s s", exc, 5)
                await anyio.sleep(_RELISTEN_SECONDS)

    async def _submit_run(self, flow_run: FlowRun) -> None:
        with submission():  # its two reads of the run's deployment are one request (`read_once_per_submission`)
            await super()._submit_run(flow_run)

    def _in_this_pool(self, event: Any) -> bool:
        pools = [r for r in event.related if r.get("prefect.resource.role") == "work-pool"]
        return not pools or any(r.get("prefect.resource.name") == self._work_pool_name for r in pools)

    async def run(
        self,
        flow_run: FlowRun,
        configuration: ProcessJobConfiguration,
        task_status: anyio.abc.TaskStatus[int] | None = None,
    ) -> ProcessWorkerResult:
        if task_status is None:
            task_status = anyio.TASK_STATUS_IGNORED
        if self._executors is None:
            raise RuntimeError("the worker runs flow runs only inside `async with worker`")
        ctx = self._executors
        starter = ForkStarter(
            context=self._fork_context,
            cwd=configuration.working_dir,
            env=configuration.env,
            control_channel=ctx.control_channel,
            related=related_objects(configuration, self._work_pool),
        )
        executor = ctx.create_executor(
            flow_run, starter, resolve_flow=load_flow_from_flow_run, propose_submitting=False
        )
        execution: FlowRunExecutionResult | None = None

        async def execute(*, task_status: anyio.abc.TaskStatus[ProcessHandle] = anyio.TASK_STATUS_IGNORED) -> None:
            nonlocal execution
            execution = await executor.submit(task_status=task_status)

        async with anyio.create_task_group() as group:
            handle = await group.start(execute)
            if handle.pid is None:
                raise RuntimeError("Flow run process has no PID")
            task_status.started(handle.pid)
        if execution is None or execution.status_code is None:
            raise RuntimeError("Failed to start flow run process.")
        return ProcessWorkerResult(status_code=execution.status_code, identifier=str(execution.handle.pid))


def serve(pool: str, limit: int | None, name: str | None) -> None:
    """Run the worker until SIGTERM or Ctrl-C (either ends it as Prefect's own `worker start` ends: the runs it
    started are stopped, and Prefect's crash detection records them)."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    worker = WarmProcessWorker(work_pool_name=pool, limit=limit, name=name)
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(worker.start)
