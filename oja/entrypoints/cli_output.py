"""What every `oja` command shares: the consoles, and how a refusal is told (the field and the rule, no traceback)."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from models.errors import InvalidInput, InvalidInputs
from oja.services.worklist import COLUMNS, WorklistRow, cells

console = Console()
err = Console(stderr=True)
PIPED_WIDTH = 1000  # output to a file or a pipe: no code cut off, no row wrapped (grep finds a whole line)


def fit_consoles() -> None:
    """Set the consoles' width for this command: COLUMNS when given, the terminal's, else `PIPED_WIDTH` (rich
    would cut a table to 80 columns in a pipe or a cron job's mail, and read COLUMNS only once, at import)."""
    columns = os.environ.get("COLUMNS", "")
    for one in (console, err):
        one.width = int(columns) if columns.isdigit() else None if one.is_terminal else PIPED_WIDTH  # type: ignore[assignment]


def fail(exc: Exception, code: int = 2) -> NoReturn:
    if isinstance(exc, InvalidInputs):
        for one in exc.errors:
            err.print(f"[red]fout[/red] in [bold]{one.field}[/bold]: {one.rule}")
    elif isinstance(exc, InvalidInput):
        err.print(f"[red]fout[/red] in [bold]{exc.field}[/bold]: {exc.rule}")
    else:
        err.print(f"[red]fout[/red]: {exc}")
    raise typer.Exit(code)


def parse_date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, "moet een datum zijn als JJJJ-MM-DD") from None


def print_worklist(school_code: str, day: dt.date, rows: Sequence[WorklistRow], *, as_json: bool = False) -> None:
    """A school's worklist (`oja case list`): a table, or JSON for a script. Codes only."""
    if as_json:
        data = {"school": school_code, "date": day.isoformat(), "cases": [row.as_dict() for row in rows]}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif not rows:
        console.print(f"Werklijst {school_code}, {day.isoformat()}: geen open casussen.")
    else:
        table = Table(*COLUMNS, title=f"Werklijst {school_code}, {day.isoformat()}: de dringendste eerst")
        for n, column in enumerate(table.columns):  # on a narrow screen codes fold, a reference and a date stay whole
            column.overflow = "fold"
            column.no_wrap = n in (0, 3)
        for row in rows:
            table.add_row(*cells(row, late="[bold red]te laat[/bold red]"))
        console.print(table)
