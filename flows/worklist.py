"""Worklists in the Prefect UI: each school's open cases as a keyed markdown artifact (`werklijst-<school>`).

The daily sweep refreshes every school with open cases; a lifecycle step refreshes its own school with
`refresh_worklists([school_code])`, which reads that one school only. Codes only, never personal data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from models.schooldays import today as amsterdam_today
from oja.adapters.db import get_engine
from oja.config import get_policy
from oja.services.worklist import WorklistRow, open_schools, worklist_markdown, worklists

KEY_PREFIX = "werklijst-"


def worklist_key(code: str) -> str:
    """The artifact key of a school's worklist. Prefect's keys take lowercase letters, digits and dashes only:
    anything else in the code becomes a dash."""
    slug = re.sub(r"[^a-z0-9]+", "-", code.strip().lower()).strip("-")
    if not slug:
        raise ValueError(f"no artifact key for school code {code!r}")
    return KEY_PREFIX + slug


def schools_with_open_cases() -> list[str]:
    """The codes of the schools that have at least one open case."""
    with Session(get_engine()) as session:
        return open_schools(session)


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
    keys = [publish_worklist(code, lists[code], today) for code in codes]
    get_run_logger().info("%s: werklijsten bijgewerkt voor %d school(en): %s", today, len(keys), ", ".join(codes))
    return keys


def publish_worklist(code: str, rows: Sequence[WorklistRow], today: dt.date) -> str:
    """Publish one school's worklist as its keyed markdown artifact; the key."""
    late = sum(row.overdue for row in rows)
    create_markdown_artifact(
        key=worklist_key(code),
        markdown=worklist_markdown(code, rows, today),
        description=f"Werklijst {code} op {today.isoformat()}: {len(rows)} open casussen, {late} te laat",
    )
    return worklist_key(code)
