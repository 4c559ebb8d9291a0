"""`oja pupil ...`: a pupil's personal details (name, BSN, birth date, parents) are entered, found, listed and
exported here, in the engine's database: never in Prefect."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from models.errors import OjaError
from models.schooldays import today as amsterdam_today
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.entrypoints.cli_output import console, err
from oja.entrypoints.cli_output import fail as _fail
from oja.entrypoints.cli_output import parse_date as _parse_date
from oja.services.pupil_import import MAX_BYTES, PupilImportRefused, import_pupils, parse_pupils_csv
from oja.services.pupil_reads import export_for, find_pupil, list_pupils

pupil_app = typer.Typer(help="Pupils: personal details stay in the engine's database.", no_args_is_help=True)


@pupil_app.command("add")
def pupil_add(
    given_name: str = typer.Option(..., help="given name"),
    family_name: str = typer.Option(..., help="family name"),
    birth_date: str = typer.Option(..., help="YYYY-MM-DD"),
    school: str = typer.Option(..., help="school code"),
    municipality: str = typer.Option(..., help="municipality of residence, e.g. GM0164"),
    bsn: str = typer.Option("", help="BSN (9 digits)"),
    onderwijsnummer: str = typer.Option("", help="onderwijsnummer, for a pupil without a BSN"),
    parent: list[str] = typer.Option([], help="a parent with authority (at most two)"),
) -> None:
    """Register a pupil; prints the pseudonymous reference to use in the Prefect forms."""
    try:
        with unit_of_work() as session:
            ref = sv.register_pupil(
                session,
                given_name=given_name,
                family_name=family_name,
                birth_date=_parse_date(birth_date, "birth_date"),
                school_code=school.upper(),
                municipality_code=municipality.upper(),
                bsn=bsn or None,
                onderwijsnummer=onderwijsnummer or None,
                parents=[sv.ParentSpec(p) for p in parent],
                today=amsterdam_today(),
            )
    except OjaError as exc:
        _fail(exc)
    console.print(ref)


@pupil_app.command("import")
def pupil_import(
    file: Path = typer.Argument(..., exists=True, readable=True, help="CSV file with a header row"),
) -> None:
    """Import pupils from a CSV file, all or nothing: one bad row and nothing is written.

    A school administration's export will do: `;` or `,`, UTF-8 or Windows-1252, English or Dutch column names
    (roepnaam, tussenvoegsel, achternaam, geboortedatum, brin, gemeente, bsn, onderwijsnummer, ouder 1, ouder 2).
    Every error is printed, with its line in the file."""
    with file.open("rb") as f:
        parsed = parse_pupils_csv(f.read(MAX_BYTES + 1))
    try:
        with unit_of_work() as session:
            refs = import_pupils(session, parsed, today=amsterdam_today())
    except PupilImportRefused as exc:
        for problem in exc.problems:
            err.print(f"[red]fout[/red] {escape(str(problem))}", soft_wrap=True)
        err.print("niets geïmporteerd")
        raise typer.Exit(2) from None
    except OjaError as exc:
        err.print("niets geïmporteerd")
        _fail(exc)
    console.print(f"imported {len(refs)} pupils:")
    for row, ref in zip(parsed.rows, refs, strict=True):
        console.print(f"regel {row.line}: {ref}")


DOOR_HELP = "who runs this: the code of a registered professional (or OJA_DOOR); each pupil shown is logged"


def _door() -> str:
    option: str = typer.Option("", "--door", envvar="OJA_DOOR", help=DOOR_HELP, show_envvar=True)
    return option


@pupil_app.command("find")
def pupil_find(
    bsn: str = typer.Option("", help="BSN"),
    onderwijsnummer: str = typer.Option("", help="onderwijsnummer"),
    door: str = _door(),
) -> None:
    """Look up a pupil's reference by BSN or onderwijsnummer (logged in the access log, with who asked)."""
    try:
        with unit_of_work() as session:
            pupil = find_pupil(session, door=door, bsn=bsn, onderwijsnummer=onderwijsnummer)
            ref = pupil.ref if pupil else None
    except OjaError as exc:
        _fail(exc)
    if ref is None:
        err.print("geen leerling met dat nummer")
        raise typer.Exit(1)
    console.print(ref)


@pupil_app.command("list")
def pupil_list(school: str = typer.Option("", help="only this school"), door: str = _door()) -> None:
    """Pupils with their references (personal data: for the operator's screen only; every pupil shown is logged)."""
    table = Table("reference", "name", "school", "born")
    try:
        with unit_of_work() as session:
            for p in list_pupils(session, door=door, school=school):
                born = p.birth_date.isoformat() if p.birth_date else f"vernietigd {p.destroyed_on}"
                table.add_row(p.ref, f"{p.given_name} {p.family_name}", p.school_code, born)
    except OjaError as exc:
        _fail(exc)
    console.print(table)


@pupil_app.command("export")
def pupil_export(
    pupil_ref: str = typer.Argument(..., help="e.g. LL-000123"),
    out: Path = typer.Option(..., help="the JSON file to write (it holds personal data: hand it over securely)"),
    door: str = _door(),
) -> None:
    """Subject access (AVG art. 15): everything held about one pupil, written to a file for the parents (logged)."""
    import json

    try:
        with unit_of_work() as session:
            data = export_for(session, door=door, pupil_ref=pupil_ref)
    except OjaError as exc:
        _fail(exc)
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    console.print(f"{len(data['cases'])} case(s) of {data['pupil']['ref']} written to {out}")
