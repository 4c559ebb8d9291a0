"""Sending the outbox: claimed batches, sent a few at a time on threads, each outcome recorded at once.

`dispatch` claims pending outbox messages (`oja.adapters.outbox.claim`), sends each through the sender and
marks it sent; a failure leaves it pending for the next attempt. `while_planning` sends on a thread of its
own while the caller decides the day's notices, so the first messages go out before the last are decided.

Stopping is asked for with a `threading.Event` the caller passes (a SIGTERM handler sets it): messages in
flight are finished and recorded, claimed ones not yet started are released at once for the next run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from models.reminders import still_holds
from models.schooldays import today as amsterdam_today
from models.tables import utcnow
from models.vocabulary import OutboxStatus
from notifications.messages import RenderedMessage
from oja.adapters import outbox
from oja.services.family_notices import FAMILY_ROLE, lapse_reason

if TYPE_CHECKING:  # not imported at run time: the sending seam pulls in Apprise
    from notifications.send import Sender

T = TypeVar("T")
STOPPED = "stopped"
LAPSED = "lapsed"
ERRORS_KEPT = 20  # a sweep's report keeps the first errors of its dispatch runs
LEASE = dt.timedelta(minutes=10)  # the defaults; deployed, they come from the settings (`Settings.dispatch_options`)
RETRY_AFTER = dt.timedelta(minutes=5)
CONCURRENCY = 4
SEND_MARGIN_SECONDS = 60.0  # a message is sent only while its claim holds at least this long (half a short lease)


@dataclasses.dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    undeliverable: int = 0
    stopped: int = 0  # released unsent: the process was asked to stop, or the batch's claim was running out
    lapsed: int = 0  # not sent: no longer true for its case's current state (`OutboxStatus.LAPSED`, the reason kept)
    errors: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def add(self, other: DispatchReport) -> None:
        """Count another run's outcome in this one (keeping the first `ERRORS_KEPT` errors)."""
        self.sent += other.sent
        self.failed += other.failed
        self.undeliverable += other.undeliverable
        self.stopped += other.stopped
        self.lapsed += other.lapsed
        self.errors += other.errors[: max(0, ERRORS_KEPT - len(self.errors))]


@dataclasses.dataclass(frozen=True)
class _Run:
    """What every message of one dispatch run is sent with."""

    engine: sa.Engine
    sender: Sender
    stop: threading.Event
    retry_after: dt.timedelta

    def deliver(self, message: outbox.Claimed, token: str, held_until: float) -> str | None:
        """Send one message and record the outcome at once, in the sending thread: None when sent.

        Not sent but released when the run is asked to stop, or when its claim could run out while sending
        (`held_until`, monotonic): a slow batch must not outlive its lease, or another run could claim the
        message and send it too. Released, the next run takes it at once.
        """
        if self.stop.is_set() or time.monotonic() > held_until:
            outbox.finish(self.engine, message.id, token, {"claimed_until": None})
            return STOPPED
        if self.lapsed(message, token):
            return LAPSED
        rendered = RenderedMessage(
            message.subject, message.text, message.html, f"oja.{message.sweep_date:%Y%m%d}.{message.id}"
        )
        try:
            self.sender.send(message.to_address, rendered, role=message.role)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the message pending
            error = f"outbox {message.id}: {exc}"
            if message.to_address and message.role == FAMILY_ROLE:  # the report goes to Prefect: never a family
                # member's address (issue 26); a professional's is a work address, named as before
                error = error.replace(message.to_address, "<adres>")
            error = error[:500]
            retry = {"last_error": error, "claimed_until": utcnow() + self.retry_after}
            outbox.finish(self.engine, message.id, token, retry)
            return error
        outbox.finish(
            self.engine, message.id, token, {"status": OutboxStatus.SENT.value, "sent_at": utcnow(), "last_error": None}
        )
        return None

    def lapsed(self, message: outbox.Claimed, token: str) -> bool:
        """Just before sending: does every notice the message carries still hold for what it is about now
        (`models.reminders.still_holds`)? If not, the message lapses, unsent, its reason recorded; the notices
        in it that still hold are released for the next sweep to send in a true message."""
        if message.role == FAMILY_ROLE:  # a family member's mail: asking their view, or the questions at closing
            why = lapse_reason(self.engine, message.id, today=amsterdam_today())
            if why is not None:
                outbox.lapse(self.engine, message.id, token, why, [])
            return why is not None
        notices = outbox.carried(self.engine, message.id)
        gone = [n for n in notices if not still_holds(n.kind, n.case_state, request_open=n.request_open)]
        if not gone:
            return False
        reason = "; ".join(f"{n.subject_ref} {n.kind}: geldt niet meer, {_now(n)}" for n in gone)
        release = [n.notice_id for n in notices if n not in gone]
        outbox.lapse(self.engine, message.id, token, reason, release)
        return True

    def deliverable(
        self, messages: Sequence[outbox.Claimed], token: str, report: DispatchReport
    ) -> list[outbox.Claimed]:
        """The messages that have somewhere to go; the others are marked undeliverable."""
        has_route = getattr(self.sender, "has_route", lambda role: False)
        out: list[outbox.Claimed] = []
        for message in messages:
            if message.to_address or has_route(message.role):
                out.append(message)
            else:
                nowhere = {"status": OutboxStatus.UNDELIVERABLE.value, "last_error": "no address for the recipient"}
                outbox.finish(self.engine, message.id, token, nowhere)
                report.undeliverable += 1
        return out


def _now(notice: outbox.Carried) -> str:
    """What the notice's subject is now, in the lapse's reason (codes only)."""
    if notice.subject_ref.startswith("VV-"):  # an erasure request's notice
        return "het verzoek is beslist"
    return f"de casus is nu {notice.case_state}" if notice.case_state else "de casus bestaat niet meer"


def _count(
    futures: Sequence[Future[str | None]], report: DispatchReport, progress: Callable[[int], None] | None
) -> int:
    """Wait for a batch's sends and count their outcomes; the number that failed."""
    failed = 0
    try:
        for future in as_completed(futures):
            error = future.result()
            if error is STOPPED:
                report.stopped += 1
            elif error is LAPSED:
                report.lapsed += 1
            elif error is None:
                report.sent += 1
                if progress:
                    progress(1)
            else:
                failed += 1
                report.failed += 1
                report.errors.append(error)
    except BaseException:
        for future in futures:  # stop what has not started; what runs finishes and records itself
            future.cancel()
        raise
    return failed


def dispatch(
    engine: sa.Engine,
    sender: Sender,
    *,
    stop: threading.Event | None = None,
    batch: int = 200,
    concurrency: int = CONCURRENCY,
    lease: dt.timedelta = LEASE,
    retry_after: dt.timedelta = RETRY_AFTER,
    progress: Callable[[int], None] | None = None,
) -> DispatchReport:
    """Send pending outbox messages until none are left, a batch sends nothing and fails (the channel is down), or
    `stop` is set.

    Messages of a batch go out `concurrency` at a time (an SMTP conversation costs
    tens of milliseconds); each is marked sent as soon as it is delivered.
    """
    report = DispatchReport()
    run = _Run(engine, sender, stop if stop is not None else threading.Event(), retry_after)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="oja-send") as pool:
        while not run.stop.is_set():
            claimed_at = time.monotonic()
            token, claimed = outbox.claim(engine, batch, lease)
            if not claimed:
                break
            held_until = claimed_at + lease.total_seconds() - min(lease.total_seconds() / 2, SEND_MARGIN_SECONDS)
            deliverable = run.deliverable(claimed, token, report)
            futures = [pool.submit(run.deliver, m, token, held_until) for m in deliverable]
            sent_before = report.sent
            failed = _count(futures, report, progress)
            if failed and report.sent == sent_before:
                # the channel is down: the rest waits for the next attempt. Not only when every message failed:
                # in a slow batch the last are released unsent (their claim could run out), and without a wait
                # before a retry the same messages were claimed again and again while the server was down
                break
    return report


def while_planning(
    plan: Callable[[], T],
    engine: sa.Engine,
    sender: Sender,
    *,
    stop: threading.Event | None = None,
    lease: dt.timedelta = LEASE,
    retry_after: dt.timedelta = RETRY_AFTER,
    concurrency: int = CONCURRENCY,
) -> tuple[T, DispatchReport]:
    """Run `plan` (deciding and queueing messages, in batches that commit) and dispatch meanwhile on a thread
    of its own, until `plan` has returned and what it queued is sent (or `stop` is set)."""
    stop = stop if stop is not None else threading.Event()
    planned = threading.Event()
    sent = DispatchReport()
    failure: list[BaseException] = []

    def sending() -> None:
        try:
            while True:
                last = planned.is_set()
                sent.add(
                    dispatch(engine, sender, stop=stop, lease=lease, retry_after=retry_after, concurrency=concurrency)
                )
                if last or stop.is_set():
                    return
                planned.wait(0.25)
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread below
            failure.append(exc)

    sender_thread = threading.Thread(target=sending, name="oja-dispatch", daemon=True)
    sender_thread.start()
    try:
        result = plan()
    finally:
        planned.set()
        sender_thread.join()
    if failure:
        raise failure[0]
    return result, sent
