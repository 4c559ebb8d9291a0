"""How long the dossier's pages take on a large region: *Mijn casussen* for each kind of scope, and a case page.

    python bench/dossier.py --arrangements 100000 [--database-url postgresql://...] [--requests 20]

Generates the sweep bench's synthetic region (`sweep.generate`: N active arrangements over N/500 schools, 6
providers, 14 municipalities), adds a district team member, serves the real application with uvicorn on a
free port, logs each professional in (a session made by `oja.services.logins`, as the login page does), and
times GET / (a coordinator's school; a youth worker's own cases, and with ?alle=1 all their provider's; a
district team's residents) and GET /casus/<ref> over HTTP, the access log written as usual. At most 200 rows
are on a page (the most urgent). Prints one line:

    arrangements=N school_cases=.. school_p50_ms=.. worker_cases=.. worker_p50_ms=.. provider_cases=..
    provider_p50_ms=.. district_cases=.. district_p50_ms=.. case_p50_ms=.. peak_mb=..
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrangements", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="oja-dossier-bench-")
    url = args.database_url or f"sqlite:///{folder}/oja.db"
    os.environ["OJA_DATABASE_URL"] = url
    os.environ["OJA_HOME"] = folder

    import httpx
    import uvicorn
    from sqlmodel import Session, func, select
    from sweep import generate

    from models.tables import Case, Intervention, Professional, Pupil
    from oja.adapters.db import get_engine, unit_of_work
    from oja.dossier.app import create_app
    from oja.services.logins import open_session

    generate(url, args.arrangements)
    engine = get_engine(url)
    with unit_of_work(engine) as s:
        s.add(Professional(code="WT00001", name="Wijkteam", role="wijkteam", municipality_code="GM0001"))
    with Session(engine) as s:
        school_cases = s.exec(select(func.count()).select_from(Case).where(Case.school_code == "S0000")).one()
        worker = s.get(Professional, "JH00000")
        assert worker is not None
        provider_of = select(Intervention.plan_id).where(Intervention.provider_code == worker.provider_code)
        provider_cases = s.exec(select(func.count()).select_from(Case).where(Case.id.in_(provider_of))).one()  # type: ignore[union-attr]
        own = select(func.count()).select_from(Intervention).where(Intervention.professional_code == worker.code)
        worker_cases = s.exec(own).one()
        district_cases = s.exec(
            select(func.count()).select_from(Pupil).where(Pupil.municipality_code == "GM0001")
        ).one()

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)

    def client(code: str) -> httpx.Client:
        with unit_of_work(engine) as s:
            token, _ = open_session(s, code, now=dt.datetime.now(dt.UTC))
        return httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"oja_sessie": token}, timeout=120)

    def p50(c: httpx.Client, path: str) -> float:
        times = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            response = c.get(path)
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, (path, response.status_code)
        return statistics.median(times) * 1000

    figures = {
        "arrangements": args.arrangements,
        "school_cases": school_cases,
        "school_p50_ms": round(p50(client("ZC00000"), "/")),
        "worker_cases": worker_cases,
        "worker_p50_ms": round(p50(client("JH00000"), "/")),
        "provider_cases": provider_cases,
        "provider_p50_ms": round(p50(client("JH00000"), "/?alle=1")),
        "district_cases": district_cases,
        "district_p50_ms": round(p50(client("WT00001"), "/")),
        "case_p50_ms": round(p50(client("ZC00000"), "/casus/OJA-2026-000200")),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    server.should_exit = True
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
