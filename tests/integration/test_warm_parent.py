"""The worker's warm parent starts whatever the engine's folder is: its socket's path has at most 108 bytes
(found in CI: an engine folder under pytest's xdist temporary paths stopped the worker at its start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import os, sys
from oja.entrypoints import warm_runs
from oja.entrypoints.worker import fork_context, start_warm_parent

context = fork_context()
pid = start_warm_parent()
run = context.Process(target=warm_runs.name_process, args=("oja-test",))
run.start()
run.join(120)
print(pid, run.exitcode, os.stat(sys.argv[1]).st_mode & 0o777 if len(sys.argv) > 1 else "")
"""


def test_the_warm_parent_starts_with_an_engine_folder_deeper_than_a_socket_path_allows(tmp_path):
    deep = tmp_path / ("engine-folder-" * 8) / "tmp"
    deep.mkdir(parents=True)
    assert len(str(deep)) > 110
    env = {**os.environ, "TMPDIR": str(deep)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=180,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    parent, exitcode, _ = (result.stdout.split() + [""])[:3]
    assert int(parent) > 0 and exitcode == "0", result.stdout + result.stderr[-2000:]
