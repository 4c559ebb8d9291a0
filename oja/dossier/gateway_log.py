"""What the gateway writes to the access log: every change through it, allowed or refused, with the step (the
deployment), the run, the case and its pupil; every refused read, once a minute per login session and endpoint (the
UI asks again and again). Allowed reads are not logged: Prefect shows codes only."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from typing import Any

import anyio
from sqlmodel import col, select
from starlette.requests import Request
from starlette.websockets import WebSocket

from models.tables import Case, Pupil
from models.vocabulary import AccessAction, AccessOutcome
from oja.adapters.db import unit_of_work
from oja.dossier.front_guard import client_address
from oja.dossier.security import User
from oja.services.access_log import log_access

REFUSED_READ_EVERY = 60.0
CASE_REF = re.compile(r"^OJA-\d{4}-\d{6}$")
PUPIL_REF = re.compile(r"^LL-\d{6}$")


class Journal:
    def __init__(self) -> None:
        self._refused_reads: dict[tuple[str, str], float] = {}

    async def log(
        self,
        where: Request | WebSocket,
        user: User,
        action: AccessAction,
        outcome: AccessOutcome,
        *,
        reason: str,
        step: str | None = None,
        run_id: str | None = None,
        case_ref: str | None = None,
        pupil_ref: str | None = None,
    ) -> None:
        """One line, in a transaction of its own (a thread: the database is not async); a case's pupil looked up,
        so a parent's question "who changed my child's file" finds it too."""
        client = client_address(where)
        path = where.url.path

        def write() -> None:
            with unit_of_work() as session:
                pupil = pupil_ref
                if case_ref and not pupil:
                    query = select(Pupil.ref).join(Case, col(Case.pupil_id) == col(Pupil.id))
                    pupil = session.exec(query.where(Case.ref == case_ref)).first()
                log_access(
                    session,
                    professional_code=user.code,
                    role=user.role,
                    action=action,
                    outcome=outcome,
                    path=path,
                    client=client,
                    case_ref=case_ref,
                    pupil_refs=[pupil] if pupil else [],
                    reason=reason,
                    step=step,
                    run_id=run_id,
                )

        await anyio.to_thread.run_sync(write)

    async def step(
        self,
        request: Request,
        user: User,
        action: AccessAction,
        outcome: AccessOutcome,
        step: str | None,
        run_id: str | None,
        form: Mapping[str, Any],
        *,
        reason: str,
    ) -> None:
        """A step's line: the case (or pupil) named by its form, when the form names one as it should."""
        case_ref, pupil_ref = form.get("case_ref"), form.get("pupil_ref")
        await self.log(
            request,
            user,
            action,
            outcome,
            reason=reason,
            step=step,
            run_id=run_id,
            case_ref=case_ref if isinstance(case_ref, str) and CASE_REF.match(case_ref) else None,
            pupil_ref=pupil_ref if isinstance(pupil_ref, str) and PUPIL_REF.match(pupil_ref) else None,
        )

    async def refused_read(self, where: Request | WebSocket, user: User, rule: str) -> None:
        method = where.method if isinstance(where, Request) else "WS"
        key = (hashlib.sha256(user.token.encode()).hexdigest(), f"{method} {where.url.path}")  # per login session
        now = time.monotonic()
        if now - self._refused_reads.get(key, -REFUSED_READ_EVERY) < REFUSED_READ_EVERY:
            return
        self._refused_reads[key] = now
        await self.log(where, user, AccessAction.PREFECT_READ, AccessOutcome.REFUSED, reason=rule)
