"""`oja school closure ...`: a school's own closing days, entered and imported by an operator
(`oja/services/calendar.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.table import Table
from sqlmodel import Session

from models.errors import OjaError
from oja.adapters.db import get_engine, unit_of_work
from oja.entrypoints.cli_output import console, err, fail, parse_date

if TYPE_CHECKING:
    from oja.services.calendar import ClosureResult

school_app = typer.Typer(help="Schools: their own closing days (study days, ...).", no_args_is_help=True)
closure_app = typer.Typer(
    help="A school's own closing days, on top of the national rule and the region's holidays.", no_args_is_help=True
)
school_app.add_typer(closure_app, name="closure")


def _closure_report(result: ClosureResult) -> None:
    console.print(f"{result.added} closing day(s) added, {result.known} already known")
    for m in result.moved:
        console.print(f"  {m.case_ref}: {m.deadline} {m.old.isoformat()} -> {m.new.isoformat()} (next school day)")
    if not result.moved:
        console.print("  no planned review or deadline fell on these days")


def _closure_fail(exc: OjaError) -> NoReturn:
    from oja.services.calendar import ClosuresInvalid

    if isinstance(exc, ClosuresInvalid):
        err.print(f"[red]niets vastgelegd[/red]: {len(exc.problems)} fout(en)")
        for line in exc.lines():
            err.print(f"  {line}")
        raise typer.Exit(2)
    fail(exc)


@closure_app.command("add")
def closure_add(
    school: str = typer.Option(..., help="school code, e.g. 10HV"),
    date: list[str] = typer.Option(..., help="a closing day, YYYY-MM-DD (repeat the option for more days)"),
    kind: str = typer.Option(
        "studiedag", help="studiedag, goede_vrijdag, vrijdag_na_hemelvaart, bevrijdingsdag, anders"
    ),
) -> None:
    """Close a school on one or more days: reviews and deadlines on them move to its next school day."""
    from oja.services import calendar

    try:
        with unit_of_work() as session:
            rows = [(f"--date {d}" if len(date) > 1 else "", school, d, kind) for d in date]
            result = calendar.add_closures(session, calendar.validate_closures(session, rows))
    except OjaError as exc:
        _closure_fail(exc)
    _closure_report(result)


@closure_app.command("import")
def closure_import(
    file: Path = typer.Argument(..., exists=True, readable=True, help="a .csv (school,datum,soort) or .toml file"),
) -> None:
    """Import closing days from a file, all or nothing: every bad line is named and nothing is written."""
    from oja.services import calendar

    try:
        with unit_of_work() as session:
            closures = calendar.validate_closures(session, calendar.read_closures_file(file))
            result = calendar.add_closures(session, closures)
    except OjaError as exc:
        _closure_fail(exc)
    _closure_report(result)


@closure_app.command("list")
def closure_list(school: str = typer.Option("", help="only this school")) -> None:
    """The closing days entered per school."""
    from oja.services import calendar

    with Session(get_engine()) as session:
        rows = calendar.list_closures(session, school.strip().upper() or None)
    table = Table("school", "datum", "dag", "soort")
    for r in rows:
        table.add_row(r.school_code, r.day.isoformat(), r.day.strftime("%a"), r.kind)
    console.print(table if rows else "no closing days entered")


@closure_app.command("remove")
def closure_remove(
    school: str = typer.Option(..., help="school code"), date: str = typer.Option(..., help="YYYY-MM-DD")
) -> None:
    """Take a closing day back (deadlines already moved stay where they are)."""
    from oja.services import calendar

    try:
        with unit_of_work() as session:
            calendar.remove_closure(session, school, parse_date(date, "date"))
    except OjaError as exc:
        fail(exc)
    console.print(f"{school.upper()} is open again on {date}")
