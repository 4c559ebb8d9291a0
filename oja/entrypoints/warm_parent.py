"""What the warm parent of the engine's worker holds before any run: Prefect's flow engine and the engine's code.

The worker (`oja/entrypoints/worker.py`) starts one *fork server* (Python's `multiprocessing` forkserver) that
imports this module once, and then forks every flow run from it: a run starts with Prefect, SQLAlchemy, the
database drivers, the domain rules and every flow already imported, instead of a fresh Python that spends about
1.5 s on its imports before it does a 0.1 s step.

What is imported here must leave the process without threads, open connections or open files: a fork copies
the memory, not the threads, and a connection shared by two processes is a corrupted connection. The module
checks that at import (`assert_forkable`), so a change that breaks it breaks loudly in the tests, not in a run.

Only the fork server imports this module; the worker never does (it would rename the worker's process).
"""

from __future__ import annotations

import gc
import sqlite3  # noqa: F401 - the dialect imports the driver at its first connection
import threading

import prefect._internal.control_listener  # noqa: F401
import prefect.artifacts  # noqa: F401
import prefect.deployments.steps  # noqa: F401

# Prefect's run path: the engine, its client, results, logging to the API, events, the runner's control
# listener (what `python -m prefect.engine` imports before the flow loads)
import prefect.engine  # noqa: F401
import prefect.events  # noqa: F401
import prefect.flow_engine  # noqa: F401
import prefect.logging.handlers  # noqa: F401
import prefect.results  # noqa: F401
import prefect.task_engine  # noqa: F401
import prefect.utilities.visualization  # noqa: F401 - a task's call imports it: 30 ms of every run (issue 27)
import rich._emoji_codes  # noqa: F401 - the run's log lines through rich: 10 ms of every run
import sqlalchemy.dialects.sqlite  # noqa: F401
import sqlalchemy.orm

# the engine: every step's flow module, with the services, domain rules and tables they import
import flows.intake  # noqa: F401
import flows.monitoring  # noqa: F401
import flows.planning  # noqa: F401
import flows.referral  # noqa: F401
import flows.retention  # noqa: F401
import flows.review  # noqa: F401
import flows.sweep  # noqa: F401
import oja.entrypoints.cli  # noqa: F401 - the `oja` script's module: Python runs the worker's main script again
import oja.entrypoints.engine  # noqa: F401
import oja.entrypoints.warm_runs as warm_runs
import oja.entrypoints.worker  # noqa: F401 - in each forked run (multiprocessing's `prepare`); this keeps it cheap

try:  # PostgreSQL's driver, where it is installed (the lock file has it)
    import psycopg  # noqa: F401
    import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401
except ImportError:  # pragma: no cover - the lock file installs it
    pass


def compile_common_queries() -> None:
    """Run, once here, the reads every step makes (a case, its scope and status, its school's worklist, a
    professional), read-only and rolled back, and close every connection before the first fork.

    SQLAlchemy compiles a statement to SQL at its first execution in a process and keeps it in the engine's cache;
    a forked run inherits that cache. Without this each run compiled them anew: 60 ms, a seventh of a run's CPU
    (issue 27's profile of forked runs). No connection is left open: a run opens its own (`assert_forkable` tells
    why a connection must never be shared). A database not there yet (or down) only means each run compiles its
    own, as before."""
    from sqlmodel import col, select

    from models.lifecycle import CaseState
    from models.schooldays import today
    from models.tables import Case, Professional
    from oja.adapters.db import OjaSession, get_engine
    from oja.config import get_policy
    from oja.services.kernel import case_scope, load_actor, load_case
    from oja.services.reads import current_plan, episode_plan
    from oja.services.status import case_status

    engine = get_engine()
    try:
        with OjaSession(engine) as session:
            open_case = select(Case.ref).where(col(Case.state) != CaseState.CLOSED.value).limit(1)
            ref = session.exec(open_case).first()
            code = session.exec(select(Professional.code).limit(1)).first()
            if code is not None:
                load_actor(session, code)
            if ref is not None:
                case = load_case(session, ref, lock=False)
                case_scope(session, case)
                current_plan(session, case)
                episode_plan(session, case)
                case_status(session, case_ref=ref, today=today(), policy=get_policy())
            session.rollback()
    except Exception:  # noqa: BLE001, S110 - only a head start: a run compiles what is not here
        pass
    finally:
        engine.dispose()  # every connection closed: none crosses a fork


def assert_forkable() -> None:
    """No thread but the main one: a forked run would hold the thread's locks without the thread."""
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if others:
        raise RuntimeError(f"the warm parent started threads before forking: {others}")


oja.entrypoints.engine.reuse_tls_contexts()  # the TLS context every run's API clients share, made once here
# the tables' mappers configured here, once: SQLAlchemy does it at a process's first query, and a run spent a
# sixth of its CPU (80 ms) configuring them anew (issue 27's profile of forked runs)
sqlalchemy.orm.configure_mappers()
compile_common_queries()
assert_forkable()
warm_runs.name_process(warm_runs.PARENT_NAME)
# every object imported so far out of the garbage collector's reach: a forked run's collections would otherwise
# walk (and write to) all of them, copying the parent's pages into each run (copy-on-write undone)
gc.collect()
gc.freeze()
