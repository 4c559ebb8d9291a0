"""An ASGI application served by a real uvicorn server in a thread, for tests that talk to it over HTTP."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import uvicorn


@contextlib.contextmanager
def serving(app: Any, port: int, *, name: str, **options: Any) -> Iterator[uvicorn.Server]:
    """Serve `app` on 127.0.0.1:`port` as `oja dossier` does (no proxy rule of uvicorn's, no
    server header, the test's own logging), from when it listens until the block ends; `options` go to uvicorn."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,  # the test's handler, not uvicorn's console configuration
        proxy_headers=False,  # as `oja dossier`: the app believes the proxies of FORWARDED_ALLOW_IPS itself
        server_header=False,
        lifespan="off",
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"{name}-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the {name}'s uvicorn server did not start")
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class QuietJSONHandler(BaseHTTPRequestHandler):
    """A stand-in HTTP server's handler (a stand-in Prefect): answers JSON, logs nothing."""

    def answer(self, status: int, value: Any) -> None:
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass
