"""What every `oja` command shares: the consoles, and how a refusal is told (the field and the rule, no traceback)."""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

import typer
from rich.console import Console

from models.errors import InvalidInput

console = Console()
err = Console(stderr=True)


def fail(exc: Exception) -> NoReturn:
    if isinstance(exc, InvalidInput):
        err.print(f"[red]error[/red] in [bold]{exc.field}[/bold]: {exc.rule}")
    else:
        err.print(f"[red]error[/red]: {exc}")
    raise typer.Exit(2)


def parse_date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, "a date as YYYY-MM-DD") from None
