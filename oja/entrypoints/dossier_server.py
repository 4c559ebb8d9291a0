"""The front's server: `oja.dossier.app:create_app` under uvicorn, in one process or several on one port.

Several processes (uvicorn's workers, `Multiprocess`): Python runs one thread at a time per process and a page is
mostly Python, so one process uses one core however many the machine has (issue 27). The supervisor binds the
port and hands the socket to each worker; the kernel gives each new connection to one of them. They share only
what is in the database (sessions, the login throttle, the access log) and, for Prefect on SQLite, the Submit turn's
file lock (`oja.dossier.submit_turn`). None of them sets anything up at start: `oja start` (or `oja migrate`)
migrates the database before, and the Prefect secret is read, never made, here.
"""

from __future__ import annotations

import os
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "oja.dossier.app:create_app"


def default_workers() -> int:
    """One process per core, at least two (a slow page then holds up no other process's pages)."""
    return max(2, os.cpu_count() or 1)


class FrontConfig(uvicorn.Config):
    """uvicorn's configuration, with a listening socket that says it is TCP. uvicorn's own (`bind_socket`, used
    with workers) leaves its protocol at 0, and asyncio switches Nagle's algorithm off (TCP_NODELAY) only for a
    connection whose socket says TCP: every request on a kept-alive connection after the first then waited ~40 ms
    for the browser's delayed ACK (uvicorn issue 3149; measured: /gezond 1.8 ms in one process, 48 ms in two)."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
            return sock
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp


def serve(host: str, port: int, workers: int) -> None:
    """Serve the front on `host`:`port` in `workers` processes (0: `default_workers()`); returns when stopped."""
    config = FrontConfig(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers or default_workers(),
        proxy_headers=False,  # see oja.dossier.front_guard: FORWARDED_ALLOW_IPS, else nobody
        server_header=False,
        log_level="info",
    )
    if config.workers == 1:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            sys.exit(3)  # uvicorn's STARTUP_FAILURE: the port taken, the app not importable
        return
    Multiprocess(config, sockets=[config.bind_socket()]).run()
