"""Worklists in the Prefect UI: each school's open cases as a keyed markdown artifact (`werklijst-<school>`).

The start (`oja worklists publish`, one flow run) and the daily sweep (one task run) publish every school's,
an empty one too, so that each school has its list on the Artifacts page; a lifecycle step refreshes its own school
after its run is Completed (`publish_when_completed`: the person's result does not wait on it). Codes only, never
personal data. Each case's
next step shows as its deployment is named (`06 Evaluatie vastleggen`), a link to that step's form with the case
filled in (`oja.adapters.step_links`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from prefect import Flow, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import ArtifactCreate
from prefect.client.schemas.objects import FlowRun, State
from prefect.runtime import flow_run as current_run
from prefect.utilities.context import get_task_and_flow_run_ids
from sqlmodel import Session

from flows.run_client import run_client
from models.schooldays import today as amsterdam_today
from oja.adapters.db import get_engine
from oja.adapters.step_links import deployment_ids, form_url, ui_url
from oja.config import get_policy
from oja.services.worklist import WorklistRow, all_schools, worklist_markdown, worklists

KEY_PREFIX = "werklijst-"


def worklist_key(code: str) -> str:
    """The artifact key of a school's worklist. Prefect's keys take lowercase letters, digits and dashes only:
    anything else in the code becomes a dash."""
    slug = re.sub(r"[^a-z0-9]+", "-", code.strip().lower()).strip("-")
    if not slug:
        raise ValueError(f"no artifact key for school code {code!r}")
    return KEY_PREFIX + slug


def every_school() -> list[str]:
    """The codes of every school: each has a worklist on the Artifacts page, an empty one too."""
    with Session(get_engine()) as session:
        return all_schools(session)


@task(name="werklijsten-bijwerken", cache_policy=NO_CACHE)
def refresh_worklists(school_codes: Iterable[str], day: dt.date | None = None) -> list[str]:
    """Publish the worklist of each school as its keyed artifact, in this one task run; the keys published.

    The lists are read first, in one database session, and published after (no transaction is held open
    while Prefect's API is called). An unknown school fails the run, naming the field and the school."""
    today = day or amsterdam_today()
    policy = get_policy()
    codes = list(dict.fromkeys(code.strip().upper() for code in school_codes))
    with Session(get_engine()) as session:
        lists = worklists(session, school_codes=codes, today=today, policy=policy)  # a few queries for all
    keys = publish_worklists({code: lists[code] for code in codes}, today)
    get_run_logger().info("%s: werklijsten bijgewerkt voor %d school(en): %s", today, len(keys), ", ".join(codes))
    return keys


# a step's school worklist, kept until its run is Completed (flow run id -> the list and the deployment ids its
# links go to): a person's result does not wait on it (`publish_when_completed`, `publish_pending`)
_PENDING: dict[str, tuple[str, Sequence[WorklistRow], dt.date, Mapping[str, UUID] | None]] = {}


def publish_when_completed(
    code: str, rows: Sequence[WorklistRow], today: dt.date, ids: Mapping[str, UUID] | None = None
) -> None:
    """Publish this school's worklist once the current run's state is final (the run's `on_completion` hook,
    `publish_pending`); outside a run, at once. `ids`: the deployments of the rows' next steps, when the step read
    them already for its own result (the hook then asks the Prefect server nothing but to keep the artifact)."""
    run_id = current_run.get_id()
    if run_id is None:
        publish_worklist(code, rows, today, ids)
    else:
        _PENDING[str(run_id)] = (code, rows, today, ids)


def publish_pending(flow: Flow[..., Any], flow_run: FlowRun, state: State) -> None:  # noqa: ARG001 - Prefect's hook
    """The on-completion hook of every step: the worklist its run kept back, published now that the person's
    run shows Completed (a refusal keeps nothing back: nothing changed)."""
    pending = _PENDING.pop(str(flow_run.id), None)
    if pending is not None:
        publish_worklist(*pending)


def publish_worklist(
    code: str, rows: Sequence[WorklistRow], today: dt.date, ids: Mapping[str, UUID] | None = None
) -> str:
    """Publish one school's worklist as its keyed markdown artifact; the key."""
    return publish_worklists({code: rows}, today, ids)[0]


def publish_worklists(
    lists: Mapping[str, Sequence[WorklistRow]], today: dt.date, ids: Mapping[str, UUID] | None = None
) -> list[str]:
    """Publish each school's worklist as its keyed markdown artifact of the current run, over one API client
    (Prefect's `create_markdown_artifact` opens a client of its own for every artifact); the keys. The links go to
    the deployments in `ids` if given (read by the caller), else to those looked up here."""
    task_run_id, flow_run_id = get_task_and_flow_run_ids()
    with run_client() as client:
        links = _step_links([row for rows in lists.values() for row in rows], client, ids)
        return [_publish(client, code, rows, today, links, task_run_id, flow_run_id) for code, rows in lists.items()]


def _step_links(
    rows: Sequence[WorklistRow], client: SyncPrefectClient | None = None, ids: Mapping[str, UUID] | None = None
) -> dict[str, str]:
    """Each case's next step: a link to its deployment's form with the case reference filled in (no actor: the
    gateway fills in who follows it). A step without a deployment, or no UI address: no link, the name only."""
    ui = ui_url()
    if not rows or not ui:
        return {}
    if ids is None:
        ids = deployment_ids({row.next_step for row in rows}, client)
    return {
        row.case_ref: form_url(ui, ids[row.next_step], {"case_ref": row.case_ref})
        for row in rows
        if row.next_step in ids
    }


def _publish(
    client: SyncPrefectClient,
    code: str,
    rows: Sequence[WorklistRow],
    today: dt.date,
    links: Mapping[str, str],
    *run_ids: UUID | None,
) -> str:
    late = sum(row.overdue for row in rows)
    task_run_id, flow_run_id = run_ids
    client.create_artifact(
        ArtifactCreate(
            type="markdown",
            key=worklist_key(code),
            data=worklist_markdown(code, rows, today, links),
            description=f"Werklijst {code} op {today.isoformat()}: {len(rows)} open casussen, {late} te laat",
            task_run_id=task_run_id,
            flow_run_id=flow_run_id,
        )
    )
    return worklist_key(code)


@flow(name="werklijsten-publiceren")
def publish_all_worklists(day: dt.date | None = None) -> list[str]:
    """Every school's worklist, in one flow run with one task run (`oja worklists publish`, run by `oja start`)."""
    return refresh_worklists(every_school(), day)
