"""Request bodies in the dossier: the login is checked before a body is read, and every body has a cap.

- A request with a body to a page behind the login, without a live session, goes to the login page (303, as the
  page itself would send it) before one byte of its body is read: an anonymous client makes the dossier parse or
  store nothing.
- Every body has a cap by route: the pupil import its file's limit (`pupil_import.MAX_BYTES`, with room for the
  form around the file), every other form 64 kB. A bigger body is answered with 413 and the cap in Dutch: by its
  Content-Length before anything is read, and (sent in chunks) as soon as it passes the cap.
- Both answers close the connection, so the rest of the body is never read.

The gateway (`/prefect/...`, `/api/...`) is not behind this: it caps its own bodies (`gateway_proxy.read_body`).
"""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oja.adapters.db import unit_of_work
from oja.dossier.family_security import current_family, is_family_path, needs_family_login
from oja.dossier.security import current_user, to_login
from oja.services.pupil_import import MAX_BYTES

FORM_LIMIT = 64 * 1024
IMPORT_PATH = "/leerlingen/import"
IMPORT_LIMIT = MAX_BYTES + FORM_LIMIT  # the file, and the form's boundaries, headers and CSRF token
OPEN_PATHS = frozenset({"/inloggen", "/gezond"})  # and /static/...: no login needed
CLOSE = {"Connection": "close"}


def limit_of(path: str) -> int:
    return IMPORT_LIMIT if path == IMPORT_PATH else FORM_LIMIT


def needs_login(path: str) -> bool:
    """Whether a body to `path` needs a session first: a professional's, or for the family's pages a family one
    (their login, code and password forms need none)."""
    if is_family_path(path):
        return needs_family_login(path)
    return path not in OPEN_PATHS and not path.startswith("/static/")


def too_large(limit: int) -> Response:
    if limit == IMPORT_LIMIT:
        text = f"Het bestand is te groot: hoogstens {MAX_BYTES // (1024 * 1024)} MB. Splits het bestand."
    else:
        text = f"Het formulier is te groot: hoogstens {limit // 1024} kB. Er is niets opgeslagen."
    return PlainTextResponse(text, status_code=413, headers=CLOSE)


class BodyTooLarge(Exception):
    """The body passed its cap while it was read."""


class BodyLimit:
    """The ASGI middleware of this module (registered in `oja.dossier.app`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path: str = scope["path"]
        if needs_login(path) and not await _logged_in(request):
            response: Response = (
                to_login(request) if not is_family_path(path) else RedirectResponse("/gezin/inloggen", 303)
            )
            response.headers.update(CLOSE)
            await response(scope, receive, send)
            return
        limit = limit_of(path)
        declared = request.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            await too_large(limit)(scope, receive, send)
            return
        await self._capped(scope, receive, send, limit)

    async def _capped(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """The page, reading at most `limit` bytes: past it, whatever the page answers (a parse error) is
        replaced by the 413."""
        received, over, started = 0, False, False

        async def limited_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not started:
            await too_large(limit)(scope, receive, send)


def _has_body(scope: Scope) -> bool:
    headers = dict(scope.get("headers", []))
    if b"transfer-encoding" in headers:
        return True
    length = headers.get(b"content-length", b"").strip()
    return bool(length) and length != b"0"


async def _logged_in(request: Request) -> bool:
    def check() -> bool:
        with unit_of_work() as session:
            if is_family_path(request.url.path):
                return current_family(request, session) is not None
            return current_user(request, session) is not None

    return await anyio.to_thread.run_sync(check)
