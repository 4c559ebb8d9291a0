"""Flow tests: real flow runs on one Prefect test server per session, on a real engine database."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL
from prefect.testing.utilities import prefect_test_harness

from models.schooldays import as_of, previous_school_day
from models.schooldays import today as amsterdam_today
from oja import services as sv
from oja.adapters import migrate
from oja.adapters.db import get_engine, unit_of_work
from oja.config import get_settings


@pytest.fixture(scope="session", autouse=True)
def on_a_school_day():
    """The flow tests take cases from signal to review in one go, as of a school day: on a Saturday, a Sunday or in a
    holiday, as of the school day before it (an arrangement started on a Saturday starts on Monday)."""
    with as_of(previous_school_day(amsterdam_today(), "noord")):
        yield


@pytest.fixture(scope="session")
def prefect_server():
    """One Prefect test server for the whole session; yields the path of its SQLite database."""
    with prefect_test_harness(server_startup_timeout=60):
        url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
        yield Path(url.split("///", 1)[1])
    logging.getLogger("prefect").handlers.clear()


@pytest.fixture(scope="session")
def engine_url(tmp_path_factory, prefect_server):
    """The engine's own database for the flows: a migrated SQLite file, set through OJA_DATABASE_URL."""
    folder = tmp_path_factory.mktemp("engine")
    url = f"sqlite:///{folder / 'oja.db'}"
    previous = os.environ.get("OJA_DATABASE_URL")
    os.environ["OJA_DATABASE_URL"] = url
    get_settings.cache_clear()
    migrate.upgrade(url)
    with unit_of_work(get_engine(url)) as s:
        sv.upsert_municipality(s, code="GM0164", name="Hengelo")
        sv.upsert_municipality(s, code="GM0147", name="Borne")
        sv.upsert_school(s, code="20XY", name="Test College", holiday_region="noord", municipality_code="GM0164")
        sv.upsert_provider(s, code="PRV-A", name="Aanbieder A")
        sv.upsert_professional(s, code="PRF-T1", name="Coördinator T", role="zorgcoordinator", school_code="20XY")
        sv.upsert_professional(s, code="PRF-T2", name="Hulpverlener T", role="jeugdhulpverlener", provider_code="PRV-A")
        sv.upsert_professional(s, code="PRF-T3", name="Wijkcoach T", role="wijkteam", municipality_code="GM0147")
    yield url
    if previous is None:
        os.environ.pop("OJA_DATABASE_URL", None)
    else:
        os.environ["OJA_DATABASE_URL"] = previous
    get_settings.cache_clear()
    get_engine(url).dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory) -> Iterator[str]:
    """A Prefect server with its UI (the test server has none), on a free port; its address."""
    home = tmp_path_factory.mktemp("prefect-ui")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_API_PORT=str(port))
    prefect = str(Path(sys.executable).parent / "prefect")
    with (home / "server.log").open("wb") as log:
        server = subprocess.Popen([prefect, "server", "start", "--port", str(port)], env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/api/health", timeout=2):
                        break
                except OSError:
                    assert server.poll() is None and time.monotonic() < deadline, "the Prefect server did not start"
                    time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


# Fictional pupils whose personal data must never reach Prefect.
PUPILS = {
    "child": dict(given_name="Fenna", family_name="Wijnbergen", bsn="111222333", age_years=10),
    "teen": dict(given_name="Jurre", family_name="Oosterveld", bsn="123456782", age_years=14),
}


@pytest.fixture(scope="session")
def pupils(engine_url) -> dict[str, dict]:
    """Registered pupils: their personal data plus the pseudonymous reference."""
    today = amsterdam_today()
    out = {}
    with unit_of_work(get_engine(engine_url)) as s:
        for key, p in PUPILS.items():
            birth = dt.date(today.year - p["age_years"], 3, 17)
            ref = sv.register_pupil(
                s,
                given_name=p["given_name"],
                family_name=p["family_name"],
                birth_date=birth,
                bsn=p["bsn"],
                school_code="20XY",
                municipality_code="GM0147",
                parents=[sv.ParentSpec("Marieke Wijnbergen-Haaksbergen"), sv.ParentSpec("Thijs Wijnbergen")],
                today=today,
            )
            out[key] = {**p, "birth_date": birth, "ref": ref}
    return out
