"""The same Alembic migrations build the schema of the models on SQLite and on PostgreSQL, and undo it; 0008 turns
the codes in existing rows into Dutch and back."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from enum import StrEnum

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models.tables  # noqa: F401
import models.tables_dossier  # noqa: F401
from models.decisions import RecommendationRule
from models.lifecycle import AuditAction, CaseState
from models.reminders import NoticeKind
from models.vocabulary import DigestKind, OtherDecision, OutboxStatus, ReferralStatus, ReturnReason
from oja.adapters import migrate
from oja.adapters.db import get_engine

HEAD = "0023"  # the newest migration


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

# The codes before 0008 were the enums' member names in lower case, but for the two erasure decisions.
RENAMED = {"erasure_toegewezen": AuditAction.ERASURE_GRANTED, "erasure_afgewezen": AuditAction.ERASURE_REFUSED}
NOTICE_AFTER_0008 = {  # the follow-up of an accepted referral and the planned end (issue 23): no English code
    NoticeKind.REFERRAL_CHECK_REMINDER,
    NoticeKind.REFERRAL_CHECK_DUE,
    NoticeKind.REFERRAL_CHECK_OVERDUE,
    NoticeKind.PLANNED_END_REMINDER,
    NoticeKind.PLANNED_END_DUE,
    NoticeKind.PLANNED_END_PASSED,
}
NOTICE_KINDS = {k.name.lower(): k.value for k in NoticeKind if k not in NOTICE_AFTER_0008}
OLD_STATES = [s.name.lower() for s in CaseState]
AFTER_0008 = {
    AuditAction.DESCRIBE_GOALS,
    AuditAction.CONSENT_NOT_NEEDED,
    AuditAction.WITHDRAW_CONSENT,  # issue 26
}  # actions that came after 0008: no English code to translate
OLD_ACTIONS = [a.name.lower() for a in AuditAction if a.value not in RENAMED.values() and a not in AFTER_0008] + list(
    RENAMED
)
OLD_REFERRALS = [s.name.lower() for s in ReferralStatus]
OLD_RULES = [r.name.lower() for r in RecommendationRule]
OUTBOX_AFTER_0008 = {OutboxStatus.LAPSED}  # 0012
OLD_OUTBOX = [
    (s.name.lower(), d.name.lower())
    for s, d in zip([s for s in OutboxStatus if s not in OUTBOX_AFTER_0008], DigestKind, strict=True)
]
ACTIVE_PUPIL = OLD_STATES.index("active") + 1


def new_code(enum: type[StrEnum], old: str) -> str:
    if enum is NoticeKind:
        return NOTICE_KINDS[old]
    return RENAMED[old].value if old in RENAMED else enum[old.upper()].value


# what the early revisions a populated database starts at (0002, 0005) do not have yet
LATER_TABLES = {"measurement", "grouparrangement", "groupmember"}  # 0004, 0005
LATER_COLUMNS = {
    "decision": {"recommended_kind", "recommendation_rule", "override_reason"},  # 0004
    "referral": {"responded_on", "responded_by"},  # 0005
}


def _inserter(conn: sa.Connection):
    """add(table, **row): one INSERT; a table or column the database's revision does not have yet is left out
    (LATER_TABLES, LATER_COLUMNS), any other unknown one fails."""
    inspector = sa.inspect(conn)
    columns = {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}

    def add(table: str, **row):
        if table not in columns:
            assert table in LATER_TABLES, table
            return None
        assert set(row) - columns[table] <= LATER_COLUMNS.get(table, set()), (table, set(row) - columns[table])
        row = {k: v for k, v in row.items() if k in columns[table]}
        return conn.execute(
            sa.text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row
        )

    return add


def _insert_old_codes(conn: sa.Connection) -> None:
    """A region at revision 0007 (or earlier: _inserter) whose rows use every code as it was written before 0008."""
    add = _inserter(conn)

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
    assert len(old["auditrecord"]) == len(AuditAction) - len(AFTER_0008) + 1 and len(old["notice"]) == len(NOTICE_KINDS)

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


# ---- a populated database upgrades and downgrades with every row kept ----------------------------------------
# A batch operation on SQLite copies a table, drops it and renames the copy: 0003 does so to decision and outbox
# (notices refer to it), 0005 to referral, 0006 to pupil (cases and parents refer to it), and their downgrades
# (0004's too, to decision) likewise. With the engine's foreign keys on, dropping a table others refer to failed
# ("FOREIGN KEY constraint failed"); the migrations run with them off (migrations/env.py).

CODES: dict[tuple[str, str], type[StrEnum]] = {  # the columns 0008 translates
    ("oja_case", "state"): CaseState,
    ("auditrecord", "from_state"): CaseState,
    ("auditrecord", "to_state"): CaseState,
    ("auditrecord", "action"): AuditAction,
    ("referral", "status"): ReferralStatus,
    ("decision", "recommendation_rule"): RecommendationRule,
    ("notice", "kind"): NoticeKind,
    ("outbox", "status"): OutboxStatus,
    ("outbox", "digest"): DigestKind,
}
UNTRANSLATED = {None, "-", "triage_oja"}  # no state, and the one action whose code stayed


def _populate(conn: sa.Connection) -> None:
    """A region in use, at an early revision: every table the revision has holds rows, and the rows refer to
    each other as the engine writes them (a case's plans, goals, reviews and scores; notices in the outbox; ...)."""
    _insert_old_codes(conn)
    add = _inserter(conn)
    now, day = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC), dt.date(2026, 11, 23)
    case = 5  # the active case (_insert_old_codes)
    add("provider", code="PRV-A", name="Aanbieder A")
    add("professional", code="PRF-2", name="Hulpverlener", role="jeugdhulpverlener", email="h@example.org",
        provider_code="PRV-A")  # fmt: skip
    add("professional", code="PRF-3", name="Wijkteam", role="wijkteam", municipality_code="GM0164")
    for pupil in (1, ACTIVE_PUPIL):
        add("parent", pupil_id=pupil, position=1, name="Ouder Een", has_authority=True)
        add("parent", pupil_id=pupil, position=2, name="Ouder Twee", has_authority=False)
    add("signal", case_id=case, source="school", domains="leren,verzuim", urgency="normaal", received_on=day,
        registered_by="PRF-1", created_at=now)  # fmt: skip
    for version in (1, 2):
        add("plan", id=version, case_id=case, version=version, start_on=day, planned_end_on=dt.date(2027, 6, 30),
            review_cadence_weeks=6, regie_holder_code="PRF-1", drafted_by="PRF-1", drafted_on=day,
            drafted_at=now)  # fmt: skip
    for number, (domain, measure) in enumerate((("leren", "gas"), ("verzuim", "aanwezigheid_pct")), start=1):
        add("goal", id=number, plan_id=2, number=number, domain=domain, measure=measure, baseline=0, target=2,
            description="Doel")  # fmt: skip
    add("intervention", plan_id=2, number=1, provider_code="PRV-A", professional_code="PRF-2", hours_per_week=2.5,
        setting="individueel", swv_share_pct=60)  # fmt: skip
    for party in ("ouder_1", "leerling"):
        add("consentrecord", case_id=case, plan_id=2, party=party, granted=True, recorded_on=day, recorded_by="PRF-1")
    add("review", id=1, case_id=case, plan_id=2, held_on=day, attendance_pct=92, wellbeing=7, pupil_view="positief",
        parent_view="neutraal", satisfaction=8, safety_concern=False, delivered_as_planned=True,
        recorded_by="PRF-2")  # fmt: skip
    for goal in (1, 2):
        add("goalscore", review_id=1, goal_id=goal, gas=1)
        add("measurement", goal_id=goal, measured_on=day, value=1.5, recorded_by="PRF-2")
    add("decision", id=101, case_id=case, review_id=1, kind="voortzetten", from_level=1, to_level=1, decided_on=day,
        decided_by="PRF-1", recommended_kind="opschalen", recommendation_rule="on_track",
        override_reason="professioneel_oordeel")  # fmt: skip
    add("referral", id=100, case_id=case, municipality_code="GM0164", status="accepted", referred_on=day,
        referred_by="PRF-1", responded_on=day, responded_by="PRF-3")  # fmt: skip
    add("grouparrangement", code="GRP-1", provider_code="PRV-A", professional_code="PRF-2", school_code="40AB",
        capacity=8, hours_per_week=4)  # fmt: skip
    add("groupmember", group_code="GRP-1", case_id=case, joined_on=day)


def _contents(conn: sa.Connection, columns: dict[str, list[str]] | None = None) -> dict[str, list[dict]]:
    """Every row of every table (or of `columns`' tables, those columns), in the order of the primary key."""
    inspector = sa.inspect(conn)
    if columns is None:
        tables = set(inspector.get_table_names()) - {"alembic_version"}
        columns = {t: [c["name"] for c in inspector.get_columns(t)] for t in tables}
    return {
        table: [
            dict(row._mapping)
            for row in conn.execute(
                sa.text(
                    f"SELECT {', '.join(names)} FROM {table} "
                    f"ORDER BY {', '.join(inspector.get_pk_constraint(table)['constrained_columns'])}"
                )
            )
        ]
        for table, names in sorted(columns.items())
    }


def _in_dutch(contents: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The rows as 0008 leaves them: the same, with every code in Dutch."""

    def code(table: str, column: str, value):
        enum = CODES.get((table, column))
        return value if enum is None or value in UNTRANSLATED else new_code(enum, value)

    return {t: [{c: code(t, c, v) for c, v in row.items()} for row in rows] for t, rows in contents.items()}


def _references_hold(engine: sa.Engine) -> None:
    """SQLite: the engine's connection (the one the migrations used, back in the pool) enforces foreign keys
    again, and no row refers to a row that does not exist."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def _check_populated(url: str, start: str) -> None:
    migrate.upgrade(url, start)
    engine = get_engine(url)
    with engine.begin() as conn:
        _populate(conn)
    with engine.connect() as conn:
        before = _contents(conn)
    assert all(before.values()), [t for t, rows in before.items() if not rows]  # every table has rows
    columns = {table: list(rows[0]) for table, rows in before.items()}

    migrate.upgrade(url)
    _references_hold(engine)
    with engine.connect() as conn:
        upgraded = _contents(conn, columns)
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == HEAD
    assert {t: len(rows) for t, rows in upgraded.items()} == {t: len(rows) for t, rows in before.items()}
    assert upgraded == _in_dutch(before)
    assert upgraded["outbox"][-1]["status"] == OutboxStatus.UNDELIVERABLE  # translated by 0008

    migrate.downgrade(url, start)
    _references_hold(engine)
    with engine.connect() as conn:
        assert _contents(conn) == before

    migrate.upgrade(url)
    _references_hold(engine)
    with engine.connect() as conn:
        assert _contents(conn, columns) == upgraded


@pytest.mark.parametrize("start", ["0002", "0005"])
def test_a_populated_database_upgrades_and_downgrades_with_every_row_on_sqlite(tmp_path, start):
    _check_populated(f"sqlite:///{tmp_path / 'oja.db'}", start)


@pytest.mark.postgres
def test_a_populated_database_upgrades_and_downgrades_with_every_row_on_postgresql(pg_url):
    _check_populated(pg_url, "0005")  # at 0002 'undeliverable' did not fit outbox.status on PostgreSQL (0003)


def test_a_row_that_refers_to_nothing_fails_the_sqlite_migration_and_names_its_table(tmp_path):
    """Written behind the engine's back (foreign keys are off by default in a plain SQLite connection): a notice
    of a case that does not exist. The migrations run, and then fail loudly; the engine enforces foreign keys."""
    path = tmp_path / "oja.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url, "0007")
    engine = get_engine(url)
    with engine.begin() as conn:
        _insert_old_codes(conn)
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        raw.execute("UPDATE notice SET case_id = 999 WHERE id = 1")

    with pytest.raises(migrate.BrokenReferences, match=r"notice -> oja_case: 1 row\(s\), rowid 1$"):
        migrate.upgrade(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
