"""The daily sweep on a real database and a real SMTP server on localhost, with frozen days."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.reminders import NoticeKind
from models.tables import Case
from models.tables_outbox import Notice, Outbox
from models.vocabulary import DigestKind, OutboxStatus
from notifications.render import render
from notifications.send import AppriseSender
from oja import services as sv
from oja.adapters import migrate
from oja.adapters.db import get_engine, unit_of_work
from oja.config import Policy
from oja.services import dispatch, sweep
from tests.factories import active_case, valid_bsn

POLICY = Policy()
SETUP_DAY = dt.date(2026, 11, 23)  # a Monday
REVIEW_DUE = dt.date(2027, 1, 4)  # the first school day after the Christmas break (region noord)
PUPIL_NAMES = ("Roos", "Bakhuizen")


def _region(url: str, cases: int = 1, *, coordinator_email: str = "zc@school.example") -> dict:
    """A school in region noord with one coordinator, one youth care worker, one team lead, and active cases."""
    migrate.upgrade(url)
    engine = get_engine(url)
    with unit_of_work(engine) as s:
        sv.upsert_municipality(s, code="GM0164", name="Hengelo")
        sv.upsert_school(s, code="30AA", name="Noorderlicht", holiday_region="noord", municipality_code="GM0164")
        sv.upsert_provider(s, code="PRV-A", name="Aanbieder A")
        sv.upsert_professional(
            s,
            code="PRF-ZC",
            name="Zorgcoördinator",
            role="zorgcoordinator",
            school_code="30AA",
            email=coordinator_email,
        )
        sv.upsert_professional(
            s,
            code="PRF-JH",
            name="Jeugdhulp",
            role="jeugdhulpverlener",
            provider_code="PRV-A",
            email="jh@provider.example",
        )
        sv.upsert_professional(s, code="PRF-TL", name="Teamleider", role="teamleider", email="tl@school.example")
    refs = []
    for i in range(cases):
        ref = active_case(
            engine,
            school="30AA",
            coordinator="PRF-ZC",
            worker="PRF-JH",
            bsn=_bsn(i),
            born=dt.date(2016, 2, 3),
            today=SETUP_DAY,
            parents=("Ouder",),
            names=(PUPIL_NAMES[0], f"{PUPIL_NAMES[1]}{i}"),
        )
        with unit_of_work(engine) as s:
            case = s.exec(select(Case).where(Case.ref == ref)).one()
            case.next_review_on = REVIEW_DUE
            s.add(case)
        refs.append(ref)
    return {"engine": engine, "refs": refs}


def _bsn(i: int) -> str:
    return valid_bsn(i, base=100000000)


def _sweep(engine, day, sender):
    planned = sweep.plan_notices(
        engine, day=day, policy=POLICY, render=render, case_url="https://oja.example/{case_ref}"
    )
    sent = dispatch.dispatch(engine, sender)
    return planned, sent


@pytest.fixture
def sender(smtp_server):
    return AppriseSender(f"mailto://127.0.0.1:{smtp_server.port}?from=oja@example.org")


def _received(smtp_server) -> list[tuple[str, str]]:
    return [(rcpt, m.subject) for m in smtp_server.messages for rcpt in m.rcpt_tos]


def test_the_right_reminders_go_out_on_the_right_school_days_across_the_christmas_break(tmp_path, smtp_server, sender):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}")
    engine = region["engine"]
    sent_on: dict[dt.date, list[tuple[str, str]]] = defaultdict(list)
    day = dt.date(2026, 12, 7)
    while day <= dt.date(2027, 1, 15):
        before = len(smtp_server.messages)
        _sweep(engine, day, sender)
        for m in smtp_server.messages[before:]:
            for rcpt in m.rcpt_tos:
                sent_on[day].append((rcpt, m.digest_kind))
        day += dt.timedelta(days=1)

    with Session(engine) as s:
        notices = {(n.sweep_date, n.kind, n.recipient_code) for n in s.exec(select(Notice))}
    assert notices == {
        # Monday 14 December: 5 school days before (15-18 December and 4 January), and the weekly overview
        (dt.date(2026, 12, 14), NoticeKind.REVIEW_REMINDER, "PRF-ZC"),
        (dt.date(2026, 12, 14), NoticeKind.REVIEW_REMINDER, "PRF-JH"),
        # Friday 18 December: 1 school day before, across the holiday and the weekend
        (dt.date(2026, 12, 18), NoticeKind.REVIEW_REMINDER, "PRF-ZC"),
        (dt.date(2026, 12, 18), NoticeKind.REVIEW_REMINDER, "PRF-JH"),
        # Monday 4 January: due today (not repeated in that week's overview: one mail lists a deadline once)
        (dt.date(2027, 1, 4), NoticeKind.REVIEW_DUE, "PRF-ZC"),
        (dt.date(2027, 1, 4), NoticeKind.REVIEW_DUE, "PRF-JH"),
        # Monday 11 January: 5 school days overdue, to the team lead
        (dt.date(2027, 1, 11), NoticeKind.REVIEW_OVERDUE, "PRF-TL"),
    }
    assert sorted(sent_on) == [dt.date(2026, 12, 14), dt.date(2026, 12, 18), dt.date(2027, 1, 4), dt.date(2027, 1, 11)]
    # one message per recipient; on Mondays the review is in it once, as its reminder, not again in the overview
    for monday in (dt.date(2026, 12, 14), dt.date(2027, 1, 4)):
        assert sorted(sent_on[monday]) == [
            ("jh@provider.example", DigestKind.DAILY),
            ("zc@school.example", DigestKind.DAILY),
        ]
    assert sent_on[dt.date(2027, 1, 11)] == [("tl@school.example", DigestKind.DAILY)]
    # nothing on holidays and weekends, nothing twice
    assert not any(d.weekday() >= 5 or dt.date(2026, 12, 19) <= d <= dt.date(2027, 1, 3) for d in sent_on)


def test_a_coordinator_with_thirty_cases_gets_one_mail_listing_them_all(tmp_path, smtp_server, sender):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}", cases=30)
    planned, sent = _sweep(region["engine"], dt.date(2027, 1, 4), sender)
    to_coordinator = [m for m in smtp_server.messages if "zc@school.example" in m.rcpt_tos]
    assert len(to_coordinator) == 1
    body = to_coordinator[0].text
    assert all(ref in body for ref in region["refs"])
    assert planned.notices == 30 * 2  # coordinator and worker per case (due today: not again in the overview)


def test_a_rerun_of_the_same_day_sends_nothing_twice(tmp_path, smtp_server, sender):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}", cases=3)
    first, _ = _sweep(region["engine"], dt.date(2026, 12, 14), sender)
    count = len(smtp_server.messages)
    again, sent = _sweep(region["engine"], dt.date(2026, 12, 14), sender)
    later, _ = _sweep(region["engine"], dt.date(2026, 12, 15), sender)  # same stage, next day
    assert first.messages == 2 and count == 2  # the coordinator's (with the weekly overview), the worker's
    assert again.notices == 0 and again.messages == 0 and sent.sent == 0
    assert later.notices == 0 and len(smtp_server.messages) == count


def test_nothing_is_lost_while_the_mail_server_is_down(tmp_path, smtp_server, sender):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}", cases=2)
    engine = region["engine"]
    smtp_server.stop()
    planned, report = _sweep(engine, dt.date(2026, 12, 18), sender)
    assert planned.messages == 2 and report.sent == 0 and report.failed >= 1 and report.errors
    with Session(engine) as s:
        assert {o.status for o in s.exec(select(Outbox))} == {OutboxStatus.PENDING.value}
    smtp_server.start()
    # the retry waits for its back-off; a later dispatch (next run) picks the messages up
    with unit_of_work(engine) as s:
        for o in s.exec(select(Outbox)):
            o.claimed_until = None
            s.add(o)
    report = dispatch.dispatch(engine, sender)
    assert report.sent == 2 and report.failed == 0
    assert sorted(r for r, _ in _received(smtp_server)) == ["jh@provider.example", "zc@school.example"]
    assert dispatch.dispatch(engine, sender).sent == 0


def test_no_message_carries_personal_data(tmp_path, smtp_server, sender):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}", cases=3)
    for day in (dt.date(2026, 12, 14), dt.date(2027, 1, 4), dt.date(2027, 1, 11)):
        _sweep(region["engine"], day, sender)
    assert len(smtp_server.messages) >= 5
    for m in smtp_server.messages:
        # decoded: the parts travel base64-encoded, so the raw bytes would hide a leak
        raw = "\n".join([*(f"{k}: {v}" for k, v in m.message.items()), m.subject, m.text, m.html])
        assert "OJA-" in raw
        for needle in (*PUPIL_NAMES, "2016-02-03", "03-02-2016", "3 februari 2016", _bsn(0), _bsn(1), _bsn(2)):
            assert needle not in raw, f"personal data in a mail to {m.rcpt_tos}"


@pytest.mark.postgres
def test_two_sweeps_at_once_on_postgresql_decide_and_send_every_reminder_once(pg_url, smtp_server, sender):
    region = _region(pg_url, cases=40)
    engine = region["engine"]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(_sweep(engine, dt.date(2027, 1, 4), sender))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(p.notices for p, _ in results) == 40 * 2
    assert sum(d.sent for _, d in results) == 2  # the coordinator's, the worker's
    assert sorted(_received(smtp_server)) == sorted(set(_received(smtp_server)))
    with Session(engine) as s:
        assert {o.status for o in s.exec(select(Outbox))} == {OutboxStatus.SENT.value}
        assert len(s.exec(select(Notice)).all()) == 40 * 2


def test_a_sweep_that_crashes_half_way_decides_nothing_twice_and_loses_nothing(tmp_path, smtp_server, sender):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}", cases=3)
    engine = region["engine"]
    calls = {"n": 0}

    def crashing_render(digest):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the process died while rendering")
        return render(digest)

    with pytest.raises(RuntimeError):
        sweep.plan_notices(engine, day=dt.date(2027, 1, 4), policy=POLICY, render=crashing_render)
    with Session(engine) as s:  # the batch rolled back as a whole: nothing half-decided
        assert s.exec(select(Notice)).all() == [] and s.exec(select(Outbox)).all() == []
    planned, sent = _sweep(engine, dt.date(2027, 1, 4), sender)
    assert planned.messages == 2 and sent.sent == 2


def _three_pending_messages(engine) -> None:
    """The coordinator's and the worker's on the review's day, the team lead's escalation a week later."""
    for day in (dt.date(2027, 1, 4), dt.date(2027, 1, 11)):
        sweep.plan_notices(engine, day=day, policy=POLICY, render=render)
    with Session(engine) as s:
        assert len(s.exec(select(Outbox)).all()) == 3


def test_a_dispatch_killed_mid_batch_resumes_without_sending_twice(tmp_path, smtp_server, sender):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}", cases=3)
    engine = region["engine"]
    _three_pending_messages(engine)

    def killed_after_the_first(_):
        raise SystemExit("the process is killed")  # right after the first message went out and was marked

    with pytest.raises(SystemExit):
        dispatch.dispatch(engine, sender, concurrency=1, progress=killed_after_the_first)
    delivered_before = len(smtp_server.messages)
    with Session(engine) as s:  # what went out is recorded as sent, by the thread that sent it
        assert len(s.exec(select(Outbox).where(Outbox.status == OutboxStatus.SENT.value)).all()) == delivered_before
    assert 1 <= delivered_before < 3
    with unit_of_work(engine) as s:  # the claims of the dead run expire
        for o in s.exec(select(Outbox).where(Outbox.status == OutboxStatus.PENDING.value)):
            o.claimed_until = None
            s.add(o)
    report = dispatch.dispatch(engine, sender)
    assert report.sent == 3 - delivered_before
    assert len(smtp_server.messages) == 3 and len({tuple(m.rcpt_tos) + (m.subject,) for m in smtp_server.messages}) == 3


def test_a_stop_request_finishes_what_is_in_flight_and_releases_the_rest_at_once(tmp_path, smtp_server, sender):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}", cases=3)
    engine = region["engine"]
    _three_pending_messages(engine)

    stop = threading.Event()  # what a SIGTERM handler sets

    class StoppedWhileSending:
        """The stop comes while the first message is in flight (as a SIGTERM would), in the sending thread."""

        def __init__(self, inner) -> None:
            self.inner = inner

        def has_route(self, role: str) -> bool:
            return self.inner.has_route(role)

        def send(self, to_email, message, *, role):
            stop.set()
            self.inner.send(to_email, message, role=role)

        def close(self) -> None:
            self.inner.close()

    report = dispatch.dispatch(engine, StoppedWhileSending(sender), concurrency=1, stop=stop)
    # the message in flight when the stop came is finished and recorded; what had not started is released
    assert (report.sent, report.stopped, report.failed) == (1, 2, 0)
    assert len(smtp_server.messages) == report.sent
    with Session(engine) as s:
        pending = s.exec(select(Outbox).where(Outbox.status == OutboxStatus.PENDING.value)).all()
        assert len(pending) == report.stopped
        assert all(o.claim_token is None and o.claimed_until is None for o in pending)
    assert dispatch.dispatch(engine, sender).sent == report.stopped  # no lease to wait out
    ids = [m.message["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == len(set(ids)) == 3
    # stable: a resend keeps it
    assert all(re.fullmatch(r"<oja\.(20270104|20270111)\.\d+@example\.org>", i) for i in ids)


def test_a_mail_server_that_is_down_ends_the_dispatch_also_when_the_batch_outlives_its_lease(tmp_path, sender):
    """Found by the fault bench on a loaded machine: the mail server down and each attempt slow, so that the last
    messages of a batch were released unsent (their claim could run out) instead of failing. The batch then did
    not "fail as a whole", and with no wait before a retry the dispatch claimed the same messages again, for
    minutes, until it was killed. A batch that sent nothing and failed any: the channel is down, stop."""
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}", cases=3)
    engine = region["engine"]
    _three_pending_messages(engine)

    class DownAndSlow:
        def has_route(self, role: str) -> bool:
            return True

        def send(self, to_email, message, *, role):
            time.sleep(0.3)
            raise ConnectionRefusedError(111, "Connection refused")

        def close(self) -> None:
            pass

    outcome: list[dispatch.DispatchReport] = []
    worker = threading.Thread(
        target=lambda: outcome.append(
            dispatch.dispatch(
                engine, DownAndSlow(), concurrency=1, lease=dt.timedelta(seconds=0.8), retry_after=dt.timedelta(0)
            )
        ),
        daemon=True,
    )
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "the dispatch went on claiming the same messages while the mail server was down"
    [report] = outcome
    assert report.sent == 0 and report.failed >= 1 and report.failed + report.stopped == 3, report
    with Session(engine) as s:
        pending = s.exec(select(Outbox).where(Outbox.status == OutboxStatus.PENDING.value)).all()
    assert len(pending) == 3 and all(o.attempts <= 1 for o in pending)  # each tried once at most, all kept


@pytest.mark.postgres
def test_the_fault_bench_loses_nothing_and_sends_nothing_twice(pg_url, tmp_path):
    """A short `bench/faults.py`: crashes, mail outages and dropped connections, six rounds on PostgreSQL."""
    bench = Path(__file__).resolve().parents[2] / "bench" / "faults.py"
    out = subprocess.run(
        [sys.executable, str(bench), "--rounds", "6", "--arrangements", "300", "--database-url", pg_url,
         "--control-url", f"sqlite:///{tmp_path / 'control.db'}", "--seed", "3"],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    line = out.stdout.strip().splitlines()[-1]
    figures = dict(part.split("=") for part in line.split())
    assert figures["rounds"] == "6" and int(figures["due"]) > 100 and int(figures["sent"]) > 10, line
    assert (figures["duplicates"], figures["lost"]) == ("0", "0"), line + "\n" + out.stderr[-2000:]
    assert "db-drop" in out.stderr or "kill" in out.stderr  # faults were injected


@pytest.mark.parametrize(
    ("language", "referred", "due"),
    [
        ("nl", "verwezen op woensdag 25 november 2026", "woensdag 2 december 2026"),
        ("en", "referred on Wednesday 25 November 2026", "Wednesday 2 December 2026"),
    ],
)
def test_the_referral_follow_up_names_the_day_of_the_referral(tmp_path, smtp_server, sender, language, referred, due):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}")
    engine = region["engine"]
    with unit_of_work(engine) as s:
        sv.upsert_professional(
            s, code="PRF-WT", name="Wijkteam", role="wijkteam", municipality_code="GM0164", email="wt@gemeente.example"
        )
        sv.refer(s, case_ref=region["refs"][0], actor="PRF-ZC", today=dt.date(2026, 11, 25))
    sweep.plan_notices(engine, day=dt.date(2027, 1, 13), policy=POLICY, render=render, language=language)
    dispatch.dispatch(engine, sender)
    [follow_up] = [m for m in smtp_server.messages if m.rcpt_tos == ["wt@gemeente.example"] and "2027" in m.subject]
    for body in (follow_up.text, follow_up.html):
        assert referred in body  # the referral date, not the day the answer was due (2 December)
        assert due in body  # that one is named as such
        assert body.index(referred) < body.index(due)


def test_on_a_monday_each_recipient_gets_one_message_with_the_weekly_overview_in_it(tmp_path, smtp_server, sender):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}", cases=2)
    engine = region["engine"]
    today_ref, coming_ref = region["refs"]
    with unit_of_work(engine) as s:  # the second review is due in the coming week, not today
        case = s.exec(select(Case).where(Case.ref == coming_ref)).one()
        case.next_review_on = dt.date(2027, 1, 8)
        s.add(case)
    monday = dt.date(2027, 1, 4)  # one review due today, one later that week, and the weekly overview
    policy = Policy(reminder_school_days=(1,))  # the later one has no reminder today: only the overview shows it
    planned = sweep.plan_notices(
        engine, day=monday, policy=policy, render=render, case_url="https://oja.example/{case_ref}"
    )
    sent = dispatch.dispatch(engine, sender)
    with Session(engine) as s:
        rows = s.exec(select(Outbox.recipient_code, Outbox.sweep_date)).all()
        notices = s.exec(select(Notice)).all()
    assert sorted(rows) == [("PRF-JH", monday), ("PRF-ZC", monday)]  # one row per recipient per sweep
    assert sorted((n.kind, n.recipient_code) for n in notices) == [
        ("evaluatie_vandaag", "PRF-JH"),
        ("evaluatie_vandaag", "PRF-ZC"),
        ("komende_week", "PRF-ZC"),
    ]
    assert planned.messages == 2 and sent.sent == 2
    assert all(n.outbox_id is not None for n in notices)  # every notice is carried by that one message
    [to_coordinator] = [m for m in smtp_server.messages if m.rcpt_tos == ["zc@school.example"]]
    for body in (to_coordinator.text, to_coordinator.html):
        assert "Evaluaties vandaag" in body and "Komende week" in body
        assert body.index(today_ref) < body.index("Komende week") < body.index(coming_ref)
    items = re.findall(r"^- (OJA-\d{4}-\d{6})", to_coordinator.text, flags=re.MULTILINE)
    assert sorted(items) == sorted(region["refs"])  # each once
    assert "weekoverzicht" in to_coordinator.subject
    again = sweep.plan_notices(engine, day=monday, policy=policy, render=render)  # a re-run decides nothing twice
    assert again.notices == 0 and again.messages == 0


def _decision_notices(engine, ref: str) -> list[tuple[str, dt.date, int]]:
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        found = s.exec(select(Notice).where(Notice.case_id == case.id, Notice.kind == NoticeKind.DECISION_DUE.value))
        return [(n.recipient_code, n.due_on, n.school_days) for n in found]


def test_a_decision_not_taken_after_a_review_reminds_the_regie_holder_on_its_due_day_once(
    tmp_path, smtp_server, sender
):
    """No run waits for a decision: the daily sweep reminds the regie holder when it is due (policy: 1 school day
    after the review), once; a case decided in time gets nothing."""
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}", cases=2)
    engine = region["engine"]
    waiting, decided = region["refs"]
    held, due = dt.date(2027, 1, 13), dt.date(2027, 1, 14)  # a Wednesday; its decision is due on Thursday
    with unit_of_work(engine) as s:
        for ref in region["refs"]:
            sv.record_review(s, case_ref=ref, held_on=held, actor="PRF-JH", today=held, gas_scores={1: 0})
    with unit_of_work(engine) as s:
        sv.decide(s, case_ref=decided, kind="voortzetten", actor="PRF-ZC", today=held, policy=POLICY)

    _sweep(engine, held, sender)  # the day of the review: not due yet
    assert _decision_notices(engine, waiting) == []
    smtp_server.messages.clear()
    _sweep(engine, due, sender)
    assert _decision_notices(engine, waiting) == [("PRF-ZC", due, 0)]
    assert _decision_notices(engine, decided) == []
    [mail] = [m for m in smtp_server.messages if waiting in m.text]
    assert mail.rcpt_tos == ["zc@school.example"]
    assert "Besluit na evaluatie nog niet genomen" in mail.text
    assert "evaluatie gehouden op woensdag 13 januari 2027, besluit uiterlijk op donderdag 14 januari 2027" in mail.text

    _sweep(engine, due, sender)  # the same day again, and the next: no second reminder
    _sweep(engine, dt.date(2027, 1, 15), sender)
    assert _decision_notices(engine, waiting) == [("PRF-ZC", due, 0)]


def test_a_missed_sweep_still_reminds_of_a_decision_and_says_how_late(tmp_path, smtp_server, sender):
    region = _region(f"sqlite:///{tmp_path / 'oja.db'}")
    engine = region["engine"]
    [ref] = region["refs"]
    with unit_of_work(engine) as s:
        sv.record_review(s, case_ref=ref, held_on=dt.date(2027, 1, 13), actor="PRF-JH", today=dt.date(2027, 1, 13))
    _sweep(engine, dt.date(2027, 1, 18), sender)  # the first sweep since: Monday, two school days late
    assert _decision_notices(engine, ref) == [("PRF-ZC", dt.date(2027, 1, 14), -2)]
    [mail] = [m for m in smtp_server.messages if ref in m.text and "Besluit na evaluatie" in m.text]
    assert "2 schooldagen te laat" in mail.text


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_monday_mail_lists_each_deadline_once(tmp_path, smtp_server, sender, backend, request):
    """Issue 23: a review reminded on the overview's day was listed twice in one mail (under its reminder and
    again under 'Komende week'): a deadline a recipient is told about today is not repeated in their overview."""
    url = f"sqlite:///{tmp_path / 'oja.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    region = _region(url, cases=2)
    engine = region["engine"]
    later = region["refs"][1]  # due Thursday 7 January: only in the overview on 14 December
    with unit_of_work(engine) as s:
        case = s.exec(select(Case).where(Case.ref == later)).one()
        case.next_review_on = dt.date(2027, 1, 7)
        s.add(case)
    for monday in (dt.date(2026, 12, 14), dt.date(2027, 1, 4)):
        before = len(smtp_server.messages)
        _sweep(engine, monday, sender)
        for message in smtp_server.messages[before:]:
            items = re.findall(r"^- (OJA-\d{4}-\d{6})", message.text, flags=re.MULTILINE)
            assert items and len(items) == len(set(items)), (monday, message.rcpt_tos, message.text)
