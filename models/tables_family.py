"""The family's own way into the dossier (issue 26): a login per consent party of a pupil (`ouder_1`, `ouder_2`,
`leerling`), its invitation, and its sessions. Apart from the professionals' `Login` and `WebSession`
(`tables_dossier.py`): a family session never opens a professional's page, nor the other way round.

Secrets are stored only as hashes: the invitation's token and the session's token as SHA-256, the password as
Argon2id, the mailed one-time code as SHA-256 of the login and the code. The e-mail address is personal data
(like the one on `Parent` or `Pupil`): it never goes to Prefect.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.tables import ts_column, utcnow


class FamilyLogin(SQLModel, table=True):
    """One party of one pupil: a parent (`ouder_1`, `ouder_2`) or the pupil (`leerling`), by e-mail address."""

    __tablename__ = "family_login"
    __table_args__ = (sa.UniqueConstraint("pupil_id", "party", name="uq_family_login_party"),)

    id: int | None = Field(default=None, primary_key=True)
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    party: str = Field(max_length=12)  # models.family: ouder_1, ouder_2, leerling
    email: str = Field(max_length=254, unique=True, index=True)  # lower case, as the login name
    password_hash: str | None = Field(default=None, max_length=200)  # None: the invitation is not used yet
    password_set_at: dt.datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # the second factor: a 6-digit code mailed at the password step, and the step's own token (in a cookie)
    pending_hash: str | None = Field(default=None, max_length=64)
    code_hash: str | None = Field(default=None, max_length=64)
    code_expires_at: dt.datetime | None = Field(default=None, sa_column=ts_column(nullable=True))  # the step's end
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))


class FamilyInvitation(SQLModel, table=True):
    """A link mailed to a party: it sets the password once, within 7 days."""

    __tablename__ = "family_invitation"

    token_hash: str = Field(primary_key=True, max_length=64)
    login_id: int = Field(foreign_key="family_login.id", index=True)
    invited_by: str = Field(max_length=12)  # the professional's code
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    expires_at: dt.datetime = Field(sa_column=ts_column(nullable=False))
    used_at: dt.datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class FamilySession(SQLModel, table=True):
    """A family member's logged-in browser (cookie `oja_gezin`); only the token's SHA-256 is stored."""

    __tablename__ = "family_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    login_id: int = Field(foreign_key="family_login.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    last_seen_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))


class FamilyPasskey(SQLModel, table=True):
    """A passkey (WebAuthn credential) of a login: the second factor instead of the mailed code. Only public parts
    are stored: the credential's id and public key (COSE), and how often the authenticator says it signed."""

    __tablename__ = "family_passkey"

    id: int | None = Field(default=None, primary_key=True)
    login_id: int = Field(foreign_key="family_login.id", index=True)
    credential_id: str = Field(max_length=1400, unique=True)  # base64url, as the browser sends it
    public_key: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    sign_count: int = 0
    transports: str = Field(default="", max_length=100)  # comma-separated: internal, usb, hybrid, ...
    name: str = Field(max_length=40)  # "passkey 1", "passkey 2": nothing of the device or the person
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    last_used_at: dt.datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class FamilyPasskeyChallenge(SQLModel, table=True):
    """The challenge of one WebAuthn ceremony, bound to what the browser holds: the family session (adding a
    passkey) or the login's second step (signing in); only the SHA-256 of that token is the key. One at a time per
    binding, used once, for `family_passkeys.CHALLENGE_MINUTES`."""

    __tablename__ = "family_passkey_challenge"

    bound_hash: str = Field(primary_key=True, max_length=64)
    purpose: str = Field(max_length=12)  # registreren, inloggen
    login_id: int = Field(foreign_key="family_login.id", index=True)
    challenge: str = Field(max_length=100)  # base64url
    expires_at: dt.datetime = Field(sa_column=ts_column(nullable=False))


class ClosingAnswer(SQLModel, table=True):
    """The two outcome questions at a closing (`models.closing`), for one party: asked (and mailed once) when the
    case closed after an arrangement ran; answered, and changeable, until `open_until`. Codes only."""

    __tablename__ = "closing_answer"
    __table_args__ = (sa.UniqueConstraint("decision_id", "party", name="uq_closing_answer_party"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    decision_id: int = Field(foreign_key="decision.id")  # the closing decision: one answer set per party per closing
    party: str = Field(max_length=12)  # models.family: ouder_1, ouder_2, leerling
    asked_on: dt.date
    open_until: dt.date
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")  # the mail that asked
    satisfaction: str | None = Field(default=None, max_length=16)  # models.closing.Satisfaction
    without_help: str | None = Field(default=None, max_length=12)  # models.closing.WithoutHelp
    answered_at: dt.datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class FamilyConsentRequest(SQLModel, table=True):
    """A parent's or the pupil's own word on consent, given on their page (issue 26, 4): waiting for the consent
    step's run in Prefect, which takes it once (`oja/services/planning.py`, `record_consent`). Bound to the login
    that gave it: no field of a step's form can say that a parent consented without such a request.

    `token` is a random id, the only thing of the request a run's parameters carry (with the case's reference
    and the party's code). `status`: `wacht` (waiting for its run), `verwerkt` (taken: `outcome` says how),
    `niet_verzonden` (Prefect was not reached: nothing happened, the family may try again), `geweigerd` (the step
    refused it: nothing recorded, the family may try again)."""

    __tablename__ = "family_consent_request"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True, index=True)
    login_id: int = Field(foreign_key="family_login.id", index=True)
    party: str = Field(max_length=12)  # ouder_1, ouder_2, leerling: the login's party
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    plan_id: int = Field(foreign_key="plan.id")
    plan_version: int
    granted: bool
    status: str = Field(default="wacht", max_length=16)
    outcome: str | None = Field(default=None, max_length=32)  # models.lifecycle.AuditAction, once taken
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    done_at: dt.datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
