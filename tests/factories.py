"""Test data made through the use cases, so that every test case has a real history and audit trail."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from models.identity import age_on, required_consent
from oja import services as sv
from oja.adapters.db import unit_of_work


def valid_bsn(i: int, *, base: int) -> str:
    """The `i`-th test BSN from `base` (steps of 100): the first number from there that passes the eleven-test."""
    n = base + i * 100
    while True:
        digits = f"{n:09d}"
        if (sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])) % 11 == 0:
            return digits
        n += 1


def active_case(
    engine: sa.Engine,
    *,
    school: str,
    coordinator: str,
    bsn: str,
    born: dt.date,
    today: dt.date,
    parents: tuple[str, ...] = (),
    worker: str | None = None,
    provider: str = "PRV-A",
    level: int = 2,
    names: tuple[str, str] = ("Test", "Leerling"),
    municipality: str = "GM0164",
) -> str:
    """A pupil with an active arrangement at `level`, consent as the pupil's age requires; returns the case ref."""
    with unit_of_work(engine) as s:
        pupil = sv.register_pupil(
            s,
            given_name=names[0],
            family_name=names[1],
            birth_date=born,
            bsn=bsn,
            school_code=school,
            municipality_code=municipality,
            parents=[sv.ParentSpec(p) for p in parents],
            today=today,
        )
        ref = sv.register_signal(
            s,
            pupil_ref=pupil,
            school_code=school,
            source="school",
            domains=["leren"],
            urgency="normaal",
            actor=coordinator,
            received_on=today,
            today=today,
            policy=sv.DEFAULT_POLICY,
        ).case_ref
        sv.triage(s, case_ref=ref, outcome="oja", level=level, actor=coordinator, today=today, policy=sv.DEFAULT_POLICY)
        sv.draft_plan(
            s,
            case_ref=ref,
            goals=[sv.GoalSpec("leren")],
            interventions=[sv.InterventionSpec(provider, 2, professional_code=worker)],
            regie_holder=coordinator,
            start_on=today,
            planned_end_on=today + dt.timedelta(weeks=20),
            actor=coordinator,
            today=today,
            policy=sv.DEFAULT_POLICY,
        )
        for party in sorted(required_consent(age_on(born, today), [f"ouder_{i + 1}" for i in range(len(parents))])):
            sv.record_consent(
                s, case_ref=ref, party=party, granted=True, actor=coordinator, recorded_on=today, today=today
            )
        sv.activate(s, case_ref=ref, actor=coordinator, today=today)
    return ref
