"""A graceful stop for the sending: SIGTERM (a worker or `oja start` stopping) asks it to stop, not kill it.

While `graceful_stop()` is active, SIGTERM sets the event it yields: the dispatch finishes the message it
is sending, releases the rest unsent (the next run sends them, exactly once) and returns. The signal
then goes on to what handled it before (Prefect's engine, or the default: the process ends), so the run
still ends as stopped. Outside the main thread (no signal can be handled there) the event is only set
by the caller.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

log = logging.getLogger("oja.stop")


@contextlib.contextmanager
def graceful_stop() -> Iterator[threading.Event]:
    """The stop signal for a dispatch, set by SIGTERM while the block runs; the signal is passed on after it."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)
        if stop.is_set():
            log.warning("SIGTERM: het versturen is netjes gestopt; wat nog wachtte gaat met de volgende run mee")
            if callable(previous):
                previous(signal.SIGTERM, None)
            elif previous != signal.SIG_IGN:
                os.kill(os.getpid(), signal.SIGTERM)  # the default: the process ends, as it was asked to
