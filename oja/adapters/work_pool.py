"""The process work pool the engine's runs go to (`oja`), with a base job template that takes no code from a run.

Prefect's process pool lets a deployment or a run set `command`, `env` and `working_dir`: a run created with
`job_variables={"command": "sh -c ..."}` would start that shell on a worker. The engine's template fixes the
command (`python -m oja.entrypoints.engine`, the flow-run process of `oja/entrypoints/engine.py`), passes no
environment of the run's own (a run process has the worker's), and lets a run set nothing but the name and labels
Prefect itself gives it; any other job variable is refused by the server (`additionalProperties: false`).
"""

from __future__ import annotations

import copy
import json
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

WORK_POOL = "oja"
ENGINE_COMMAND = "python -m oja.entrypoints.engine"  # `python`: the engine's venv, first on the workers' PATH
OVERRIDABLE = ("name", "labels")  # set by Prefect for every run; nothing that runs code


def base_job_template() -> dict[str, Any]:
    """Prefect's process template with the command and environment fixed and only `OVERRIDABLE` left to a run."""
    from prefect.workers.process import ProcessWorker

    template = copy.deepcopy(ProcessWorker.get_default_base_job_template())
    properties = template["variables"]["properties"]
    template["variables"]["properties"] = {k: v for k, v in properties.items() if k in OVERRIDABLE}
    template["variables"]["additionalProperties"] = False
    template["job_configuration"].update(command=ENGINE_COMMAND, env={}, working_dir=None, stream_output=True)
    return template


def ensure_work_pool(prefect: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    """Create the pool with the engine's template, or put the template on the pool that is there (an older
        start's, which let a run override everything). `prefect(*args, check=...)` runs the Prefect CLI against the
    server (`check=False`: a failure is returned, not raised)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "base-job-template.json"
        path.write_text(json.dumps(base_job_template()), encoding="utf-8")
        if prefect("work-pool", "inspect", WORK_POOL, check=False).returncode == 0:
            prefect("work-pool", "update", WORK_POOL, "--base-job-template", str(path))
        else:
            prefect("work-pool", "create", WORK_POOL, "--type", "process", "--base-job-template", str(path))
