"""The live streams through the gateway: a professional's browser subscribes to Prefect's events over a websocket,
with the engine's login and Prefect's own handshake (the gateway answers it, and talks to Prefect with its secret);
a role without events, another site's page and someone not logged in are refused at the handshake."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.gateway.conftest import Front


def _socket(front: Front, path: str, code: str | None, origin: str | None = None, prefect_protocol: bool = True):
    headers = {"Origin": origin or front.base_url}
    if code:
        headers["Cookie"] = f"oja_sessie={front.session(code)}"
    return connect(
        front.base_url.replace("http", "ws") + path,
        additional_headers=headers,
        subprotocols=["prefect"] if prefect_protocol else None,  # type: ignore[list-item]
        open_timeout=10,
    )


def _first_event(socket, timeout: float = 20) -> dict:
    while True:
        message = json.loads(socket.recv(timeout=timeout))
        if message.get("type") == "event":
            return message["event"]


def _live(**extra) -> dict:
    """A subscription as Prefect's own client makes it: from a minute ago, on into the future."""
    now = dt.datetime.now(dt.UTC)
    occurred = {"since": (now - dt.timedelta(minutes=1)).isoformat(), "until": (now + dt.timedelta(days=1)).isoformat()}
    return {"type": "filter", "filter": {"occurred": occurred, **extra}, "backfill": True}


def test_a_professional_follows_a_step_live_through_the_gateway(front: Front):
    with _socket(front, "/api/events/out", "PRF-0001") as socket:
        socket.send(json.dumps({"type": "auth", "token": None}))  # the UI's handshake: no Prefect password of its own
        assert json.loads(socket.recv(timeout=10)) == {"type": "auth_success"}
        socket.send(json.dumps(_live(event={"prefix": ["prefect.flow-run."]})))
        start = front.as_user("PRF-0001").post(
            f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run",
            json={"parameters": {"form": {"case_ref": "OJA-2026-000006", "outcome": "oja", "level": 2}}},
        )
        run = f"prefect.flow-run.{start.json()['id']}"
        seen = _first_event(socket)
        while seen["resource"]["prefect.resource.id"] != run:
            seen = _first_event(socket)
        assert seen["event"] == "prefect.flow-run.Scheduled"


def test_a_client_without_prefects_handshake_gets_the_stream_too(front: Front):
    with _socket(front, "/api/events/out", "PRF-0061", prefect_protocol=False) as socket:
        socket.send(json.dumps(_live()))
        front.as_user("PRF-0061").post(
            f"/api/deployments/{front.prefect.deployments['17 Herinneringsronde']}/create_flow_run", json={}
        )
        assert _first_event(socket)["event"]


@pytest.mark.parametrize(
    ("path", "code", "origin"),
    [
        ("/api/events/out", None, None),  # not logged in
        ("/api/events/out", "PRF-0041", None),  # a manager reads runs and artifacts, not events
        ("/api/logs/out", "PRF-0051", None),  # the privacy officer: nothing in Prefect
        ("/api/events/out", "PRF-0001", "http://evil.example"),  # another site's page, with the victim's cookie
        ("/api/events/in", "PRF-0061", None),  # writing events is the workers' (with the server's secret)
        ("/api/work_pools/oja/workers/connect", "PRF-0061", None),
    ],
    ids=["anonymous", "manager", "privacy-officer", "other-site", "events-in", "worker-socket"],
)
def test_a_websocket_the_person_may_not_open_is_refused_at_the_handshake(front: Front, path, code, origin):
    mark = front.log_mark()
    with pytest.raises(InvalidStatus) as refused:
        _socket(front, path, code, origin).close()
    assert refused.value.response.status_code == 403
    if code in ("PRF-0041", "PRF-0051"):
        [line] = front.log_since(mark)
        assert (line.professional_code, line.action, line.outcome) == (code, "prefect_gelezen", "geweigerd")
