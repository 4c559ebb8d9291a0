"""One flow run in a process forked from the worker's warm parent (`warm_parent.py`): the same run as
`python -m oja.entrypoints.engine` would make, without the imports.

The forked process gets the environment the process worker would have given a fresh process (the worker's own,
Prefect's settings, the run's id, its control channel), goes to the run's working directory, and runs
`oja.entrypoints.engine.main`. It ends as a fresh process would: Prefect's log and event queues drained (the
`atexit` handlers a normal interpreter exit runs; `multiprocessing` ends a child with `os._exit`), with the
engine's exit code.

A run is isolated as before: its own process, its own memory (copy-on-write from the parent, which never runs a
flow), its own database connections and API client (the parent opened none). A run that crashes, leaks or is
killed takes nothing with it but itself.

The processes are named so that `ps` and the benches tell them apart: `oja-warm` (the parent) and `oja-run`.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import sys
from collections.abc import Mapping
from typing import Any

PARENT_NAME = "oja-warm"
RUN_NAME = "oja-run"
_PR_SET_NAME = 15  # prctl(2): the thread's name, what /proc/<pid>/comm and `ps -o comm` show


def name_process(name: str) -> None:
    """Name this process for `ps` and /proc/<pid>/comm (Linux; elsewhere nothing happens)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)  # not find_library: that starts `ldconfig` per call
        libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    except OSError:  # pragma: no cover - no libc to ask
        pass


def run_forked(
    flow_run_id: str,
    env: dict[str, str],
    cwd: str | None,
    related: Mapping[str, Any] | None = None,
    checked_api_url: str | None = None,
) -> None:
    """The forked process's whole life: become the run's process, run it, end as a fresh interpreter ends.

    `related` (the run's flow, deployment and work pool) and `checked_api_url` (the address whose server
    version the worker checked) are what the worker knows already: the run need not ask the server again
    (`engine.remember_related`, `engine.check_server_version_once`)."""
    name_process(RUN_NAME)
    os.environ.clear()
    os.environ.update(env)
    if cwd:
        os.chdir(cwd)
    _settings_from_environment()
    from oja.entrypoints.engine import main

    try:
        code = main(["oja-run", flow_run_id], related=related, checked_api_url=checked_api_url)
    finally:
        atexit._run_exitfuncs()  # Prefect's log and event workers drain here, as at a normal exit
    sys.exit(code)


# the parent's environment when it imported Prefect (and Prefect read its settings from it)
PARENT_ENVIRONMENT = dict(os.environ)


def _settings(env: dict[str, str]) -> dict[str, str]:
    """Prefect's settings in an environment (`PREFECT__...` are a run's own values, read where they are used)."""
    return {k: v for k, v in env.items() if k.startswith("PREFECT_") and not k.startswith("PREFECT__")}


def _settings_from_environment() -> None:
    """Prefect read its settings in the parent, at import; read them again (~80 ms) only if this run's differ."""
    if _settings(dict(os.environ)) != _settings(PARENT_ENVIRONMENT):
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()
