"""The daily sweep as a real flow run: one run for the region, a loud failure while mail is down."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from sqlmodel import Session, select

from flows.sweep import daily_sweep, send_pending
from models.tables import Case
from models.tables_outbox import Outbox
from models.vocabulary import OutboxStatus
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from oja.config import get_settings
from tests.factories import active_case
from tests.smtp import SMTPServer

pytestmark = pytest.mark.prefect
DAY = dt.date(2027, 3, 1)  # a Monday in school time (region noord)


@pytest.fixture
def mail(engine_url):
    server = SMTPServer()
    server.start()
    os.environ["OJA_SMTP_URL"] = server.url
    get_settings.cache_clear()
    yield server
    server.stop()
    os.environ.pop("OJA_SMTP_URL", None)
    get_settings.cache_clear()


def _active_case_due(url: str, due: dt.date) -> str:
    with unit_of_work(get_engine(url)) as s:
        sv.upsert_professional(
            s,
            code="PRF-T1",
            name="Coördinator T",
            role="zorgcoordinator",
            school_code="20XY",
            email="coordinator@school.example",
        )
    ref = active_case(
        get_engine(url),
        school="20XY",
        coordinator="PRF-T1",
        bsn="100000009",
        born=dt.date(2010, 5, 5),
        today=dt.date(2027, 1, 11),
        level=1,
    )
    with unit_of_work(get_engine(url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        case.next_review_on = due
        s.add(case)
    return ref


def test_the_sweep_flow_fails_loudly_while_mail_is_down_and_the_retry_delivers(engine_url, mail, monkeypatch):
    ref = _active_case_due(engine_url, DAY)
    operators = SMTPServer()  # the operators' channel is another server, which is up
    operators.start()
    monkeypatch.setenv("OJA_OPERATOR_URLS", json.dumps([operators.url + "&to=ops@region.example"]))
    get_settings.cache_clear()
    mail.stop()
    state = daily_sweep(sweep_date=DAY, return_state=True)
    operators.stop()
    assert state.is_failed() and "stay pending" in state.message
    [alert] = operators.messages
    assert alert.rcpt_tos == ["ops@region.example"] and "dagelijkse-herinneringen failed" in alert.subject
    assert "stay pending" in alert.text
    with Session(get_engine(engine_url)) as s:
        pending = s.exec(select(Outbox).where(Outbox.status == OutboxStatus.PENDING.value)).all()
        assert pending and all(o.attempts == 1 and o.last_error for o in pending)
        for o in pending:  # the retry back-off has passed
            o.claimed_until = None
            s.add(o)
        s.commit()

    mail.start()
    result = send_pending()
    assert result["sent"] == len(pending) and result["failed"] == 0
    assert any(ref in m.text for m in mail.messages)
    assert {m.rcpt_tos[0] for m in mail.messages} == {"coordinator@school.example"}

    again = daily_sweep(sweep_date=DAY)  # a re-run of the same day: nothing new, nothing twice
    assert again["planned"]["notices"] == 0 and again["dispatch"]["sent"] == 0
    assert len(mail.messages) == len(pending)


def test_the_smtp_url_can_come_from_a_prefect_secret_block(engine_url, monkeypatch):
    from prefect.blocks.system import Secret

    from oja.adapters.notify import build_sender, smtp_url

    server = SMTPServer()
    server.start()
    try:
        Secret(value=server.url).save("oja-smtp-test", overwrite=True)
        monkeypatch.delenv("OJA_SMTP_URL", raising=False)
        monkeypatch.setenv("OJA_SMTP_SECRET_BLOCK", "oja-smtp-test")
        get_settings.cache_clear()
        assert smtp_url(get_settings()) == server.url
        sender = build_sender(get_settings())
        from notifications.messages import RenderedMessage

        sender.send("a@school.example", RenderedMessage("s", "t", "<p>t</p>"))
        sender.close()
        assert [m.rcpt_tos for m in server.messages] == [["a@school.example"]]
    finally:
        server.stop()
        monkeypatch.undo()
        get_settings.cache_clear()
