"""`oja group ...`: group arrangements (one professional of a provider, a number of places, for one school or
any), created and changed by an operator (`oja/services/reference.py`). Codes and numbers only."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.table import Table
from sqlmodel import Session

from models.errors import InvalidInput, OjaError
from models.tables import GroupArrangement
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from oja.entrypoints.cli_output import console, err, fail

group_app = typer.Typer(help="Group arrangements: their provider, professional and places.", no_args_is_help=True)

# the service's field, as the option that sets it
OPTIONS = {
    "code": "CODE",
    "provider_code": "--provider",
    "professional_code": "--professional",
    "school_code": "--school",
    "capacity": "--places",
    "hours_per_week": "--hours",
}


def _refuse(problems: list[InvalidInput]) -> NoReturn:
    """Every wrong option at once, named as typed, in Dutch; nothing was written."""
    err.print(f"[red]niets vastgelegd[/red]: {len(problems)} fout(en)")
    for p in problems:
        err.print(f"  fout in [bold]{OPTIONS.get(p.field, p.field)}[/bold]: {p.rule}")
    raise typer.Exit(2)


@group_app.command("set")
def group_set(
    code: str = typer.Argument(..., help="the group's code, e.g. GRP-VK-1 (new or existing)"),
    provider: str | None = typer.Option(None, help="the provider's code (required for a new group)"),
    professional: str | None = typer.Option(None, help="the professional's code, of that provider (required new)"),
    places: int | None = typer.Option(None, help="the number of places, 2 to 30 (required for a new group)"),
    hours: float | None = typer.Option(None, help="the professional's hours a week for the whole group (required new)"),
    school: str | None = typer.Option(None, help="the one school it serves (left out: as it was; new: any school)"),
    any_school: bool = typer.Option(False, "--any-school", help="serve pupils of any school (clears --school)"),
) -> None:
    """Create a group arrangement, or change one: options left out keep their value. Every wrong option is named
    at once, and nothing is written then."""
    try:
        with unit_of_work() as session:
            known = session.get(GroupArrangement, code.strip().upper())
            missing = [
                InvalidInput(field, "is verplicht voor een nieuwe groep")
                for field, value in (
                    ("provider_code", provider),
                    ("professional_code", professional),
                    ("capacity", places),
                    ("hours_per_week", hours),
                )
                if known is None and value is None
            ]
            if missing:
                _refuse(missing)
            prov = provider or (known.provider_code if known else "")
            prof = professional or (known.professional_code if known else "")
            capacity = places if places is not None else (known.capacity if known else 0)
            per_week = hours if hours is not None else (known.hours_per_week if known else 0.0)
            school_code = None if any_school else (school if school is not None else known and known.school_code)
            problems = sv.check_group(
                session, code=code, provider_code=prov, professional_code=prof, capacity=capacity,
                hours_per_week=per_week, school_code=school_code or None,
            )  # fmt: skip
            if problems:
                _refuse(problems)
            sv.upsert_group(
                session, code=code, provider_code=prov, professional_code=prof, capacity=capacity,
                hours_per_week=per_week, school_code=school_code or None,
            )  # fmt: skip
    except OjaError as exc:
        fail(exc)
    where = f"school {school_code.strip().upper()}" if school_code else "elke school"
    console.print(
        f"{'gewijzigd' if known else 'aangemaakt'}: {code.strip().upper()}, aanbieder {prov.strip().upper()} "
        f"({prof.strip().upper()}), {capacity} plaatsen, {per_week:g} uur per week, {where}"
    )


@group_app.command("list")
def group_list() -> None:
    """Every group arrangement: its provider, professional, school, places (taken and in all), hours a week."""
    with Session(get_engine()) as session:
        groups = sv.list_groups(session)
    table = Table("groep", "aanbieder", "professional", "school", "plaatsen bezet", "plaatsen", "uur per week")
    for g in groups:
        table.add_row(
            g.code, g.provider_code, g.professional_code, g.school_code or "elke", str(g.taken), str(g.capacity),
            f"{g.hours_per_week:g}",
        )  # fmt: skip
    console.print(table if groups else "nog geen groepsarrangementen")
