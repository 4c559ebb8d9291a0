"""Issue 23, item 12: a queued message is sent only while it still holds for its case's current state; otherwise
it lapses, unsent, with the reason on its outbox row. Through a real SMTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from models.lifecycle import CaseState
from models.reminders import NoticeKind
from models.tables_outbox import Notice, Outbox
from models.vocabulary import OutboxStatus
from notifications.send import AppriseSender
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services import dispatch
from tests.integration.test_services import TODAY, _active_case, do
from tests.smtp import SMTPServer


@pytest.fixture
def smtp():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def test_a_referral_message_queued_before_the_case_returned_to_school_is_not_sent(engine, smtp):
    with unit_of_work(engine) as s:
        sv.upsert_professional(
            s, code="PRF-WT", name="Wijkcoach", role="wijkteam", municipality_code="GM0164", email="wt@gm.example"
        )
    ref = _active_case(engine)
    do(engine, sv.refer, case_ref=ref, actor="PRF-1", today=TODAY)  # queues "Nieuwe verwijzing" to the district team
    outcome = do(
        engine, sv.respond_to_referral, case_ref=ref, accepted=False, level_on_decline=3, actor="PRF-WT",
        today=TODAY, policy=sv.DEFAULT_POLICY,
    )  # fmt: skip
    assert outcome.state == CaseState.PLANNING  # back at school before the message went out

    report = dispatch.dispatch(engine, AppriseSender(smtp.url))

    assert smtp.messages == [] and report.sent == 0 and report.lapsed == 1
    with Session(engine) as s:
        [message] = s.exec(select(Outbox).where(Outbox.recipient_code == "PRF-WT")).all()
        notices = s.exec(select(Notice).where(Notice.outbox_id == message.id)).all()
    assert message.status == OutboxStatus.LAPSED and message.sent_at is None
    assert message.last_error == f"{ref} {NoticeKind.REFERRAL_SENT}: geldt niet meer, de casus is nu planvorming"
    assert [n.kind for n in notices] == [NoticeKind.REFERRAL_SENT]  # the record of what lapsed stays
    assert dispatch.dispatch(engine, AppriseSender(smtp.url)).sent == 0 and smtp.messages == []  # never again


def test_a_message_that_still_holds_is_sent(engine, smtp):
    with unit_of_work(engine) as s:
        sv.upsert_professional(
            s, code="PRF-WT", name="Wijkcoach", role="wijkteam", municipality_code="GM0164", email="wt@gm.example"
        )
    ref = _active_case(engine)
    do(engine, sv.refer, case_ref=ref, actor="PRF-1", today=TODAY)
    report = dispatch.dispatch(engine, AppriseSender(smtp.url))
    assert report.sent == 1 and report.lapsed == 0 and ref in smtp.messages[0].text
