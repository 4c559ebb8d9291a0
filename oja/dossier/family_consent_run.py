"""The family's word on consent as a run of the consent step in Prefect (issue 26, 4): the same deployment the
professionals start (`04 Toestemming`), reached the way the gateway reaches Prefect (`gateway_proxy.Upstream`:
PREFECT_API_URL and the engine's secret).

The run's parameters are codes only: the case's reference, the party (also as actor), the word, and the id of the
family's request (`oja/services/family_consent.py`), which is what the step checks; its tags `gezin:<party>` and
`casus:<ref>`. The request's id is the run's idempotency key: sent twice, one run.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid
from typing import Any

import httpx

from oja.deployments import deployment_name
from oja.dossier.gateway_proxy import Upstream, upstream_from_environment

FLOW = "toestemming-vastleggen"
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
RETRY_WAITS = (0.2, 0.4, 0.8, 1.6, 3.2, None)  # Prefect busy (503): tried again after these waits, then given up


class PrefectUnreachable(Exception):
    """No run was made: Prefect was not configured, not reached, or refused (codes only in the message)."""


def upstream() -> Upstream | None:
    """Where Prefect is (a test points this at its own server)."""
    return upstream_from_environment()


def run_parameters(case_ref: str, party: str, granted: bool, token: str) -> dict[str, Any]:
    form = {"case_ref": case_ref, "party": party, "granted": granted, "actor": party, "family_request": token}
    return {"form": form}


def start_consent_run(case_ref: str, party: str, granted: bool, token: str) -> str:
    """Create the consent step's run for the family's request; its id. `PrefectUnreachable` when none was made."""
    target = upstream()
    if target is None:
        raise PrefectUnreachable("PREFECT_API_URL is not set")
    headers = {"Authorization": target.authorization} if target.secret else {}
    name = "/".join(urllib.parse.quote(part, safe="") for part in (FLOW, deployment_name(FLOW)))
    body = {
        "parameters": run_parameters(case_ref, party, granted, token),
        "tags": [f"gezin:{party}", f"casus:{case_ref}"],
        "idempotency_key": f"gezin-{token}",
        "state": {"type": "SCHEDULED", "name": "Scheduled"},
    }
    try:
        with httpx.Client(base_url=f"{target.url}/api", headers=headers, timeout=TIMEOUT) as client:
            found = _send(client, "GET", f"/deployments/name/{name}")
            if found.status_code != 200:
                raise PrefectUnreachable(f"deployment {FLOW}: HTTP {found.status_code}")
            csrf = _csrf_headers(client)
            made = _send(client, "POST", f"/deployments/{found.json()['id']}/create_flow_run", body, csrf)
            if made.status_code not in (200, 201):
                raise PrefectUnreachable(f"create_flow_run: HTTP {made.status_code}")
            return str(made.json()["id"])
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise PrefectUnreachable(type(exc).__name__) from None


def _csrf_headers(client: httpx.Client) -> dict[str, str]:
    """The headers of a CSRF token for one change: `oja start` runs Prefect with its CSRF protection on, as
    Prefect's own client asks for a token (none needed where the protection is off: 422)."""
    client_id = str(uuid.uuid4())
    answer = _send(client, "GET", f"/csrf-token?client={client_id}")
    if answer.status_code == 422:
        return {}
    if answer.status_code != 200:
        raise PrefectUnreachable(f"csrf-token: HTTP {answer.status_code}")
    return {"Prefect-Csrf-Token": str(answer.json()["token"]), "Prefect-Csrf-Client": client_id}


def _send(
    client: httpx.Client,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One request, sent again while Prefect answers 503 (busy: on SQLite "database is locked", nothing done) or
    drops the connection after such an answer, as the gateway does (`gateway_proxy`); safe, since a new run carries
    its idempotency key. Nobody listening (a refused connection) is not tried again."""
    for wait in RETRY_WAITS:
        try:
            response = client.request(method, path, json=body, headers=headers)
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            if wait is None:
                raise PrefectUnreachable(type(exc).__name__) from None
        else:
            if response.status_code != 503 or wait is None:
                return response
        time.sleep(wait)
    raise AssertionError("unreachable: the last wait is None")  # pragma: no cover
