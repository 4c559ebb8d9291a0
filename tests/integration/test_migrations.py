"""The same Alembic migrations build the schema of the models on SQLite and on PostgreSQL, and undo it; 0008 turns
the codes in existing rows into Dutch and back."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models.tables  # noqa: F401
from models.decisions import RecommendationRule
from models.lifecycle import AuditAction, CaseState
from models.reminders import NoticeKind
from models.vocabulary import DigestKind, OtherDecision, OutboxStatus, ReferralStatus, ReturnReason
from notifications.render import _environment
from oja.adapters import migrate
from oja.adapters.db import get_engine


def _check_round_trip(url: str) -> None:
    migrate.upgrade(url)
    engine = get_engine(url)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == [], f"the migrations and the models differ: {diff}"
    migrate.downgrade(url, "base")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    with engine.connect() as conn:
        assert set(SQLModel.metadata.tables) <= set(sa.inspect(conn).get_table_names())


def test_the_migrations_build_and_remove_the_schema_on_sqlite(tmp_path):
    _check_round_trip(f"sqlite:///{tmp_path / 'oja.db'}")


@pytest.mark.postgres
def test_the_migrations_build_and_remove_the_schema_on_postgresql(pg_url):
    _check_round_trip(pg_url)


# ---- 0008: one vocabulary ------------------------------------------------------------------------------------

# The codes before 0008 were the enums' member names in lower case, but for the two erasure decisions; the notice
# kinds' Dutch codes are those the labels read (templates/nl/_labels.j2, FORMER) until models/reminders.py has them.
RENAMED = {"erasure_toegewezen": AuditAction.ERASURE_GRANTED, "erasure_afgewezen": AuditAction.ERASURE_REFUSED}
NOTICE_KINDS = _environment("nl").get_template("_labels.j2").module.FORMER
OLD_STATES = [s.name.lower() for s in CaseState]
OLD_ACTIONS = [a.name.lower() for a in AuditAction if a.value not in RENAMED.values()] + list(RENAMED)
OLD_REFERRALS = [s.name.lower() for s in ReferralStatus]
OLD_RULES = [r.name.lower() for r in RecommendationRule]
OLD_OUTBOX = [(s.name.lower(), d.name.lower()) for s, d in zip(OutboxStatus, DigestKind, strict=True)]
ACTIVE_PUPIL = OLD_STATES.index("active") + 1


def new_code(enum: type[StrEnum], old: str) -> str:
    if enum is NoticeKind:
        return NOTICE_KINDS[old]
    return RENAMED[old].value if old in RENAMED else enum[old.upper()].value


def _insert_old_codes(conn: sa.Connection) -> None:
    """A region at revision 0007 whose rows use every code as it was written before 0008."""

    def add(table: str, **row):
        return conn.execute(
            sa.text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row
        )

    now, day = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC), dt.date(2026, 11, 20)
    by = dict(decided_by="PRF-1")
    add("municipality", code="GM0164", name="Hengelo")
    add("school", code="40AB", name="De School", holiday_region="noord", municipality_code="GM0164")
    add("professional", code="PRF-1", name="Coördinator", role="zorgcoordinator", school_code="40AB")
    case = dict(school_code="40AB", level=1, urgency="normaal", opened_on=day, updated_at=now, version=1)
    for n, state in enumerate(OLD_STATES, start=1):  # pupil n has a case in the n-th state
        add("pupil", id=n, ref=f"LL-{n:06d}", given_name="A", family_name="B", birth_date=dt.date(2014, 1, 1),
            school_code="40AB", municipality_code="GM0164", created_at=now)  # fmt: skip
        add("oja_case", id=n, ref=f"OJA-2026-{n:06d}", pupil_id=n, state=state, **case)
    for n in (9, 10):  # and the pupil of the active case two closed ones beside it
        add("oja_case", id=n, ref=f"OJA-2026-{n:06d}", pupil_id=ACTIVE_PUPIL, state="closed", **case)
    record = dict(case_ref="OJA-2026-000005", actor="PRF-1", at=now, reason="r")
    for n, action in enumerate(OLD_ACTIONS, start=1):
        states = OLD_STATES[n % len(OLD_STATES)], OLD_STATES[(n + 1) % len(OLD_STATES)]
        add("auditrecord", id=n, action=action, from_state=states[0], to_state=states[1], **record)
    add("auditrecord", id=100, action="erasure_requested", from_state="-", to_state="-", **record)
    for n, status in enumerate(OLD_REFERRALS, start=1):
        add(
            "referral", id=n, case_id=5, municipality_code="GM0164", status=status, referred_on=day, referred_by="PRF-1"
        )
    for n, rule in enumerate(OLD_RULES, start=1):
        add("decision", id=n, case_id=5, kind="voortzetten", from_level=1, to_level=1, decided_on=day,
            recommended_kind="voortzetten", recommendation_rule=rule, **by)  # fmt: skip
    add("decision", id=100, case_id=5, kind="terugkeer", reason_code="verwijzing_afgewezen", from_level=4, to_level=3,
        decided_on=day, **by)  # fmt: skip
    message = dict(recipient_code="PRF-1", role="zorgcoordinator", sweep_date=day, subject="s", text="t", html="h")
    for n, (status, digest) in enumerate(OLD_OUTBOX, start=1):
        add("outbox", id=n, digest=digest, status=status, attempts=0, created_at=now, **message)
    for n, kind in enumerate(NOTICE_KINDS, start=1):
        add("notice", id=n, case_id=5, kind=kind, due_on=day, stage=0, school_days=0, recipient_code="PRF-1",
            sweep_date=day, outbox_id=1)  # fmt: skip


def _codes(conn: sa.Connection) -> dict[str, list]:
    def column(table: str, *names: str) -> list:
        return [tuple(r) for r in conn.execute(sa.text(f"SELECT {', '.join(names)} FROM {table} ORDER BY id"))]

    return {
        "oja_case": column("oja_case", "state"),
        "auditrecord": column("auditrecord", "action", "from_state", "to_state"),
        "referral": column("referral", "status"),
        "decision": column("decision", "kind", "recommendation_rule", "reason_code"),
        "outbox": column("outbox", "status", "digest"),
        "notice": column("notice", "kind"),
    }


def _translated(old: dict[str, list]) -> dict[str, list]:
    state = lambda code: code if code == "-" else new_code(CaseState, code)  # noqa: E731
    return {
        "oja_case": [(state(s),) for (s,) in old["oja_case"]],
        "auditrecord": [
            (new_code(AuditAction, a) if a != "triage_oja" else a, state(f), state(t)) for a, f, t in old["auditrecord"]
        ],  # fmt: skip
        "referral": [(new_code(ReferralStatus, s),) for (s,) in old["referral"]],
        "decision": [(k, r and new_code(RecommendationRule, r), c) for k, r, c in old["decision"]],
        "outbox": [(new_code(OutboxStatus, s), new_code(DigestKind, d)) for s, d in old["outbox"]],
        "notice": [(new_code(NoticeKind, k),) for (k,) in old["notice"]],
    }


def _audit_is_append_only(engine: sa.Engine) -> None:
    for statement in ("UPDATE auditrecord SET reason = 'x'", "DELETE FROM auditrecord"):
        with pytest.raises(sa.exc.DatabaseError, match="never changed or deleted"), engine.begin() as conn:
            conn.execute(sa.text(statement))


def _one_open_case_per_pupil(engine: sa.Engine, closed: str, open_state: str) -> None:
    """A pupil with an open case and two closed ones may get another closed one, not another open one."""
    row = dict(pupil_id=ACTIVE_PUPIL, school_code="40AB", level=1, urgency="normaal", opened_on=dt.date(2026, 11, 20),
               updated_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC), version=1)  # fmt: skip
    insert = sa.text(
        "INSERT INTO oja_case (id, ref, pupil_id, school_code, state, level, urgency, opened_on, updated_at, version) "
        "VALUES (:id, :ref, :pupil_id, :school_code, :state, :level, :urgency, :opened_on, :updated_at, :version)"
    )
    with engine.connect() as conn:
        with conn.begin() as tx:
            conn.execute(insert, {**row, "id": 900001, "ref": "OJA-2026-900001", "state": closed})
            tx.rollback()
        with pytest.raises(sa.exc.IntegrityError), conn.begin():
            conn.execute(insert, {**row, "id": 900002, "ref": "OJA-2026-900002", "state": open_state})


def _check_0008(url: str) -> None:
    migrate.upgrade(url, "0007")
    engine = get_engine(url)
    with engine.begin() as conn:
        _insert_old_codes(conn)
        old = _codes(conn)
    assert len(old["auditrecord"]) == len(AuditAction) + 1 and len(old["notice"]) == len(NoticeKind)

    migrate.upgrade(url)
    with engine.connect() as conn:
        upgraded = _codes(conn)
    assert upgraded == _translated(old)
    assert upgraded["oja_case"][ACTIVE_PUPIL - 1] == (CaseState.ACTIVE,) and (AuditAction.REFUSED,) in {
        r[:1] for r in upgraded["auditrecord"]
    }
    assert upgraded["decision"][-1] == (OtherDecision.RETURN, None, ReturnReason.REFERRAL_DECLINED)  # as they were
    _audit_is_append_only(engine)
    _one_open_case_per_pupil(engine, CaseState.CLOSED.value, CaseState.PLANNING.value)

    migrate.downgrade(url, "0007")
    with engine.connect() as conn:
        assert _codes(conn) == old
    _audit_is_append_only(engine)
    _one_open_case_per_pupil(engine, "closed", "planning")

    migrate.upgrade(url)
    with engine.connect() as conn:
        assert _codes(conn) == upgraded


def test_0008_translates_every_stored_code_to_dutch_and_back_on_sqlite(tmp_path):
    _check_0008(f"sqlite:///{tmp_path / 'oja.db'}")


@pytest.mark.postgres
def test_0008_translates_every_stored_code_to_dutch_and_back_on_postgresql(pg_url):
    _check_0008(pg_url)
