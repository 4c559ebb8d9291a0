"""`oja login family-code <email>` (issue 26): the newest login code mailed to a family login, read from the local
mail sink of `oja start` (the demo)."""

from __future__ import annotations

import os
import time

import pytest
from typer.testing import CliRunner

from notifications.send import FolderSender
from oja.config import get_settings
from oja.entrypoints.cli import app
from oja.services.family_mail import code_message

runner = CliRunner()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OJA_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_the_newest_code_to_that_address_is_printed(home):
    sink = FolderSender(home / "mail")
    sink.send("ouder@gezin.example", code_message("111111", 10))
    sink.send("ander@gezin.example", code_message("333333", 10))
    older = time.time() - 60
    for path in (home / "mail").glob("*.eml"):
        os.utime(path, (older, older))
    sink.send("Ouder@Gezin.example", code_message("222222", 10))
    done = runner.invoke(app, ["login", "family-code", "ouder@gezin.example"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "222222"


def test_no_code_for_that_address_says_so(home):
    done = runner.invoke(app, ["login", "family-code", "niemand@gezin.example"])
    assert done.exit_code == 1 and "geen inlogcode voor niemand@gezin.example" in done.output
