"""`oja login ...`: the operator gives a professional their way into the dossier (a password, then a TOTP
secret for their authenticator app), lifts a lock-out, ends their sessions; `oja dossier` serves the dossier."""

from __future__ import annotations

import datetime as dt

import typer

from models.errors import OjaError
from oja.adapters.db import unit_of_work
from oja.entrypoints.cli_output import console
from oja.entrypoints.cli_output import fail as _fail

login_app = typer.Typer(help="Logins to the dossier: passwords and second factors (TOTP).", no_args_is_help=True)


@login_app.command("password")
def password(
    code: str = typer.Argument(..., help="the professional, e.g. PRF-0001"),
    new_password: str = typer.Option(
        ..., "--password", prompt="Nieuw wachtwoord", hide_input=True, confirmation_prompt=True, help="asked for"
    ),
) -> None:
    """Set a professional's password (at least 12 characters); it ends their sessions and lifts a lock-out."""
    from oja.services.logins import close_sessions_of, set_password

    try:
        with unit_of_work() as session:
            set_password(session, code, new_password)
            ended = close_sessions_of(session, code.strip().upper())
    except OjaError as exc:
        _fail(exc)
    console.print(f"wachtwoord van {code.upper()} ingesteld; {ended} sessie(s) beëindigd")


@login_app.command("totp")
def totp(code: str = typer.Argument(..., help="the professional, e.g. PRF-0001")) -> None:
    """Enrol a second factor: prints a new TOTP secret and its otpauth:// address for the authenticator app
    (hand it over in person); the previous one stops working."""
    from oja.services.logins import enrol_totp, totp_uri

    try:
        with unit_of_work() as session:
            secret = enrol_totp(session, code)
    except OjaError as exc:
        _fail(exc)
    console.print(f"geheim voor de authenticator-app: [bold]{secret}[/bold]")
    console.print(f"of als adres (QR-code): {totp_uri(code.strip().upper(), secret)}")


@login_app.command("unlock")
def unlock(code: str = typer.Argument(..., help="the professional, e.g. PRF-0001")) -> None:
    """Lift a lock-out after too many failed attempts."""
    from oja.services.logins import unlock as unlock_login

    try:
        with unit_of_work() as session:
            unlock_login(session, code)
    except OjaError as exc:
        _fail(exc)
    console.print(f"{code.upper()} kan weer inloggen")


@login_app.command("logout")
def logout(code: str = typer.Argument(..., help="the professional, e.g. PRF-0001")) -> None:
    """End every session of a professional (a lost laptop, someone leaving)."""
    from oja.services.logins import close_sessions_of

    with unit_of_work() as session:
        ended = close_sessions_of(session, code.strip().upper())
    console.print(f"{ended} sessie(s) van {code.upper()} beëindigd")


@login_app.command("demo-code")
def demo_code() -> None:
    """The current code of the demo logins' shared TOTP secret (the demo only: its secret is public)."""
    import pyotp

    from oja.services.logins import DEMO_TOTP_SECRET

    totp_now = pyotp.TOTP(DEMO_TOTP_SECRET)
    left = 30 - int(dt.datetime.now(dt.UTC).timestamp()) % 30
    console.print(f"{totp_now.now()}  (nog {left} s geldig)")


@login_app.command("family-code")
def family_code(email: str = typer.Argument(..., help="the family login's e-mail address")) -> None:
    """The newest login code mailed to a family login, read from the local mail sink of `oja start` (the demo:
    with a real SMTP server the code is only in the person's own mailbox; only its hash is stored)."""
    import re
    from email import message_from_bytes, policy

    from oja.config import get_settings

    folder = get_settings().home / "mail"
    wanted = email.strip().lower()
    for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if wanted not in str(message.get("To", "")).lower():
            continue
        body = message.get_body(preferencelist=("plain",))
        found = re.search(r"Uw inlogcode is: ([0-9]{6})", body.get_content() if body else "")
        if found:
            console.print(found.group(1))
            return
    console.print(f"geen inlogcode voor {wanted} in {folder}: log eerst in met e-mailadres en wachtwoord")
    raise typer.Exit(1)


def serve_dossier(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(4201, help="port of the dossier"),
    workers: int = typer.Option(
        0, min=0, max=64, help="processes serving the port (0: one per core, at least 2); they share only the database"
    ),
) -> None:
    """Serve the dossier (`oja start` does this beside the Prefect UI), in several processes on the one port
    (`oja.entrypoints.dossier_server`). A TLS proxy's X-Forwarded-Proto and X-Forwarded-For are believed only from
    the addresses in FORWARDED_ALLOW_IPS (none when it is not set): the app applies the rule itself
    (`oja.dossier.front_guard`), so uvicorn's own, which trusts 127.0.0.1, is off."""
    from oja.entrypoints.dossier_server import serve

    serve(host, port, workers)
