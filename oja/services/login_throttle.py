"""Failed logins counted per client address and per login name, with a delay that grows (NIST SP 800-63B
5.2.2, the OWASP Authentication Cheat Sheet): so that a script cannot guess passwords, and cannot keep a real
user out either.

- An address with `CLIENT_FREE` failures waits before it may try again: `CLIENT_DELAY`, doubled at every further
  failure, at most `MAX_DELAY`. Whatever name it tries: answered 429 with Retry-After, nothing checked.
- A login name with `LOGIN_FREE` failures is locked the same way (`LOGIN_DELAY`, doubling), but only for the
  addresses that have failed themselves: the real user, from an address without failures, still logs in with the
  right password and a valid code. A failure from such an address counts, and that address then waits too.
- A name is counted as typed, known or not: a locked unknown name answers as a locked real one (no telling).
- Failures are forgotten an hour after the last one; a good login forgets those of its name.

Keys are SHA-256 digests: what was typed as a name may be a password in the wrong field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from models.tables_dossier import LoginThrottle

CLIENT_FREE = 10  # failures from one address (an office behind one address makes typos too) before it waits
LOGIN_FREE = 5  # failures of one login name before addresses that failed wait for it
CLIENT_DELAY = dt.timedelta(seconds=30)
LOGIN_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(hours=1)


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


def client_key(client: str | None) -> str:
    return hashlib.sha256(("client:" + (client or "onbekend")).encode()).hexdigest()


def login_key(name: str) -> str:
    typed = (name or "").strip().upper().encode("utf-8", "surrogatepass")
    return hashlib.sha256(b"login:" + typed).hexdigest()


def _live(session: Session, key: str, now: dt.datetime) -> LoginThrottle | None:
    row = session.get(LoginThrottle, key)
    if row is None or now - _as_utc(row.last_failure_at) > FORGET_AFTER:
        return None
    return row


def _wait(row: LoginThrottle | None, now: dt.datetime) -> int | None:
    if row is None or row.blocked_until is None or _as_utc(row.blocked_until) <= now:
        return None
    return max(1, math.ceil((_as_utc(row.blocked_until) - now).total_seconds()))


def wait_seconds(session: Session, client: str | None, name: str, *, now: dt.datetime) -> int | None:
    """The seconds this address must wait before it may try this name, or None: it may try now."""
    address = _live(session, client_key(client), now)
    waiting = _wait(address, now)
    if waiting is not None or address is None or address.failures == 0:
        return waiting  # blocked itself; or an address without failures, which a locked name does not stop
    return _wait(_live(session, login_key(name), now), now)


def _count(session: Session, key: str, free: int, delay: dt.timedelta, now: dt.datetime) -> bool:
    """One more failure for the key; True when it blocks (the delay doubles with every failure past `free`)."""
    row = session.get(LoginThrottle, key, with_for_update=True)
    if row is None:
        row = LoginThrottle(key=key, failures=0, last_failure_at=now)
        try:
            with session.begin_nested():  # another request may have added it just now
                session.add(row)
        except IntegrityError:
            row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
            assert row is not None
    elif now - _as_utc(row.last_failure_at) > FORGET_AFTER:
        row.failures, row.blocked_until = 0, None
    row.failures += 1
    row.last_failure_at = now
    blocks = row.failures >= free
    if blocks:
        row.blocked_until = now + min(MAX_DELAY, delay * 2 ** min(row.failures - free, 16))
    session.add(row)
    return blocks


def failed(session: Session, client: str | None, name: str, *, now: dt.datetime) -> bool:
    """Count a failed attempt for the address and the name; True when the name is locked by it. Rows quiet for
    longer than `FORGET_AFTER` (anyone's) are removed on the way."""
    session.exec(delete(LoginThrottle).where(col(LoginThrottle.last_failure_at) < now - FORGET_AFTER))
    _count(session, client_key(client), CLIENT_FREE, CLIENT_DELAY, now)
    return _count(session, login_key(name), LOGIN_FREE, LOGIN_DELAY, now)


def forget(session: Session, name: str) -> None:
    """Forget the failures of a login name (a good login, a new password, `oja login unlock`)."""
    session.exec(delete(LoginThrottle).where(col(LoginThrottle.key) == login_key(name)))
