"""The one Submit at a time that a Prefect server on SQLite takes (`gateway_proxy.submits_at_once`), across every
process of the front: `oja dossier` runs several (uvicorn's workers), and each one's own turn (an asyncio
semaphore) would let each of them send one. The turn is an exclusive `flock` on a file in OJA_HOME, the same file
for every process of the engine on this machine; the kernel lets it go when a process dies holding it.

Waiting is polling (every 10 ms, without blocking the event loop, and a cancelled wait holds nothing): a Submit to
Prefect takes tens to hundreds of milliseconds, so the poll costs nothing noticeable, and a waiting request cannot
leave a thread behind that takes the lock after its request has gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

from oja.config import get_settings

LOCK_FILE = "gateway-submit.lock"
POLL = 0.01


def lock_path() -> Path:
    return get_settings().home.resolve() / LOCK_FILE


@contextlib.asynccontextmanager
async def machine_turn(path: Path | None = None) -> AsyncIterator[None]:
    """Hold the turn of every process on this machine (the file at `path`, by default OJA_HOME's) while inside."""
    path = path or lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(POLL)
        yield
    finally:
        os.close(descriptor)  # closing the file lets its lock go
