"""The notices and the outbox in the database: the SQL that differs per dialect (SQLite, PostgreSQL) in one place.

- `insert_new_notices`: insert-or-ignore under the notice's unique key, returning what this transaction
  decided (a batch is one statement on PostgreSQL, its rows sent as arrays).
- `write_messages`: the rendered messages into the outbox, and every notice pointed at its message.
- `claim`: take a batch of pending messages for one run (`FOR UPDATE SKIP LOCKED` and a lease on PostgreSQL).
- `finish`: record a message's outcome, retried on a fresh connection when the database drops it.
- `carried`: what a message's notices are about now (each case's state, each erasure request's), to check just
  before sending that it still holds; `lapse` records one that no longer does, unsent, with the reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.reminders import NoticeKey
from models.tables import Case, ErasureRequest, Professional, utcnow
from models.tables_outbox import Notice, Outbox
from models.vocabulary import OutboxStatus
from notifications.messages import RenderedMessage

RECORD_ATTEMPTS = 6  # about 6 s of retries for a database that drops connections or restarts

# the notice columns a sweep fills, and their types for the arrays PostgreSQL unnests
_NOTICE_COLUMNS = {
    "subject_ref": sa.String,
    "case_id": sa.Integer,
    "kind": sa.String,
    "due_on": sa.Date,
    "stage": sa.Integer,
    "school_days": sa.Integer,
    "recipient_code": sa.String,
    "sweep_date": sa.Date,
}


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _unnest(values: Sequence[object], type_: Any, name: str) -> sa.Label[Any]:
    """A column of values sent as one array parameter and unnested by the server."""
    return sa.func.unnest(sa.cast(list(values), postgresql.ARRAY(type_))).label(name)


def insert_new_notices(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[NoticeKey, int]:
    """Insert the notices not decided before (rows of `_NOTICE_COLUMNS`); the ids of those this transaction
    decided, by their key. The unique key makes a decision happen once, also with two sweeps at once."""
    if not rows:
        return {}
    key = list(NoticeKey._fields)
    returning = (col(Notice.id), *(getattr(Notice, name) for name in key))
    if _postgres(session):
        source = sa.select(*[_unnest([r[c] for r in rows], t, c) for c, t in _NOTICE_COLUMNS.items()])
        batch = (
            postgresql.insert(Notice)
            .from_select(list(_NOTICE_COLUMNS), source)
            .on_conflict_do_nothing(index_elements=key)
            .returning(*returning)
        )
        result = session.connection().execute(batch)
    else:  # executemany with RETURNING: SQLAlchemy batches it ("insertmanyvalues") in one compiled statement
        each = sqlite.insert(Notice).on_conflict_do_nothing(index_elements=key).returning(*returning)
        result = session.connection().execute(each, list(rows))
    return {NoticeKey._make(row[1:]): row[0] for row in result}


@dataclasses.dataclass(frozen=True)
class Message:
    """One outbox message to write: to whom, what it holds (a `digest` kind), its text, and the ids of the
    notices it carries."""

    recipient: Professional
    digest: str
    sweep_date: dt.date
    rendered: RenderedMessage
    notice_ids: Sequence[int]

    def row(self) -> dict[str, Any]:
        """The outbox row: pending, not yet attempted."""
        person, message = self.recipient, self.rendered
        return {
            "recipient_code": person.code,
            "role": person.role,
            "to_address": person.email,
            "digest": self.digest,
            "sweep_date": self.sweep_date,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "created_at": utcnow(),
        }


def write_messages(session: Session, messages: Sequence[Message]) -> None:
    """Insert the outbox rows in one statement and point every notice at the message that carries it."""
    if not messages:
        return
    conn = session.connection()
    insert = sa.insert(Outbox).returning(col(Outbox.id), sort_by_parameter_order=True)
    ids = conn.execute(insert, [m.row() for m in messages]).scalars().all()
    links = [(n, outbox_id) for outbox_id, m in zip(ids, messages, strict=True) for n in m.notice_ids]
    if not links:
        return
    if _postgres(session):
        pairs = sa.select(
            _unnest([n for n, _ in links], sa.Integer, "nid"), _unnest([o for _, o in links], sa.Integer, "oid")
        ).subquery()
        conn.execute(sa.update(Notice).where(col(Notice.id) == pairs.c.nid).values(outbox_id=pairs.c.oid))
    else:
        conn.execute(
            sa.update(Notice).where(col(Notice.id) == sa.bindparam("nid")).values(outbox_id=sa.bindparam("oid")),
            [{"nid": n, "oid": o} for n, o in links],
        )


@dataclasses.dataclass(frozen=True)
class Claimed:
    """A pending message claimed for one run: what sending it needs."""

    id: int
    role: str
    to_address: str | None
    sweep_date: dt.date
    subject: str
    text: str
    html: str


def claim(engine: sa.Engine, limit: int, lease: dt.timedelta) -> tuple[str, list[Claimed]]:
    """Claim up to `limit` pending messages whose earlier claim (if any) has run out; the claim's token and
    the messages, in order. On PostgreSQL rows another run has locked are skipped, not waited for."""
    token = uuid.uuid4().hex
    now = utcnow()
    with Session(engine) as session, session.begin():
        claimable = sa.or_(col(Outbox.claimed_until).is_(None), col(Outbox.claimed_until) < now)
        pick = (
            select(col(Outbox.id))
            .where(col(Outbox.status) == OutboxStatus.PENDING.value, claimable)
            .order_by(col(Outbox.id))
        )
        pick = pick.limit(limit)
        if engine.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        session.execute(
            sa.update(Outbox)
            .where(col(Outbox.id).in_(pick.scalar_subquery()))
            .values(claim_token=token, claimed_until=now + lease, attempts=col(Outbox.attempts) + 1)
            .execution_options(synchronize_session=False)
        )
    fields = [getattr(Outbox, f.name) for f in dataclasses.fields(Claimed)]
    with Session(engine) as session:
        rows = session.execute(sa.select(*fields).where(col(Outbox.claim_token) == token).order_by(col(Outbox.id)))
        return token, [Claimed(**row._mapping) for row in rows]


def finish(engine: sa.Engine, outbox_id: int, token: str, values: Mapping[str, Any]) -> None:
    """Record a message's outcome (`values`) and end the claim. A dropped database connection is retried on
    a fresh one: a message the server took must not stay unrecorded (it would go again)."""
    for attempt in range(RECORD_ATTEMPTS):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # the commit need not wait for the disk: if *this process* dies the record is safe in
                    # the server already; only a crash of the database server itself within a fraction of
                    # a second could forget it, and then the message goes again with the same Message-ID
                    conn.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
                conn.execute(
                    sa.update(Outbox)
                    .where(col(Outbox.id) == outbox_id, col(Outbox.claim_token) == token)
                    .values(claim_token=None, **values)
                )
            return
        except sa.exc.OperationalError:
            if attempt == RECORD_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * 2**attempt)


@dataclasses.dataclass(frozen=True)
class Carried:
    """A notice a message carries, and what it is about now: its case's state, whether its erasure request is open."""

    notice_id: int
    kind: str
    subject_ref: str
    case_state: str | None
    request_open: bool


def carried(engine: sa.Engine, outbox_id: int) -> list[Carried]:
    """The notices of one message with the current state of what each is about (one read, no lock)."""
    request_open = sa.and_(col(ErasureRequest.id).is_not(None), col(ErasureRequest.decided_on).is_(None))
    stmt = (
        sa.select(col(Notice.id), col(Notice.kind), col(Notice.subject_ref), col(Case.state), request_open)
        .select_from(Notice)
        .outerjoin(Case, col(Case.id) == col(Notice.case_id))
        .outerjoin(ErasureRequest, col(ErasureRequest.ref) == col(Notice.subject_ref))
        .where(col(Notice.outbox_id) == outbox_id)
        .order_by(col(Notice.id))
    )
    with engine.connect() as conn:
        return [Carried(n, kind, ref, state, bool(is_open)) for n, kind, ref, state, is_open in conn.execute(stmt)]


def lapse(engine: sa.Engine, outbox_id: int, token: str, reason: str, release: Sequence[int]) -> None:
    """Record a message as lapsed (never sent), with the reason, and release the notices it carries that still
    hold, so that the next sweep decides them again in a message that is true; the others stay, its record."""
    with engine.begin() as conn:
        done = conn.execute(
            sa.update(Outbox)
            .where(col(Outbox.id) == outbox_id, col(Outbox.claim_token) == token)
            .values(claim_token=None, status=OutboxStatus.LAPSED.value, last_error=reason[:500])
        )
        if done.rowcount and release:
            conn.execute(sa.delete(Notice).where(col(Notice.id).in_(list(release))))
