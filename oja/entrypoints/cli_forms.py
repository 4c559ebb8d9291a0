"""`oja forms publish`: the forms in the Prefect UI offer the known codes as choices
(`oja/adapters/form_choices.py`). Run it after every change of reference data. `oja worklists publish`: every
school's worklist on the Artifacts page (`oja start` runs it)."""

from __future__ import annotations

from typing import NoReturn

import typer

from oja.entrypoints.cli_output import console, err

forms_app = typer.Typer(help="De formulieren in de Prefect UI.", no_args_is_help=True)
worklists_app = typer.Typer(help="De werklijsten in de Prefect UI (Artifacts).", no_args_is_help=True)


@worklists_app.command("publish")
def publish_worklists() -> None:
    """Zet de werklijst van elke school op de Prefect-server (Artifacts, `werklijst-<school>`), in één flow run.

    `oja start` draait het; de dagelijkse sweep ververst ze daarna. Alleen codes, geen persoonsgegevens."""
    from prefect.settings import PREFECT_API_URL

    from flows.worklist import publish_all_worklists

    if not PREFECT_API_URL.value():
        _stop("PREFECT_API_URL is niet gezet: zet het adres van de Prefect-API, bijvoorbeeld http://127.0.0.1:4200/api")
    keys = publish_all_worklists()
    console.print(f"{len(keys)} werklijst(en) gepubliceerd")


@forms_app.command("publish")
def publish() -> None:
    """Zet de bekende codes als keuzes met een label in de formulieren op de Prefect-server.

    Scholen, aanbieders, professionals en groepen, in de formulieren van elke deployment op de server van
    PREFECT_API_URL. Draai het na elke wijziging van de referentiegegevens; zonder wijziging verandert het niets.
    """
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL
    from sqlalchemy.exc import OperationalError

    from oja.adapters.db import get_engine
    from oja.adapters.form_choices import publish_choices

    api_url = PREFECT_API_URL.value()
    if not api_url:
        _stop("PREFECT_API_URL is niet gezet: zet het adres van de Prefect-API, bijvoorbeeld http://127.0.0.1:4200/api")
    try:
        with get_client(sync_client=True) as client:
            problem = client.api_healthcheck()
            if problem is not None:
                raise problem
            updated = publish_choices(get_engine(), client)
    except httpx.HTTPStatusError as exc:
        hint = " (klopt PREFECT_API_AUTH_STRING?)" if exc.response.status_code in (401, 403) else ""
        _stop(f"de Prefect-server op {api_url} weigerde: HTTP {exc.response.status_code}{hint}")
    except httpx.HTTPError as exc:
        _stop(f"de Prefect-server op {api_url} is niet bereikbaar ({exc.__class__.__name__}: {exc})")
    except OperationalError as exc:
        _stop(f"de database van de engine (OJA_DATABASE_URL) kon niet gelezen worden, is hij gemigreerd? ({exc.orig})")
    if updated:
        console.print(f"{updated} formulier(en) ververst: de bekende codes staan erin als keuzes")
    else:
        console.print("geen formulier gewijzigd: de keuzes waren al actueel (of er zijn nog geen deployments)")


def _stop(message: str) -> NoReturn:
    err.print(f"[red]fout[/red]: {message}")
    raise typer.Exit(1)
