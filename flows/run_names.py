"""Run names of the scheduled flows: what the run is, and the day it is for, in Europe/Amsterdam.

A scheduled run gets no parameters, so a name template such as `"monitoring {day}"` would read
`monitoring None`. These names take the day from the run's parameter when it has one (a sweep started
by hand for another day) and otherwise the run's scheduled day and time in Amsterdam (not the moment a
worker picked it up, which may be the minute before): `herinneringsronde 2026-11-25`. Codes only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pendulum
from prefect.runtime import flow_run

from models.schooldays import TZ


def dated_name(prefix: str, day: object, now: dt.datetime, *, with_time: bool = False) -> str:
    """`prefix YYYY-MM-DD` (and ` HH:MM` with_time), the day given or else the day of `now` in Amsterdam."""
    local = pendulum.instance(now).in_timezone(TZ)
    shown = str(day) if day not in (None, "") else local.date().isoformat()
    return f"{prefix} {shown} {local:%H:%M}" if with_time else f"{prefix} {shown}"


def _now() -> dt.datetime:
    return pendulum.now(TZ)


def _when() -> dt.datetime:
    """When the run is for: its scheduled start (a worker takes a run up to a minute early, so the moment it
    is named may still be the minute before), else now (outside a run)."""
    scheduled = flow_run.scheduled_start_time
    return scheduled if isinstance(scheduled, dt.datetime) else _now()


def dated_run_name(prefix: str, day_parameter: str | None = None, *, with_time: bool = False) -> Callable[[], str]:
    """A `flow_run_name` for a scheduled flow: `prefix` and the day the run is for (see `dated_name`)."""

    def name() -> str:
        parameters: Mapping[str, Any] = flow_run.parameters or {}
        day = parameters.get(day_parameter) if day_parameter else None
        return dated_name(prefix, day, _when(), with_time=with_time)

    return name
