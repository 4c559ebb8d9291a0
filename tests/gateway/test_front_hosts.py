"""Issue 24 item 9 on the gateway: the front's host check stands before `/api`, `/prefect` and the websockets too,
and the engine's own address (OJA_DOSSIER_URL, here 127.0.0.1) still reaches them."""

from __future__ import annotations

import json
import socket
import urllib.parse

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.gateway.conftest import Front


@pytest.mark.parametrize("path", ["/api/health", "/prefect/", "/prefect/runs"])
def test_the_gateway_refuses_an_unknown_host(front: Front, path: str) -> None:
    answer = front.as_user("PRF-0061").get(path, headers={"Host": "evil.example"})
    assert answer.status_code == 400 and "Onbekend adres" in answer.text


def test_the_gateway_answers_its_own_host(front: Front) -> None:
    assert front.as_user("PRF-0061").get("/api/health").status_code == 200


def _socket_as(front: Front, host: str):
    """A websocket to the front through a connection of its own, sent to `host` (the URI names the Host header)."""
    port = urllib.parse.urlsplit(front.base_url).port
    headers = {"Origin": front.base_url, "Cookie": f"oja_sessie={front.session('PRF-0061')}"}
    sock = socket.create_connection(("127.0.0.1", port))
    uri = f"ws://{host}:{port}/api/events/out"
    return connect(uri, sock=sock, additional_headers=headers, subprotocols=["prefect"], open_timeout=10)  # type: ignore[list-item]


def test_a_websocket_to_an_unknown_host_is_refused_at_the_handshake(front: Front) -> None:
    with pytest.raises(InvalidStatus) as refused:
        _socket_as(front, "evil.example").close()
    assert refused.value.response.status_code == 403
    with _socket_as(front, "localhost") as live:  # a local name of the engine's still gets the stream
        live.send(json.dumps({"type": "auth", "token": None}))
        assert json.loads(live.recv(timeout=10)) == {"type": "auth_success"}
