"""`oja`: the operator's command line. Personal details are entered here, never in Prefect."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import Progress
from rich.table import Table
from sqlmodel import Session, col, select

from models.errors import InvalidInput, OjaError
from models.schooldays import today as amsterdam_today
from models.tables import AuditRecord, GroupArrangement, Municipality, Professional, Provider, School
from oja import services as sv
from oja.adapters.db import get_engine
from oja.config import get_policy, get_settings
from oja.entrypoints.cli_calendar import school_app
from oja.entrypoints.cli_forms import forms_app, worklists_app
from oja.entrypoints.cli_groups import group_app
from oja.entrypoints.cli_logins import login_app, serve_dossier
from oja.entrypoints.cli_output import console, fit_consoles, print_worklist
from oja.entrypoints.cli_output import fail as _fail
from oja.entrypoints.cli_output import parse_date as _parse_date
from oja.entrypoints.cli_pupils import pupil_app
from oja.services.worklist import worklist

if TYPE_CHECKING:
    from oja.services.report import Period

app = typer.Typer(help="OJA engine: start it, load demo data, migrate, enter pupils.", no_args_is_help=True)
case_app = typer.Typer(help="Cases.", no_args_is_help=True)
app.add_typer(pupil_app, name="pupil")
app.add_typer(case_app, name="case")
app.add_typer(school_app, name="school")
app.add_typer(group_app, name="group")
app.add_typer(forms_app, name="forms")
app.add_typer(worklists_app, name="worklists")
app.add_typer(login_app, name="login")
app.command("dossier")(serve_dossier)


@app.command("worker")
def worker(
    pool: str = typer.Option("oja", "--pool", help="the work pool (the engine's is `oja`)"),
    limit: int = typer.Option(4, "--limit", min=1, help="at most this many runs at once"),
    name: str | None = typer.Option(None, "--name", help="the worker's name in the Prefect UI"),
) -> None:
    """Prefect's process worker for the engine, each run forked from a warm parent (oja/entrypoints/worker.py)."""
    from oja.entrypoints.worker import serve

    serve(pool, limit, name)


@app.callback()
def _prefect_secret() -> None:
    """OJA engine: start it, load demo data, migrate, enter pupils."""
    from oja.adapters.prefect_secret import use_secret

    fit_consoles()
    use_secret(get_settings().home.resolve())  # a command that talks to Prefect on this machine sends its secret


@app.command("prefect-env")
def prefect_env(
    port: int = typer.Option(4200, help="port of the Prefect server (as oja start --port)"),
    prefect_host: str = typer.Option("127.0.0.1", help="its address (as oja start --prefect-host)"),
) -> None:
    """Print the settings for the Prefect CLI on this machine, e.g. `eval "$(.venv/bin/oja prefect-env)"`, then
    `prefect deployment ls`: the server's address and its secret (an operator's, on the server only)."""
    import shlex

    from oja.adapters.prefect_secret import read_secret, secret_path

    home = get_settings().home.resolve()
    secret = read_secret(home)
    if not secret:
        _fail(
            InvalidInput(
                "PREFECT_API_AUTH_STRING", f"geen geheim gevonden: start de engine eerst ({secret_path(home)})"
            )
        )
    print(f"export PREFECT_API_URL={shlex.quote(f'http://{prefect_host}:{port}/api')}")
    print(f"export PREFECT_API_AUTH_STRING={shlex.quote(secret)}")


@app.command()
def start(
    host: str = typer.Option("127.0.0.1", help="address of the engine's front: the dossier and the Prefect UI"),
    port: int = typer.Option(4200, help="port of the Prefect server itself (internal: never expose it)"),
    prefect_host: str = typer.Option(
        "127.0.0.1", help="address of the Prefect server: loopback, or a private address for remote workers"
    ),
    mail_port: int = typer.Option(8025, help="port of the local mail sink (when no SMTP is configured)"),
    production: bool = typer.Option(
        False, help="no demo data, never as root; needs PostgreSQL and SMTP; Prefect on loopback or a private address"
    ),
    workers: int = typer.Option(
        1, min=0, max=16, help="workers on the work pool (0: none here; `oja worker` on other machines, or a bench)"
    ),
    runs_per_worker: int = typer.Option(8, min=1, max=32, help="runs a worker runs at once (a forked process each)"),
    dossier_port: int = typer.Option(4201, help="port of the front: the dossier, /prefect/ (UI) and /api/, one login"),
    dossier_workers: int = typer.Option(
        0, min=0, max=64, help="processes serving the front (0: one per core, at least 2)"
    ),
) -> None:
    """Start everything: database, (demo data,) Prefect server, deployments, workers, and the front: the dossier
    and, behind its login, the Prefect UI and API."""
    from oja.entrypoints.local import start as start_local

    try:
        get_policy()
        start_local(
            get_settings(),
            host=host,
            port=port,
            mail_port=mail_port,
            console=console,
            production=production,
            workers=workers,
            runs_per_worker=runs_per_worker,
            dossier_port=dossier_port,
            prefect_host=prefect_host,
            dossier_workers=dossier_workers,
        )
    except (OjaError, RuntimeError) as exc:
        _fail(exc)


@app.command()
def demo() -> None:
    """Migrate the database and load the demo region (idempotent)."""
    from oja.adapters import migrate as migrations
    from oja.entrypoints.demo import PUPILS, load_demo

    try:
        migrations.upgrade()
        with Progress(console=console) as progress:
            task = progress.add_task("demo region", total=len(PUPILS))
            counts = load_demo(
                get_engine(), amsterdam_today(), policy=get_policy(), progress=lambda _: progress.advance(task)
            )
            progress.update(task, completed=len(PUPILS))
    except OjaError as exc:
        _fail(exc)
    table = Table("state", "cases", title="cases per state")
    for state, n in sorted(counts.items()):
        table.add_row(state, str(n))
    console.print(table)


@app.command()
def migrate(
    action: str = typer.Argument("upgrade", help="upgrade, downgrade or current"),
    revision: str = typer.Option("", help="target revision (default: head for upgrade, base for downgrade)"),
) -> None:
    """Create or upgrade the engine's database schema (SQLite or PostgreSQL, same migrations)."""
    from alembic import command

    from oja.adapters import migrate as migrations

    if action == "upgrade":
        migrations.upgrade(revision=revision or "head")
    elif action == "downgrade":
        migrations.downgrade(revision=revision or "base")
    elif action == "current":
        command.current(migrations.alembic_config(), verbose=False)
    else:
        _fail(InvalidInput("action", "moet één van deze zijn: upgrade, downgrade, current"))
    console.print(f"database: {action} done")


@case_app.command("show")
def case_show(case_ref: str = typer.Argument(..., help="e.g. OJA-2026-000001")) -> None:
    """A case in codes: state, level, dates, counts, and its audit trail."""
    try:
        with Session(get_engine()) as session:
            summary = sv.case_summary(session, case_ref)
            trail = session.exec(
                select(AuditRecord).where(AuditRecord.case_ref == summary["case_ref"]).order_by(col(AuditRecord.id))
            ).all()
    except OjaError as exc:
        _fail(exc)
    table = Table("field", "value", title=summary["case_ref"])
    for key, value in summary.items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)
    audit = Table("when (UTC)", "who", "action", "from", "to", "why", title="audit trail")
    for r in trail:
        audit.add_row(
            r.at.strftime("%Y-%m-%d %H:%M"), r.actor, r.action, r.from_state or "", r.to_state, r.reason or ""
        )
    console.print(audit)


@case_app.command("list")
def case_list(
    school: str = typer.Option(..., help="the school's code"),
    date: str = typer.Option("", help="the day, YYYY-MM-DD (default today): what is overdue then"),
    as_json: bool = typer.Option(False, "--json", help="JSON, for a script"),
) -> None:
    """A school's open cases, most urgent first: the next deadline, what it is, the next step (codes only)."""
    try:
        day = _parse_date(date, "--date") if date else amsterdam_today()
        with Session(get_engine()) as session:
            rows = worklist(session, school_code=school, today=day, policy=get_policy())
    except OjaError as exc:
        if isinstance(exc, InvalidInput) and exc.field == "school_code":
            _fail(InvalidInput("--school", exc.rule), code=1)
        _fail(exc)
    print_worklist(school.strip().upper(), day, rows, as_json=as_json)


@app.command()
def reference() -> None:
    """Codes of municipalities, schools, providers, professionals and group arrangements, for the forms."""
    with Session(get_engine()) as session:
        for title, model, cols in (
            ("municipalities", Municipality, ("code", "name")),
            ("schools", School, ("code", "name", "holiday_region", "municipality_code")),
            ("providers", Provider, ("code", "name")),
            (
                "professionals",
                Professional,
                ("code", "name", "role", "school_code", "provider_code", "municipality_code"),
            ),
            (
                "group arrangements",
                GroupArrangement,
                ("code", "provider_code", "professional_code", "school_code", "capacity", "hours_per_week"),
            ),
        ):
            table = Table(*cols, title=title)
            for row in session.exec(select(model)):
                table.add_row(*("" if getattr(row, c) is None else str(getattr(row, c)) for c in cols))
            console.print(table)


def _period(value: str, field: str) -> Period:
    from oja.services.report import Period

    try:
        start, end = (dt.date.fromisoformat(part) for part in value.split(":"))
    except ValueError:
        raise InvalidInput(field, "moet een periode zijn als JJJJ-MM-DD:JJJJ-MM-DD") from None
    if end < start:
        raise InvalidInput(field, "het einde van de periode mag niet voor het begin liggen")
    return Period(start, end)


@app.command()
def report(
    out: Path = typer.Option(Path("evaluatie.html"), help="the HTML file to write"),
    before: str = typer.Option("", help="the period before, YYYY-MM-DD:YYYY-MM-DD"),
    after: str = typer.Option("", help="the period after, YYYY-MM-DD:YYYY-MM-DD"),
) -> None:
    """Write the pilot evaluation report (two periods compared, with charts) to an HTML file."""
    from oja.services.report import default_periods, render_report

    policy = get_policy()
    today = amsterdam_today()
    try:
        default_before, default_after = default_periods(today, policy.evaluation_split_date)
        b = _period(before, "before") if before else default_before
        a = _period(after, "after") if after else default_after
        with Session(get_engine()) as session:
            html = render_report(session, b, a, rate=policy.hourly_rate_eur, today=today)
    except OjaError as exc:
        _fail(exc)
    out.write_text(html, encoding="utf-8")
    console.print(f"report written to {out}")


@app.command()
def alerts() -> None:
    """Install the automations that tell the operators (OJA_OPERATOR_URLS) about a late or silent sweep."""
    from oja.adapters.alerts import install_alerts

    try:
        automations = install_alerts(get_settings())
    except OjaError as exc:
        _fail(exc)
    if not automations:
        console.print("nothing installed: set OJA_OPERATOR_URLS and deploy first (prefect deploy --all)")
        raise typer.Exit(1)
    for automation in automations:
        console.print(f"automation '{automation.name}' installed ({len(automation.actions)} channel(s))")


@app.command()
def sweep(
    date: str = typer.Option("", help="the sweep day, YYYY-MM-DD (default today)"),
    send: bool = typer.Option(True, help="send the queued messages too"),
) -> None:
    """Run the daily sweep once, without Prefect (what the scheduled deployment runs).

    Without an SMTP setting the mails are written to $OJA_HOME/mail as .eml files, as `oja start` does."""
    from notifications.send import FolderSender
    from oja.adapters.messages import message_options
    from oja.adapters.notify import build_sender
    from oja.services import sweep as sweeping
    from oja.services.dispatch import dispatch

    settings = get_settings()
    try:
        day = _parse_date(date, "date") if date else amsterdam_today()
        report = sweeping.plan_notices(
            get_engine(),
            day=day,
            policy=get_policy(),
            **message_options(settings),
        )
        console.print(f"{day}: {report.notices} new notices, {report.messages} messages queued")
        if send:
            local = not (settings.smtp_url or settings.smtp_secret_block)
            folder = settings.home.resolve() / "mail"
            sender = FolderSender(folder, mail_from=settings.mail_from) if local else build_sender(settings)
            try:
                sent = dispatch(get_engine(), sender, **settings.dispatch_options)
            finally:
                sender.close()
            console.print(f"sent {sent.sent}, failed {sent.failed}, undeliverable {sent.undeliverable}")
            if local:
                console.print(
                    f"no SMTP configured (OJA_SMTP_URL): {sent.sent} mail(s) written to {folder}", soft_wrap=True
                )
            if sent.failed:
                raise typer.Exit(1)
    except OjaError as exc:
        _fail(exc)


if __name__ == "__main__":
    app()
