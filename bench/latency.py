"""How long a professional waits after Submit: from creating a lifecycle run to its final state.

    python bench/latency.py --runs 8 [--api-url http://127.0.0.1:4200/api]

Against a running engine (`make run`), as the UI does it: creates N runs of **07 Meting vastleggen** through
the API (`create_flow_run_from_deployment`, what Submit calls), one after another, each recording a
measurement on the demo's active case (the whole path: worker, form check, one transaction, the result on
the run, tags, the school's worklist), and measures each from its creation to its final state as the
server records it (`end_time - created`). `--refused` sends a triage for that case instead, which the
engine refuses. Prints one line:

    runs=N p50_s=.. p95_s=.. max_s=..
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--api-url", default=os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api"))
    parser.add_argument("--case", default="OJA-2026-000006", help="a case past triage (the demo's active one)")
    parser.add_argument("--actor", default="PRF-0001", help="a professional in that case's scope")
    parser.add_argument("--refused", action="store_true", help="a step the engine refuses (nothing written)")
    args = parser.parse_args()
    os.environ["PREFECT_API_URL"] = args.api_url

    from prefect.client.orchestration import get_client

    from oja.deployments import deployment_path

    if args.refused:
        flow, form = "triage", {"case_ref": args.case, "outcome": "oja", "level": 2, "actor": args.actor}
    else:
        flow, form = "meting-vastleggen", {"case_ref": args.case, "goal_number": 1, "value": 0.5, "actor": args.actor}
    seconds = []
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(deployment_path(flow))
        for _ in range(args.runs):
            run = client.create_flow_run_from_deployment(deployment.id, parameters={"form": form})
            deadline = time.monotonic() + 120
            while not (state := client.read_flow_run(run.id).state) or not state.is_final():
                if time.monotonic() > deadline:
                    raise SystemExit(f"run {run.id} did not finish within 120 s")
                time.sleep(0.1)
            finished = client.read_flow_run(run.id)
            end = finished.end_time or finished.state.timestamp
            seconds.append((end - finished.created).total_seconds())
    seconds.sort()
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    print(f"runs={len(seconds)} p50_s={statistics.median(seconds):.1f} p95_s={p95:.1f} max_s={seconds[-1]:.1f}")


if __name__ == "__main__":
    main()
