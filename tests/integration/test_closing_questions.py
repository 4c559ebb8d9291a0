"""The two outcome questions at closing as a service (issue 26), on SQLite and PostgreSQL: asked only after an
arrangement ran, only of the invited family members who may see the case, once per party per closing; answers
changed within the period and refused after; the mail through the outbox and the real SMTP server, without
anything about the child, never twice; a destroyed dossier takes the answers and the address along."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from models.errors import InvalidInput, InvalidInputs
from models.tables import Case, Decision, Pupil
from models.tables_family import ClosingAnswer
from models.tables_outbox import Outbox
from notifications.send import AppriseSender, RecordingSender
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services import closing_questions as cq
from oja.services import family_logins
from oja.services.dispatch import dispatch
from oja.services.retention import destroy_dossiers, export_pupil
from tests.factories import active_case, valid_bsn

TODAY = dt.date(2026, 12, 3)
NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
PASSWORD = "een lange zin om te onthouden"


def _case(engine, n: int, *, age: int, parents: tuple[str, ...] = ("Ouder Een", "Ouder Twee")) -> str:
    return active_case(
        engine, school="40AB", coordinator="PRF-1", bsn=valid_bsn(n, base=714_000_000),
        born=dt.date(TODAY.year - age, 1, 1), today=TODAY, parents=parents, names=("Kiki", f"Sluit{n}"),
    )  # fmt: skip


def _pupil(s, case_ref: str) -> Pupil:
    case = s.exec(select(Case).where(Case.ref == case_ref)).one()
    return s.get(Pupil, case.pupil_id)


def _logins(engine, case_ref: str, *parties: str) -> None:
    with unit_of_work(engine) as s:
        pupil = _pupil(s, case_ref)
        for party in parties:
            email = f"{party}.{pupil.family_name.lower()}@gezin.test"
            family_logins.set_login(s, pupil, party, email, PASSWORD, now=NOW, today=TODAY)


def _close(engine, case_ref: str, *, today: dt.date = TODAY) -> None:
    with unit_of_work(engine) as s:
        sv.decide(
            s, case_ref=case_ref, kind="afsluiten", actor="PRF-1", today=today, end_reason="volgens_plan",
            policy=sv.DEFAULT_POLICY,
        )  # fmt: skip


def _asked(engine, case_ref: str) -> list[ClosingAnswer]:
    with unit_of_work(engine) as s:
        case = s.exec(select(Case).where(Case.ref == case_ref)).one()
        return list(s.exec(select(ClosingAnswer).where(ClosingAnswer.case_id == case.id).order_by(ClosingAnswer.party)))


def test_asked_at_closing_of_each_invited_member_who_may_see_once_with_a_mail_each(engine):
    case = _case(engine, 1, age=13)
    _logins(engine, case, "ouder_1", "leerling")  # ouder_2 not invited: not asked
    _close(engine, case)
    asked = _asked(engine, case)
    assert [a.party for a in asked] == ["leerling", "ouder_1"]
    assert all(a.asked_on == TODAY and a.open_until > TODAY + dt.timedelta(days=27) for a in asked)  # 20 school days
    assert all(a.satisfaction is None and a.answered_at is None for a in asked)
    with unit_of_work(engine) as s:
        mails = s.exec(select(Outbox).where(Outbox.role == "gezin").order_by(Outbox.to_address)).all()
        assert [m.to_address for m in mails] == ["leerling.sluit1@gezin.test", "ouder_1.sluit1@gezin.test"]
        assert {m.id for m in mails} == {a.outbox_id for a in asked}
        assert all(m.recipient_code is None for m in mails)
        decision = s.exec(select(Decision).where(Decision.kind == "afsluiten")).one()
        case_row = s.exec(select(Case).where(Case.ref == case)).one()
        cq.ask_family(s, case_row, decision, today=TODAY, policy=sv.DEFAULT_POLICY)  # again: never twice
    assert len(_asked(engine, case)) == 2
    with unit_of_work(engine) as s:
        assert len(s.exec(select(Outbox).where(Outbox.role == "gezin")).all()) == 2


def test_not_asked_without_help_at_triage_nor_at_a_closing_before_the_arrangement_started(engine):
    with unit_of_work(engine) as s:
        pupil = sv.register_pupil(
            s, given_name="Kiki", family_name="Zonderhulp", birth_date=dt.date(2012, 1, 1),
            bsn=valid_bsn(2, base=714_000_000), school_code="40AB", municipality_code="GM0164",
            parents=[sv.ParentSpec("Ouder Een")], today=TODAY,
        )  # fmt: skip
        ref = sv.register_signal(
            s, pupil_ref=pupil, school_code="40AB", source="school", domains=["leren"], urgency="normaal",
            actor="PRF-1", received_on=TODAY, today=TODAY, policy=sv.DEFAULT_POLICY,
        ).case_ref  # fmt: skip
    _logins(engine, ref, "ouder_1", "leerling")
    with unit_of_work(engine) as s:
        sv.triage(s, case_ref=ref, outcome="basisondersteuning", actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    assert _asked(engine, ref) == []
    with unit_of_work(engine) as s:
        sv.reopen(s, case_ref=ref, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
        sv.triage(s, case_ref=ref, outcome="oja", level=2, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    _close(engine, ref)  # closed while the plan was still to be made: no help ran
    assert _asked(engine, ref) == []


def test_a_pupil_of_16_who_closed_the_case_to_the_parents_is_asked_alone(engine):
    case = _case(engine, 3, age=17)
    _logins(engine, case, "ouder_1", "ouder_2", "leerling")
    with unit_of_work(engine) as s:
        pupil = _pupil(s, case)
        pupil.parents_may_see = False
        s.add(pupil)
    _close(engine, case)
    assert [a.party for a in _asked(engine, case)] == ["leerling"]


def test_answers_are_changed_within_the_period_and_refused_after_it(engine):
    case = _case(engine, 4, age=13)
    _logins(engine, case, "ouder_1")
    _close(engine, case)
    with unit_of_work(engine) as s:
        pupil_id = _pupil(s, case).id
        first = cq.answer(s, pupil_id, "ouder_1", {"tevredenheid": "tevreden", "verder_zonder_hulp": "nee"},
                          today=TODAY, now=NOW)  # fmt: skip
        assert (first.satisfaction, first.without_help) == ("tevreden", "nee")
    (question,) = _asked(engine, case)
    with unit_of_work(engine) as s:
        later = NOW + dt.timedelta(days=5)
        cq.answer(s, pupil_id, "ouder_1", {"tevredenheid": "heel_tevreden", "verder_zonder_hulp": "ja"},
                  today=question.open_until, now=later)  # fmt: skip
    (changed,) = _asked(engine, case)
    assert (changed.satisfaction, changed.without_help) == ("heel_tevreden", "ja")
    with unit_of_work(engine) as s, pytest.raises(InvalidInput) as refused:
        cq.answer(s, pupil_id, "ouder_1", {"tevredenheid": "ontevreden", "verder_zonder_hulp": "nee"},
                  today=question.open_until + dt.timedelta(days=1), now=later)  # fmt: skip
    assert "gesloten" in refused.value.rule
    with unit_of_work(engine) as s, pytest.raises(InvalidInputs) as wrong:
        cq.answer(s, pupil_id, "ouder_1", {"tevredenheid": "x"}, today=TODAY, now=NOW)
    assert [e.field for e in wrong.value.errors] == ["tevredenheid", "verder_zonder_hulp"]
    with unit_of_work(engine) as s, pytest.raises(InvalidInput):  # ouder_2 was never asked
        both = {"tevredenheid": "tevreden", "verder_zonder_hulp": "ja"}
        cq.answer(s, pupil_id, "ouder_2", both, today=TODAY, now=NOW)
    assert [(a.satisfaction, a.without_help) for a in _asked(engine, case)] == [("heel_tevreden", "ja")]
    with unit_of_work(engine) as s:  # the subject-access export holds them (AVG art. 15)
        (exported,) = export_pupil(s, _pupil(s, case).ref)["cases"]
    assert [(a["party"], a["satisfaction"]) for a in exported["closing_answers"]] == [("ouder_1", "heel_tevreden")]
    with unit_of_work(engine) as s:
        assert cq.open_question(s, pupil_id, "ouder_1", question.open_until) is not None
        assert cq.open_question(s, pupil_id, "ouder_1", question.open_until + dt.timedelta(days=1)) is None


def test_the_mail_goes_through_the_outbox_once_without_anything_about_the_child(engine, smtp_server):
    case = _case(engine, 5, age=13)
    _logins(engine, case, "ouder_1", "leerling")
    _close(engine, case)
    sender = AppriseSender(smtp_server.url)
    try:
        report = dispatch(engine, sender)
        again = dispatch(engine, sender)
    finally:
        sender.close()
    assert (report.sent, again.sent) == (2, 0)
    mails = smtp_server.messages
    assert sorted(m.rcpt_tos[0] for m in mails) == ["leerling.sluit5@gezin.test", "ouder_1.sluit5@gezin.test"]
    for mail in mails:
        assert "/gezin/afsluiting" in mail.text and mail.subject == "Twee vragen over de hulp op school"
        for detail in ("Kiki", "Sluit5", case, "LL-", "OJA-", "Ouder Een", "volgens_plan", "40AB"):
            assert detail not in mail.raw, detail


def test_a_destroyed_dossier_takes_the_answers_and_the_address_along(engine):
    case = _case(engine, 6, age=13)
    _logins(engine, case, "ouder_1")
    _close(engine, case)
    with unit_of_work(engine) as s:
        pupil_id = _pupil(s, case).id
        destroy_dossiers(s, [pupil_id], actor="PRF-1", reason="test", today=TODAY)
    with unit_of_work(engine) as s:
        assert s.exec(select(ClosingAnswer)).all() == []
        assert [m.to_address for m in s.exec(select(Outbox).where(Outbox.role == "gezin"))] == [None]


def test_a_failed_mail_to_the_family_is_reported_without_its_address(engine):
    case = _case(engine, 7, age=13)
    _logins(engine, case, "ouder_1")
    _close(engine, case)
    refused = RecordingSender(refuse=["ouder_1.sluit7@gezin.test"])
    report = dispatch(engine, refused)  # the report is the run's result in Prefect
    assert report.failed == 1 and report.errors and all("gezin.test" not in e for e in report.errors)
    assert "<adres>" in report.errors[0]
    with unit_of_work(engine) as s:
        assert s.exec(select(Outbox.status).where(Outbox.role == "gezin")).one() == "wachtend"  # tried again later
