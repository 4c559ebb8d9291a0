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
import logging
import os
import re
import ssl
import sys
from collections.abc import Iterator
from typing import Any
from uuid import UUID

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


def main(argv: list[str]) -> int:
    from prefect._internal.control_listener import configure_from_env
    from prefect.engine import handle_engine_signals

    flow_run_id = UUID(argv[1] if len(argv) > 1 else os.environ["PREFECT__FLOW_RUN_ID"])
    configure_from_env()  # before any flow code is loaded, as Prefect's own entry point does
    quiet_routine_lines()
    run_without_suspension_watch()
    reuse_tls_contexts()
    with handle_engine_signals(flow_run_id):
        from prefect.flow_engine import load_flow, load_flow_run, run_flow
        from prefect.logging.loggers import flow_run_logger

        flow_run = load_flow_run(flow_run_id=flow_run_id)
        logger = flow_run_logger(flow_run=flow_run)
        try:
            flow = load_flow(flow_run)
        except Exception:
            logger.error("De flow kon niet worden geladen", exc_info=True)
            raise
        # Prefect's own entry point passes this adapter too; run_flow's annotation is narrower than its use
        state = run_flow(flow, flow_run=flow_run, error_logger=logger, return_type="state")  # type: ignore[arg-type]
    return 0 if getattr(state, "is_final", lambda: True)() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
