"""Retention, erasure requests, subject access and the append-only audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, func, select

from models.errors import AuditImmutable, InvalidInput
from models.lifecycle import AuditAction, CaseState
from models.reminders import NoticeKind
from models.tables import AuditRecord, Case, ErasureRequest, Parent, Pupil
from models.tables_outbox import Outbox
from notifications.render import render
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy
from oja.services import retention, sweep
from tests.factories import active_case
from tests.integration.test_services import POLICY, TODAY, counts, do

ERASURE_KINDS = {NoticeKind.ERASURE_REMINDER, NoticeKind.ERASURE_DUE, NoticeKind.ERASURE_OVERDUE}

CARE_TABLES = (
    "signal", "plan", "goal", "intervention", "consentrecord", "review", "goalscore",
    "measurement", "decision", "referral", "groupmember", "notice", "parent",
)  # fmt: skip

# decisions after a review that are not (or need not be) what the engine recommends carry a reason
OVERRIDE = {"override_reason": "professioneel_oordeel"}


def _closed_case(engine, *, bsn="111222333", born=dt.date(2014, 6, 15), names=("Sanne", "Veldkamp")) -> str:
    ref = active_case(
        engine, school="40AB", coordinator="PRF-1", bsn=bsn, born=born, today=TODAY, parents=("Ouder Een",),
        worker="PRF-2", names=names,
    )  # fmt: skip
    do(engine, sv.record_review, case_ref=ref, held_on=TODAY, actor="PRF-2", today=TODAY, gas_scores={1: 1})
    do(
        engine,
        sv.decide,
        case_ref=ref,
        kind="afsluiten",
        end_reason="volgens_plan",
        actor="PRF-1",
        today=TODAY,
        **OVERRIDE,
        policy=sv.DEFAULT_POLICY,
    )
    return ref


def _pupil_of(engine, case_ref) -> Pupil:
    with Session(engine) as s:
        return s.exec(select(Pupil).join(Case, Case.pupil_id == Pupil.id).where(Case.ref == case_ref)).one()


def _care_rows(engine, case_ref) -> dict[str, int]:
    pupil = _pupil_of(engine, case_ref)
    with Session(engine) as s:
        [case_id] = s.exec(select(Case.id).where(Case.ref == case_ref)).all()
        out = {}
        for name in CARE_TABLES:
            t = SQLModel.metadata.tables[name]
            if "case_id" in t.c:
                out[name] = s.exec(select(func.count()).select_from(t).where(t.c.case_id == case_id)).one()
            elif name == "parent":
                out[name] = s.exec(select(func.count()).select_from(t).where(t.c.pupil_id == pupil.id)).one()
            else:
                out[name] = s.exec(select(func.count()).select_from(t)).one()
        return out


def test_a_dossier_is_destroyed_twenty_years_after_its_last_change_and_not_a_day_before(engine):
    ref = _closed_case(engine)
    last_change = _pupil_of(engine, ref)  # the case changed today (real time): the term runs from now
    today = dt.date.today()
    kept = retention.apply_retention(engine, today=today.replace(year=today.year + 20), policy=POLICY)
    assert kept.pupils == 0 and _pupil_of(engine, ref).bsn == "111222333"

    report = retention.apply_retention(
        engine, today=today.replace(year=today.year + 20) + dt.timedelta(days=2), policy=POLICY
    )
    assert (report.pupils, report.cases) == (1, 1)
    gone = _pupil_of(engine, ref)
    assert (gone.given_name, gone.family_name, gone.bsn, gone.birth_date) == ("", "", None, None)
    assert gone.ref == last_change.ref and gone.destroyed_on is not None
    assert all(n == 0 for n in _care_rows(engine, ref).values())
    with Session(engine) as s:
        trail = s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref).order_by(AuditRecord.id)).all()
    assert trail[-1].action == AuditAction.DESTROYED and trail[-1].actor == "SYSTEEM" and "20 jaar" in trail[-1].reason
    assert len(trail) > 5  # the history of the case stays, in codes
    before = counts(engine)
    again = retention.apply_retention(engine, today=today.replace(year=today.year + 30), policy=POLICY)
    assert again.pupils == 0 and counts(engine) == before  # a re-run destroys nothing twice


def test_an_open_case_is_never_destroyed_by_retention(engine):
    ref = active_case(
        engine, school="40AB", coordinator="PRF-1", bsn="111222333", born=dt.date(2009, 6, 15), today=TODAY
    )
    report = retention.apply_retention(engine, today=TODAY.replace(year=TODAY.year + 40), policy=POLICY)
    assert report.pupils == 0 and _pupil_of(engine, ref).bsn == "111222333"


def test_a_destroyed_pupils_reference_is_never_reused_and_cannot_be_acted_on(engine):
    ref = _closed_case(engine)
    pupil_ref = _pupil_of(engine, ref).ref
    with unit_of_work(engine) as s:
        request = retention.request_erasure(
            s, pupil_ref=pupil_ref, requested_by="ouder_1", actor="PRF-1", received_on=TODAY, today=TODAY, policy=POLICY
        )
    with unit_of_work(engine) as s:
        retention.decide_erasure(
            s, request_ref=request.ref, grant=True, refusal_reason=None, actor="PRF-1", today=TODAY
        )
    with unit_of_work(engine) as s:
        new_ref = sv.register_pupil(
            s,
            given_name="Nieuw",
            family_name="Kind",
            birth_date=dt.date(2015, 1, 1),
            school_code="40AB",
            municipality_code="GM0164",
            bsn="111222333",
            today=TODAY,
        )  # fmt: skip  (the BSN is free again: the destroyed row no longer holds it)
    assert new_ref != pupil_ref
    with pytest.raises(InvalidInput) as refused:
        do(
            engine, sv.register_signal, pupil_ref=pupil_ref, school_code="40AB", source="school", domains=["leren"],
            urgency="normaal", actor="PRF-1", received_on=TODAY, today=TODAY, policy=POLICY,
        )  # fmt: skip
    assert refused.value.field == "pupil_ref" and "vernietigd" in refused.value.rule
    with pytest.raises(InvalidInput) as refused:  # the closed case's tombstone cannot be reopened
        do(engine, sv.reopen, case_ref=ref, actor="PRF-1", today=TODAY, policy=POLICY)
    assert refused.value.field == "case_ref" and "vernietigd" in refused.value.rule


def test_an_erasure_request_and_its_grant_write_one_audit_record_each(engine):
    ref = _closed_case(engine)
    pupil_ref = _pupil_of(engine, ref).ref

    def trail() -> list[tuple[str, str, str, str]]:
        with Session(engine) as s:
            rows = s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref).order_by(AuditRecord.id)).all()
            return [(r.action, r.from_state, r.to_state, r.reason) for r in rows]

    before = trail()
    request = do(
        engine, retention.request_erasure, pupil_ref=pupil_ref, requested_by="ouder_1", actor="PRF-1",
        received_on=TODAY, today=TODAY, policy=POLICY,
    )  # fmt: skip
    assert trail()[len(before) :] == [
        (AuditAction.ERASURE_REQUESTED, CaseState.CLOSED, CaseState.CLOSED, f"{request.ref};ouder_1")
    ]
    before = trail()
    do(engine, retention.decide_erasure, request_ref=request.ref, grant=True, refusal_reason=None, actor="PRF-1",
       today=TODAY)  # fmt: skip
    written = trail()[len(before) :]
    assert len(written) == 1, written  # one action, one record: the grant, which destroyed the dossier
    [(action, from_state, to_state, reason)] = written
    assert (action, from_state, to_state) == (AuditAction.ERASURE_GRANTED, CaseState.CLOSED, CaseState.CLOSED)
    assert request.ref in reason and "vernietigd" in reason


@pytest.mark.parametrize(
    ("born", "party", "parents", "accepted"),
    [
        (dt.date(2014, 11, 23), "leerling", ("Ouder Een",), True),  # 12 today
        (dt.date(2014, 11, 24), "leerling", ("Ouder Een",), False),  # 12 tomorrow
        (dt.date(2016, 1, 1), "ouder_1", ("Ouder Een",), True),
        (dt.date(2016, 1, 1), "ouder_2", ("Ouder Een",), False),  # no second parent
    ],
)
def test_who_may_ask_for_erasure(engine, born, party, parents, accepted):
    with unit_of_work(engine) as s:
        pupil_ref = sv.register_pupil(
            s, given_name="A", family_name="B", birth_date=born, school_code="40AB", municipality_code="GM0164",
            bsn="111222333", parents=[sv.ParentSpec(p) for p in parents], today=TODAY,
        )  # fmt: skip
    before = counts(engine)
    args = dict(pupil_ref=pupil_ref, requested_by=party, actor="PRF-1", received_on=TODAY, today=TODAY, policy=POLICY)
    if accepted:
        request = do(engine, retention.request_erasure, **args)
        # three months is 23 February 2027, in the spring holiday (Noord, 20-28 Feb): the last school day before
        assert request.due_on == dt.date(2027, 2, 19) and request.ref.startswith("VV-2026-")
    else:
        with pytest.raises(InvalidInput) as refused:
            do(engine, retention.request_erasure, **args)
        assert refused.value.field == "requested_by" and counts(engine) == before


def test_a_parent_without_authority_may_not_ask(engine):
    with unit_of_work(engine) as s:
        pupil_ref = sv.register_pupil(
            s, given_name="A", family_name="B", birth_date=dt.date(2016, 1, 1), school_code="40AB",
            municipality_code="GM0164", bsn="111222333", parents=[sv.ParentSpec("Ouder", has_authority=False)],
            today=TODAY,
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="gezag"):
        do(
            engine, retention.request_erasure, pupil_ref=pupil_ref, requested_by="ouder_1", actor="PRF-1",
            received_on=TODAY, today=TODAY, policy=POLICY,
        )  # fmt: skip


def test_a_refusal_needs_a_reason_and_a_grant_needs_the_case_closed(engine):
    ref = active_case(
        engine, school="40AB", coordinator="PRF-1", bsn="111222333", born=dt.date(2010, 1, 1), today=TODAY
    )
    pupil_ref = _pupil_of(engine, ref).ref
    request = do(
        engine, retention.request_erasure, pupil_ref=pupil_ref, requested_by="leerling", actor="PRF-1",
        received_on=TODAY, today=TODAY, policy=POLICY,
    )  # fmt: skip
    decide = dict(request_ref=request.ref, actor="PRF-1", today=TODAY)
    before = counts(engine)
    for grant, reason, field in [
        (False, None, "refusal_reason"),
        (True, None, "grant"),
        (True, "wettelijke_plicht", "refusal_reason"),
        (False, "omdat", "refusal_reason"),
    ]:  # noqa: E501
        with pytest.raises(InvalidInput) as refused:
            do(engine, retention.decide_erasure, grant=grant, refusal_reason=reason, **decide)
        assert refused.value.field == field and counts(engine) == before
    decided = do(engine, retention.decide_erasure, grant=False, refusal_reason="lopend_arrangement", **decide)
    assert (decided.outcome, decided.refusal_reason) == ("afgewezen", "lopend_arrangement")
    assert _pupil_of(engine, ref).bsn == "111222333"  # refused: nothing destroyed
    with pytest.raises(InvalidInput, match="al besloten"):
        do(engine, retention.decide_erasure, grant=True, refusal_reason=None, **decide)


def _pupil_without_case(engine) -> str:
    with unit_of_work(engine) as s:
        return sv.register_pupil(
            s, given_name="A", family_name="B", birth_date=dt.date(2016, 1, 1), school_code="40AB",
            municipality_code="GM0164", bsn="111222333", parents=[sv.ParentSpec("Ouder Een")], today=TODAY,
        )  # fmt: skip


@pytest.mark.parametrize("with_case", [True, False], ids=["with-a-case", "without-a-case"])
def test_an_open_erasure_request_is_reminded_before_its_term_and_escalated_after(engine, with_case):
    """Issue 23, item 9: a request about a pupil who never had a case gets the same reminders on the same days."""
    with unit_of_work(engine) as s:
        sv.upsert_professional(s, code="PRF-TL", name="Teamleider", role="teamleider", school_code="40AB")
    pupil_ref = _pupil_of(engine, _closed_case(engine)).ref if with_case else _pupil_without_case(engine)
    request = do(
        engine, retention.request_erasure, pupil_ref=pupil_ref, requested_by="ouder_1", actor="PRF-1",
        received_on=TODAY, today=TODAY, policy=POLICY,
    )  # fmt: skip
    assert request.due_on == dt.date(2027, 2, 19)  # Friday before the spring holiday (Noord, 20-28 Feb)
    policy = Policy()
    got = {}
    days = [dt.date(2027, 2, 4), dt.date(2027, 2, 5), dt.date(2027, 2, 17), dt.date(2027, 2, 18)]
    days += [dt.date(2027, 2, 19), dt.date(2027, 2, 22), dt.date(2027, 3, 1)]
    for day in days:
        report = sweep.plan_notices(engine, day=day, policy=policy, render=render)
        got[day] = {k: v for k, v in report.by_kind.items() if k in ERASURE_KINDS}
    assert got[dt.date(2027, 2, 4)] == {}  # 11 school days before
    assert got[dt.date(2027, 2, 5)] == {NoticeKind.ERASURE_REMINDER: 1}  # 10 school days before
    assert got[dt.date(2027, 2, 17)] == {NoticeKind.ERASURE_REMINDER: 1}  # 2 school days before
    assert got[dt.date(2027, 2, 18)] == {}  # 1 day before: the 2-day reminder went out already
    assert got[dt.date(2027, 2, 19)] == {NoticeKind.ERASURE_DUE: 1}
    assert got[dt.date(2027, 2, 22)] == {}  # holiday: no sweep mail
    # the first school day after: the coordinator and the team lead
    assert got[dt.date(2027, 3, 1)] == {NoticeKind.ERASURE_OVERDUE: 2}
    again = sweep.plan_notices(engine, day=dt.date(2027, 3, 2), policy=policy, render=render)
    assert not ERASURE_KINDS & set(again.by_kind)  # decided once: not again the next day
    with Session(engine) as s:
        texts = [m.text for m in s.exec(select(Outbox).where(Outbox.recipient_code == "PRF-TL"))]
    assert len(texts) == 1 and f"- {request.ref}, De School (40AB)" in texts[0]
    assert with_case or "leerling zonder casus: besluit met stap 14 Besluit vernietiging" in texts[0]


def test_an_erasure_reminder_names_the_request_not_the_case(engine):
    ref = _closed_case(engine)
    request = do(
        engine, retention.request_erasure, pupil_ref=_pupil_of(engine, ref).ref, requested_by="ouder_1",
        actor="PRF-1", received_on=TODAY, today=TODAY, policy=POLICY,
    )  # fmt: skip
    for language in ("nl", "en"):
        day = dt.date(2027, 2, 5) if language == "nl" else dt.date(2027, 2, 17)  # 10 and 2 school days before
        sweep.plan_notices(engine, day=day, policy=Policy(), render=render, language=language)
    with Session(engine) as s:
        messages = s.exec(select(Outbox).where(Outbox.recipient_code == "PRF-1").order_by(Outbox.id)).all()
    assert [m.sweep_date for m in messages] == [dt.date(2027, 2, 5), dt.date(2027, 2, 17)]
    for m, what in zip(messages, ("beslissen over vernietiging", "decide on destruction"), strict=True):
        assert f"- {request.ref}, De School (40AB): {what}" in m.text
        assert f">{request.ref}</a>" in m.html
        assert f"- {ref}," not in m.text and f">{ref}<" not in m.html


def test_subject_access_export_holds_everything_about_the_pupil(engine):
    ref = _closed_case(engine)
    with Session(engine) as s:
        data = retention.export_pupil(s, _pupil_of(engine, ref).ref)
    assert data["pupil"]["given_name"] == "Sanne" and data["pupil"]["bsn"] == "111222333"
    assert [p["name"] for p in data["parents"]] == ["Ouder Een"]
    [case] = data["cases"]
    assert case["case"]["ref"] == ref and case["signals"] and case["plans"] and case["goals"]
    assert case["consent"] and case["reviews"] and case["goal_scores"] and case["decisions"]
    assert [a["action"] for a in case["audit"]][-1] == AuditAction.CLOSE


def test_audit_records_cannot_be_changed_or_deleted_through_the_engine_or_in_sql(engine):
    ref = _closed_case(engine)
    with pytest.raises(AuditImmutable), unit_of_work(engine) as s:  # the engine's session refuses
        record = s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref)).first()
        record.reason = "changed"
        s.add(record)
    with pytest.raises(AuditImmutable), unit_of_work(engine) as s:
        s.delete(s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref)).first())
    with Session(engine) as s:  # any other session is refused by the database's triggers
        record = s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref)).first()
        record.reason = "changed"
        s.add(record)
        with pytest.raises(sa.exc.DatabaseError, match="never changed or deleted"):
            s.commit()
    for statement in (
        sa.update(AuditRecord).where(AuditRecord.case_ref == ref).values(reason="changed"),
        sa.delete(AuditRecord).where(AuditRecord.case_ref == ref),
    ):
        with engine.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="never changed or deleted"):
            conn.execute(statement)
    with Session(engine) as s:
        assert all(r.reason != "changed" for r in s.exec(select(AuditRecord)).all())
        assert s.exec(select(func.count()).select_from(Parent)).one() == 1
        assert s.exec(select(func.count()).select_from(ErasureRequest)).one() == 0
