"""Request bodies (issue 24, item 6): a page behind the login answers an anonymous body with the login page before
reading it, and every body has a cap (the import its file's limit, every other form 64 kB) answered with 413 in
Dutch, by its declared length and while it streams in chunks, without reading the rest.

The requests are written on a raw socket and the body is never finished: a server that waited for the whole body
(to parse it, or to spool it to a temp file) would not answer at all, and the test would time out."""

from __future__ import annotations

import glob
import os
import select
import socket
import tempfile
import time
import urllib.parse

import pytest

from oja.dossier.body_limits import FORM_LIMIT, IMPORT_LIMIT
from tests.dossier.conftest import SESSION_COOKIE

BOUNDARY = "oja-grens"
ANSWER_WITHIN = 5.0  # seconds: the server answers before the body is done, or the test fails
HUGE = 300 * 1024 * 1024


def _address(dossier) -> tuple[str, int]:
    url = urllib.parse.urlsplit(dossier.base_url)
    assert url.hostname and url.port
    return url.hostname, url.port


def _head(path: str, *, length: int | None, token: str | None, multipart: bool) -> bytes:
    kind = f"multipart/form-data; boundary={BOUNDARY}" if multipart else "application/x-www-form-urlencoded"
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {kind}"]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    if token:
        lines.append(f"Cookie: {SESSION_COOKIE}={token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    deadline = time.monotonic() + ANSWER_WITHIN
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        part = sock.recv(65536)
        if not part:
            break
        data += part
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines if ":" in line)}
    want = int(headers.get("content-length", "0"))
    while len(rest) < want and time.monotonic() < deadline:
        part = sock.recv(65536)
        if not part:
            break
        rest += part
    return int(status_line.split()[1]), headers, rest


def post_unfinished(
    dossier, path: str, *, token: str | None = None, declared: bool, multipart: bool = False, send: int
) -> tuple[int, dict[str, str], bytes, float]:
    """POST a body to `path` that is never finished: its first `send` bytes only (declared: a Content-Length of
    300 MB; else in chunks of 16 kB, without the last chunk). Returns the status, headers, body and seconds."""
    started = time.monotonic()
    with socket.create_connection(_address(dossier), timeout=ANSWER_WITHIN) as sock:
        sock.sendall(_head(path, length=HUGE if declared else None, token=token, multipart=multipart))
        piece = b"x" * 16384
        if multipart:
            part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="bestand"; filename="a.csv"\r\n\r\n'
            piece = part.encode()
            piece += b"x" * (16384 - len(piece))
        sent = 0
        try:
            while sent < send:
                if select.select([sock], [], [], 0)[0]:
                    break  # answered already
                sock.sendall(piece if declared else f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sent += len(piece)
                piece = b"x" * 16384
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection: its answer is read below
        try:
            status, headers, body = _answer(sock)
        except TimeoutError:
            pytest.fail(f"no answer from {path} within {ANSWER_WITHIN} s: the server waits for the whole body")
    return status, headers, body, time.monotonic() - started


def _temp_files() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "*")))


PAGES = ["/leerlingen/import", "/leerlingen/nieuw", "/uitloggen", "/casus/OJA-2026-0001/doelen"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_anonymous_body_goes_to_the_login_page_unread(dossier, path, declared):
    before = _temp_files()
    status, headers, _body, seconds = post_unfinished(
        dossier, path, declared=declared, multipart=path == "/leerlingen/import", send=4 * 1024 * 1024
    )
    assert status == 303 and headers["location"].startswith("/inloggen?volgende=")
    assert headers.get("connection") == "close", "the rest of the body is never read"
    assert seconds < ANSWER_WITHIN
    assert _temp_files() - before == set(), "no temp file for an anonymous upload"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_big_login_form_is_refused_with_413_unread(dossier, declared):
    status, headers, body, _ = post_unfinished(dossier, "/inloggen", declared=declared, send=1024 * 1024)
    assert status == 413 and headers.get("connection") == "close"
    assert "te groot" in body.decode() and "64 kB" in body.decode()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_big_form_of_a_logged_in_user_is_refused_with_413(dossier, declared):
    user = dossier.as_user("PRF-0001")
    status, headers, body, _ = post_unfinished(
        dossier, "/leerlingen/nieuw", token=user.token, declared=declared, send=1024 * 1024
    )
    assert status == 413 and headers.get("connection") == "close"
    assert "te groot" in body.decode()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_big_upload_of_a_logged_in_user_is_refused_with_413_without_a_temp_file(dossier, declared):
    user = dossier.as_user("PRF-0001")
    before = _temp_files()
    status, headers, body, _ = post_unfinished(
        dossier, "/leerlingen/import", token=user.token, declared=declared, multipart=True, send=IMPORT_LIMIT + 65536
    )
    assert status == 413 and headers.get("connection") == "close"
    assert "te groot" in body.decode() and "2 MB" in body.decode()
    assert _temp_files() - before == set()


def test_a_form_within_its_cap_still_works(dossier):
    user = dossier.as_user("PRF-0001")
    response = user.post("/leerlingen/nieuw", data={"csrf": user.csrf, "given_name": "x" * (FORM_LIMIT // 2)})
    assert response.status_code == 422  # read and checked: the fields' errors, not a 413
