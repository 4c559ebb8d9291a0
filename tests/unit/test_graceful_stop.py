"""SIGTERM asks the deployed sending to stop gracefully, then goes on to whoever handled it before."""

from __future__ import annotations

import os
import signal
import threading

from oja.adapters.signals import graceful_stop


def test_sigterm_sets_the_stop_and_is_passed_on_after_the_block():
    seen: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with graceful_stop() as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.wait(5) and seen == []  # the sending finishes first: not yet passed on
        assert seen == [signal.SIGTERM]  # then Prefect's (here: the test's) handler hears it
        assert signal.getsignal(signal.SIGTERM) is not None and seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, before)


def test_without_a_signal_nothing_is_passed_on_and_the_handler_is_restored():
    seen: list[int] = []

    def handler(signum, frame):
        seen.append(signum)

    before = signal.signal(signal.SIGTERM, handler)
    try:
        with graceful_stop() as stop:
            assert signal.getsignal(signal.SIGTERM) is not handler
        assert not stop.is_set() and seen == []
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, before)


def test_outside_the_main_thread_the_stop_is_the_callers_alone():
    box = {}

    def run():
        with graceful_stop() as stop:
            box["handler"] = signal.getsignal(signal.SIGTERM)
            box["stop"] = stop

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert box["handler"] is before and not box["stop"].is_set()
