"""The pupil import between its preview and its confirmation: the file is kept on the server (`ImportPreview`),
bound to the session that previewed it, and the page carries only a random id. The confirmation takes the file
by that id, for the same session only, once, within `PREVIEW_TIME`; then it is checked again and imported.

A preview goes with its session (log-out, idle time: the database removes it with the session), with the next
preview of the same session, at its confirmation, or at the next preview of anyone after `PREVIEW_TIME`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlmodel import Session, col, delete

from models.tables_dossier import ImportPreview

PREVIEW_TIME = dt.timedelta(minutes=30)
GONE = (
    "deze voorvertoning van de import is verlopen of hoort bij een andere sessie; er is niets geïmporteerd. "
    "Kies het bestand opnieuw en controleer het"
)


def _session_hash(token: str) -> str:
    """As `logins` stores a session: the SHA-256 of its token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite gives it back naive


def keep_preview(session: Session, *, token: str, content: bytes, now: dt.datetime) -> str:
    """Keep `content` for the session of `token` (the only preview of that session); returns its id."""
    key = _session_hash(token)
    session.exec(delete(ImportPreview).where(col(ImportPreview.created_at) < now - PREVIEW_TIME))
    session.exec(delete(ImportPreview).where(col(ImportPreview.session_hash) == key))
    preview_id = secrets.token_urlsafe(24)
    session.add(ImportPreview(id=preview_id, session_hash=key, content=content, created_at=now))
    session.flush()
    return preview_id


def take_preview(session: Session, preview_id: str, *, token: str, now: dt.datetime) -> bytes | None:
    """The file of this preview, removed (in the caller's transaction); None when there is no such preview, it
    is of another session, or it has expired."""
    if not preview_id or len(preview_id) > 43 or not preview_id.isascii():
        return None
    found = session.get(ImportPreview, preview_id)
    if found is None or not hmac.compare_digest(found.session_hash, _session_hash(token)):
        return None
    if now - _as_utc(found.created_at) >= PREVIEW_TIME:
        session.delete(found)
        return None
    session.delete(found)
    return found.content
