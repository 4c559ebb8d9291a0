"""The dossier's own tables: who may log in (a password hash and a TOTP secret), the sessions of those logged
in, and the access log (NEN 7513) of every view of personal data, every change and every refusal.

Nothing here is personal data of a pupil: the access log names a pupil by pseudonym (`LL-000123`) and a case by
its reference, the professional by code. Passwords are stored only as Argon2id hashes, session tokens only as
their SHA-256 (a copy of the table opens no session). The one exception is `import_preview`: a school's CSV file
between its preview and its confirmation, for at most half an hour and only while its session lives.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.tables import ts_column, utcnow


class Login(SQLModel, table=True):
    """A professional's way into the dossier: a password (its Argon2id hash) and a second factor (TOTP)."""

    professional_code: str = Field(foreign_key="professional.code", primary_key=True, max_length=12)
    password_hash: str = Field(max_length=200)
    password_set_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    totp_secret: str | None = Field(default=None, max_length=64)  # base32; None: not enrolled, no login yet
    totp_last_step: int | None = None  # the 30-second step of the last code accepted: a code counts once
    failed_attempts: int = 0  # unused since 0014: the failures are counted in `login_throttle`
    locked_until: dt.datetime | None = Field(default=None, sa_column=ts_column(nullable=True))  # idem


class LoginThrottle(SQLModel, table=True):
    """The failed logins of one client address, or of one login name as typed (a known one or not: both are
    counted alike, so the answers tell nobody which logins exist). The key is a SHA-256, never what was typed
    (it may be a password in the wrong field). Rows quiet for an hour are removed."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=64)
    failures: int = 0  # since the row's failures were last forgotten (a good login, an hour of quiet)
    last_failure_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    blocked_until: dt.datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class WebSession(SQLModel, table=True):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    professional_code: str = Field(foreign_key="professional.code", index=True, max_length=12)
    csrf_token: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    last_seen_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))


class AccessLogEntry(SQLModel, table=True):
    """One line of the access log: who, when, from where, which pupil or case, what, allowed or refused.
    Written, never changed (triggers refuse an update or delete, as for the audit trail)."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    professional_code: str = Field(max_length=12, index=True)  # as typed at a failed login: not a foreign key
    role: str | None = Field(default=None, max_length=32)  # models.vocabulary.Role
    action: str = Field(max_length=32)  # models.vocabulary.AccessAction
    outcome: str = Field(max_length=12)  # models.vocabulary.AccessOutcome
    pupil_ref: str | None = Field(default=None, max_length=12, index=True)
    case_ref: str | None = Field(default=None, max_length=20, index=True)
    path: str = Field(max_length=200)  # the page's path (no personal data is ever in a path)
    # the client's IP address; through a trusted proxy the forwarded one and the proxy: "203.0.113.99 via 127.0.0.1"
    client: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=300)  # a refusal's rule, or what was changed (codes)
    step: str | None = Field(default=None, max_length=64)  # through the gateway: the Prefect deployment (the step)
    run_id: str | None = Field(default=None, max_length=36)  # and the flow run created or changed


class ImportPreview(SQLModel, table=True):
    """A pupil import's file between its preview and its confirmation, kept for the session that previewed it
    (gone with that session, at the confirmation, or after `import_previews.PREVIEW_TIME`). The page carries
    only the random id; the confirmation imports these bytes, checked again."""

    __tablename__ = "import_preview"

    id: str = Field(primary_key=True, max_length=43)
    session_hash: str = Field(
        sa_column=sa.Column(
            sa.String(64), sa.ForeignKey("web_session.token_hash", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    content: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
