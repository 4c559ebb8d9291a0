"""What a flow run asks Prefect's server, once not twice, or not at all when its worker knows (issue 27): the
server's one process serves every run, and each request costs it."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import prefect
import prefect.client.orchestration as orchestration
import prefect.results as results
import pytest
from prefect._internal import version_checking
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import Flow, FlowRun, WorkPool
from prefect.client.schemas.responses import DeploymentResponse
from prefect.events import related

from oja.entrypoints import engine, worker


@pytest.fixture
def version_checks(monkeypatch):
    """Prefect's cache of version checks empty, and its key functions as they were after the test."""
    monkeypatch.setattr(orchestration, "_api_version_check_key", orchestration._api_version_check_key)
    monkeypatch.setattr(version_checking, "_api_version_check_key", version_checking._api_version_check_key)
    version_checking._clear_api_version_check_cache()
    yield
    version_checking._clear_api_version_check_cache()


def test_the_api_clients_version_check_takes_the_events_clients_for_the_same_address(version_checks):
    """The events client checks `.../api`, the API client `.../api/` (as httpx keeps it): one check, not two."""
    engine.check_server_version_once()
    version = prefect.__version__
    as_events = version_checking._api_version_check_key("http://127.0.0.1:4200/api", version)
    as_client = orchestration._api_version_check_key("http://127.0.0.1:4200/api/", version)
    assert as_events == as_client


def test_a_forked_run_asks_no_version_when_its_worker_checked_it(version_checks, monkeypatch):
    asked: list[str] = []

    def api_version(self: SyncPrefectClient) -> str:
        asked.append(str(self.api_url))
        return prefect.__version__

    monkeypatch.setattr(SyncPrefectClient, "api_version", api_version)
    engine.check_server_version_once("http://127.0.0.1:9/api")
    SyncPrefectClient("http://127.0.0.1:9/api").raise_for_api_version_mismatch_once()
    assert asked == []
    SyncPrefectClient("http://127.0.0.1:8/api").raise_for_api_version_mismatch_once()  # another server: asked
    assert asked == ["http://127.0.0.1:8/api/"]


def test_a_run_reads_the_servers_default_result_storage_once(monkeypatch):
    """Prefect's flow engine asks for it before the run starts and again as it sets up the run's context."""
    reads: list[int] = []

    def read() -> None:
        reads.append(1)
        return None  # no default on the server: results go to PREFECT_HOME/storage

    monkeypatch.setattr(results, "_read_server_default_result_storage_block_id", read)
    with engine.server_result_storage_read_once():
        first = results._get_default_result_storage()
        second = results._get_default_result_storage()
    assert reads == [1] and first.storage is second.storage
    results._get_default_result_storage()  # after the run: as Prefect reads it
    assert reads == [1, 1]


def _run_and_its_objects() -> tuple[FlowRun, dict[str, Any]]:
    pool = WorkPool(id=uuid.uuid4(), name="oja", type="process")
    flow = Flow(id=uuid.uuid4(), name="meting-vastleggen")
    deployment = DeploymentResponse(id=uuid.uuid4(), name="07 Meting vastleggen", flow_id=flow.id)
    run = FlowRun(
        id=uuid.uuid4(),
        name="meting OJA-2026-000006",
        flow_id=flow.id,
        deployment_id=deployment.id,
        work_queue_id=uuid.uuid4(),
        work_queue_name="default",
        work_pool_id=pool.id,
        work_pool_name=pool.name,
    )
    return run, {"flow": flow, "deployment": deployment, "work-pool": pool}


@pytest.fixture
def resource_cache(monkeypatch):
    monkeypatch.setattr(related, "RESOURCE_CACHE", {})
    return related.RESOURCE_CACHE


def test_a_run_names_its_related_objects_in_its_events_without_reading_them(resource_cache):
    """The worker read the flow and the deployment to build the run's job and keeps its pool; the run names its
    queue itself: the events client finds all four where it looks first, and asks the server nothing."""
    run, known = _run_and_its_objects()
    engine.remember_related(run, known)

    async def unasked(obj_id: object) -> None:
        raise AssertionError(f"read {obj_id} from the server")

    def found(kind: str, obj_id: object) -> Any:
        entry = asyncio.run(
            related._get_and_cache_related_object(
                kind=kind, role=kind, client_method=unasked, obj_id=obj_id, cache=resource_cache
            )
        )
        return related.object_as_related_resource(kind=kind, role=kind, object=entry["object"])

    assert found("flow", run.flow_id).name == "meting-vastleggen"
    assert found("deployment", run.deployment_id).name == "07 Meting vastleggen"
    assert found("work-pool", run.work_pool_name).id == f"prefect.work-pool.{run.work_pool_id}"
    queue = found("work-queue", run.work_queue_id)
    assert queue.id == f"prefect.work-queue.{run.work_queue_id}" and queue.name == "default"


def test_only_the_runs_own_objects_are_kept(resource_cache):
    run, known = _run_and_its_objects()
    other = DeploymentResponse(id=uuid.uuid4(), name="08 Besluit nemen", flow_id=run.flow_id)
    engine.remember_related(run, {**known, "deployment": other, "work-pool": WorkPool(name="ander", type="process")})
    assert f"deployment.{run.deployment_id}" not in resource_cache  # read from the server, as before
    assert f"work-pool.{run.work_pool_name}" not in resource_cache
    assert f"flow.{run.flow_id}" in resource_cache


def test_the_worker_hands_the_run_the_flow_and_deployment_it_read_and_its_pool():
    run, known = _run_and_its_objects()
    configuration = SimpleNamespace(_related_objects={"flow": known["flow"], "deployment": None, "flow-run": run})
    handed = worker.related_objects(configuration, known["work-pool"])  # type: ignore[arg-type]
    assert handed == {"flow": known["flow"], "work-pool": known["work-pool"]}


def test_the_worker_reads_a_runs_deployment_once_while_it_takes_the_run():
    """Prefect's worker reads it to see it still exists, and a moment later again to build the run's job."""
    reads: list[uuid.UUID] = []

    async def read(deployment_id: uuid.UUID) -> object:
        reads.append(deployment_id)
        return SimpleNamespace(id=deployment_id, read_at=dt.datetime.now(dt.UTC))

    read_deployment = worker.read_once_per_submission(read)
    one, two = uuid.uuid4(), uuid.uuid4()

    async def take_a_run() -> None:
        with worker.submission():
            first = await read_deployment(one)
            assert await read_deployment(one) is first  # the job is built from the same answer
            await read_deployment(two)
            await read_deployment(one)  # a third read: read again

    asyncio.run(take_a_run())
    assert reads == [one, two, one]
    asyncio.run(read_deployment(one))  # outside taking a run: as Prefect reads
    asyncio.run(read_deployment(one))
    assert reads == [one, two, one, one, one]


@pytest.fixture
def csrf_as_prefect_has_it(monkeypatch):
    """Prefect's clients' CSRF methods as they were, after the test."""
    from prefect.client.base import PrefectHttpxAsyncClient, PrefectHttpxSyncClient

    for cls in (PrefectHttpxSyncClient, PrefectHttpxAsyncClient):
        monkeypatch.setattr(cls, "_add_csrf_headers", cls._add_csrf_headers)


def _csrf_server(refuse: set[str] | None = None):
    """A Prefect API that hands out CSRF tokens per client and checks them on changes; what it was asked."""
    import httpx

    tokens: dict[str, str] = {}
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/csrf-token"):
            client = request.url.params["client"]
            tokens[client] = f"token-{len(asked)}"
            expiration = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
            return httpx.Response(200, json={"token": tokens[client], "client": client, "expiration": expiration})
        token = request.headers.get("Prefect-Csrf-Token")
        if tokens.get(request.headers.get("Prefect-Csrf-Client", "")) != token or token in (refuse or set()):
            return httpx.Response(403, json={"detail": "Invalid CSRF token or client identifier."})
        return httpx.Response(201, json={})

    return answer, asked, tokens


def test_a_runs_clients_share_one_csrf_token(csrf_as_prefect_has_it):
    """The run's engine client and its log client: one `/csrf-token` (a write on the server) for both."""
    import httpx
    from prefect.client.base import PrefectHttpxAsyncClient, PrefectHttpxSyncClient

    answer, asked, _ = _csrf_server()

    async def answer_async(request: httpx.Request) -> httpx.Response:
        return answer(request)

    engine.share_csrf_token()
    base = "http://prefect.test/api"
    with PrefectHttpxSyncClient(base_url=base, transport=httpx.MockTransport(answer), enable_csrf_support=True) as c:
        c.post("/flow_runs/x/set_state").raise_for_status()

    async def logs() -> None:
        transport = httpx.MockTransport(answer_async)
        async with PrefectHttpxAsyncClient(base_url=base, transport=transport, enable_csrf_support=True) as c:
            (await c.post("/logs/")).raise_for_status()

    asyncio.run(logs())
    assert asked == ["GET /api/csrf-token", "POST /api/flow_runs/x/set_state", "POST /api/logs/"]


def test_a_refused_token_is_not_lent_again(csrf_as_prefect_has_it):
    import httpx
    from prefect.client.base import PrefectHttpxSyncClient

    refused: set[str] = set()
    answer, asked, tokens = _csrf_server(refused)
    engine.share_csrf_token()
    transport = httpx.MockTransport(answer)
    base = "http://prefect.test/api"
    with PrefectHttpxSyncClient(base_url=base, transport=transport, enable_csrf_support=True) as first:
        first.post("/artifacts/").raise_for_status()
    refused.update(tokens.values())  # the server forgot it (expired, or the database was reset)
    with PrefectHttpxSyncClient(base_url=base, transport=transport, enable_csrf_support=True) as second:
        second.post("/artifacts/").raise_for_status()  # lent the old token, refused, asks for a new one
        second.post("/artifacts/").raise_for_status()
    assert asked.count("GET /api/csrf-token") == 2 and asked[-1] == "POST /api/artifacts/"


def test_a_run_loads_its_flow_from_the_deployment_its_worker_read():
    """Prefect reads the deployment again to load the flow (its entrypoint, its pull steps): the worker read it to
    build the run's job a moment before, so the run takes that; another deployment is read as before."""
    import httpx
    from prefect.client.orchestration import PrefectClient

    run, known = _run_and_its_objects()
    other = DeploymentResponse(id=uuid.uuid4(), name="08 Besluit nemen", flow_id=run.flow_id)
    asked: list[str] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(200, json=other.model_dump(mode="json"))

    async def read(deployment_id: uuid.UUID) -> object:
        settings = {"transport": httpx.MockTransport(answer)}
        async with PrefectClient("http://prefect.test/api", httpx_settings=settings) as client:
            return await client.read_deployment(deployment_id)

    with engine.deployment_as_read(known["deployment"]):
        assert asyncio.run(read(run.deployment_id)) is known["deployment"]
        assert asked == []
        assert asyncio.run(read(other.id)).id == other.id
        assert asked == [f"/api/deployments/{other.id}"]
    asyncio.run(read(run.deployment_id))  # after loading the flow: as Prefect reads
    assert asked[-1] == f"/api/deployments/{run.deployment_id}"
