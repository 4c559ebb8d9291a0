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


HOLDS = """
import os, sys
from oja.entrypoints import warm_runs
from oja.entrypoints.worker import fork_context, start_warm_parent


def count_cases():
    from sqlmodel import func, select

    from models.tables import Case
    from oja.adapters.db import get_engine, unit_of_work

    if not get_engine()._compiled_cache:  # the SQL the warm parent compiled, before this run's first query
        sys.exit(6)
    with unit_of_work() as session:
        sys.exit(0 if session.exec(select(func.count()).select_from(Case)).one() > 0 else 7)


if __name__ == "__main__":  # a forked run imports this file again (multiprocessing's `prepare`): no more
    context = fork_context()
    pid = start_warm_parent()
    run = context.Process(target=count_cases)
    run.start()
    run.join(120)
    database = os.path.realpath(sys.argv[1])
    held = []  # looked at once a run has forked: the parent has done all it does before forking
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(database):
            held.append(target)
    print(pid, run.exitcode, ",".join(held) or "-")
"""


def test_the_warm_parent_compiles_the_common_reads_and_keeps_no_connection_to_the_database(tmp_path):
    """The warm parent reads the engine's database once (so a run inherits compiled SQL) and closes it before any
    fork: a connection shared by the parent and its runs would be a corrupted one. A forked run then reads on a
    connection of its own."""
    home = tmp_path / "home"
    database = home / "oja.db"
    env = {**os.environ, "OJA_HOME": str(home), "OJA_DATABASE_URL": f"sqlite:///{database}"}
    env.pop("PREFECT_API_URL", None)
    oja = str(Path(sys.executable).parent / "oja")
    subprocess.run([oja, "demo"], env=env, check=True, capture_output=True, timeout=180)
    script = tmp_path / "holds.py"  # a file: a forked run finds `count_cases` in it, not in a `-c` string
    script.write_text(HOLDS)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    result = subprocess.run(
        [sys.executable, str(script), str(database)], env=env, capture_output=True, text=True, timeout=180,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    parent, exitcode, held = result.stdout.split()
    assert int(parent) > 0
    assert held == "-", f"the warm parent holds the database open: {held}"
    assert exitcode == "0", result.stderr[-2000:]
