"""Shared helpers for the TiKV subject tests: PD fixtures served through httpx.MockTransport
or a loopback aiohttp server, TiKV ``/metrics`` pages, and a Prometheus binary finder."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from operator_tui.testing.shared import shared_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# PD bodies the project built field by field (tests/fixtures/pd/README.md).
PD_FIXTURES = FIXTURES / "pd"
# PD bodies captured from a real cluster: third-party, read from ../shared/fixtures/pd.
VERBATIM_PD = ("cluster.json", "health.json", "members.json", "store.json", "stores.json")

# PD path (below /pd/api/v1) -> fixture file, for a healthy 3-store cluster.
PD_ROUTES = {
    "/stores": "stores.json",
    "/store/4": "store.json",
    "/hotspot/regions/write": "hotspot_write.json",
    "/hotspot/regions/read": "hotspot_read.json",
    "/regions/check/miss-peer": "regions_check_empty.json",
    "/regions/check/down-peer": "regions_check_down_peer.json",
    "/regions/check/pending-peer": "regions_check_empty.json",
    "/regions/check/offline-peer": "regions_check_empty.json",
    "/regions/count": "regions_count.json",
    "/config/schedule": "config_schedule.json",
    "/config/replicate": "config_replicate.json",
    "/members": "members.json",
    "/health": "health.json",
    "/cluster": "cluster.json",
    "/cluster/status": "cluster_status.json",
    "/region/id/10": "region.json",
    "/region/id/999": "region_missing_v8.5.json",
}


def pd_fixture(name: str) -> bytes:
    if name in VERBATIM_PD:
        return shared_file(f"pd/{name}").read_bytes()
    return (PD_FIXTURES / name).read_bytes()


def require_verbatim_pd() -> None:
    """Skips the test, with the reason, when the captured PD bodies are absent."""
    for name in VERBATIM_PD:
        shared_file(f"pd/{name}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def metrics_page(
    *,
    grpc_count: float = 1000,
    write_buckets: dict[str, float] | None = None,
    capacity: int = 100 * 2**30,
    available: int = 60 * 2**30,
    regions: int = 60,
    leaders: int = 20,
    slow_score: float = 1,
    write_stall: float = 0,
    channel_full: float = 0,
    scheduler_busy: float = 0,
    cpu_seconds: float = 100,
    log_lag_buckets: dict[str, float] | None = None,
) -> str:
    """A TiKV-like ``/metrics`` page in the prometheus text format (the families the subject reads)."""
    wb = write_buckets or {"0.001": 0, "0.002": 0, "0.004": 0, "0.008": 0, "+Inf": 0}
    lag = log_lag_buckets or {"2": 0, "4": 0, "5120": 0, "10240": 0, "+Inf": 0}
    lines = [
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
        "# TYPE process_cpu_seconds_total counter",
        f"process_cpu_seconds_total {cpu_seconds}",
        "# HELP tikv_channel_full_total Total number of channel full errors.",
        "# TYPE tikv_channel_full_total counter",
        f'tikv_channel_full_total{{type="normal"}} {channel_full}',
        "# HELP tikv_engine_write_stall Histogram of write stall",
        "# TYPE tikv_engine_write_stall gauge",
        f'tikv_engine_write_stall{{db="kv",type="write_stall_percentile99"}} {write_stall}',
        "# HELP tikv_grpc_msg_duration_seconds Bucketed histogram of grpc server messages",
        "# TYPE tikv_grpc_msg_duration_seconds histogram",
        f'tikv_grpc_msg_duration_seconds_bucket{{priority="unknown",type="kv_get",le="0.001"}} {grpc_count * 0.5}',
        f'tikv_grpc_msg_duration_seconds_bucket{{priority="unknown",type="kv_get",le="0.002"}} {grpc_count}',
        f'tikv_grpc_msg_duration_seconds_bucket{{priority="unknown",type="kv_get",le="+Inf"}} {grpc_count}',
        f'tikv_grpc_msg_duration_seconds_sum{{priority="unknown",type="kv_get"}} {grpc_count * 0.001}',
        f'tikv_grpc_msg_duration_seconds_count{{priority="unknown",type="kv_get"}} {grpc_count}',
        'tikv_grpc_msg_duration_seconds_bucket{priority="unknown",type="kv_gc",le="0.001"} 0',
        'tikv_grpc_msg_duration_seconds_bucket{priority="unknown",type="kv_gc",le="0.002"} 0',
        'tikv_grpc_msg_duration_seconds_bucket{priority="unknown",type="kv_gc",le="+Inf"} 999999',
        'tikv_grpc_msg_duration_seconds_sum{priority="unknown",type="kv_gc"} 9999',
        'tikv_grpc_msg_duration_seconds_count{priority="unknown",type="kv_gc"} 999999',
        "# HELP tikv_raftstore_log_lag Bucketed histogram of log lag in a region.",
        "# TYPE tikv_raftstore_log_lag histogram",
        *(f'tikv_raftstore_log_lag_bucket{{le="{le}"}} {v}' for le, v in lag.items()),
        f"tikv_raftstore_log_lag_sum {sum(lag.values())}",
        f"tikv_raftstore_log_lag_count {lag['+Inf']}",
        "# HELP tikv_raftstore_region_count Number of regions collected in region_collector",
        "# TYPE tikv_raftstore_region_count gauge",
        f'tikv_raftstore_region_count{{type="leader"}} {leaders}',
        f'tikv_raftstore_region_count{{type="region"}} {regions}',
        "# HELP tikv_raftstore_slow_score Slow score of the store.",
        "# TYPE tikv_raftstore_slow_score gauge",
        f'tikv_raftstore_slow_score{{type="raft"}} {slow_score}',
        "# HELP tikv_scheduler_too_busy_total Total count of scheduler too busy",
        "# TYPE tikv_scheduler_too_busy_total counter",
        f'tikv_scheduler_too_busy_total{{type="prewrite"}} {scheduler_busy}',
        "# HELP tikv_server_cpu_cores_quota Total CPU cores quota for TiKV server",
        "# TYPE tikv_server_cpu_cores_quota gauge",
        "tikv_server_cpu_cores_quota 4",
        "# HELP tikv_storage_engine_async_request_duration_seconds Bucketed histogram of processing successful asynchronous requests.",
        "# TYPE tikv_storage_engine_async_request_duration_seconds histogram",
        *(
            f'tikv_storage_engine_async_request_duration_seconds_bucket{{type="write",le="{le}"}} {v}'
            for le, v in wb.items()
        ),
        f'tikv_storage_engine_async_request_duration_seconds_sum{{type="write"}} {wb["+Inf"] * 0.002}',
        f'tikv_storage_engine_async_request_duration_seconds_count{{type="write"}} {wb["+Inf"]}',
        "# HELP tikv_store_size_bytes Size of storage.",
        "# TYPE tikv_store_size_bytes gauge",
        f'tikv_store_size_bytes{{type="available"}} {available}',
        f'tikv_store_size_bytes{{type="capacity"}} {capacity}',
        f'tikv_store_size_bytes{{type="used"}} {capacity - available}',
    ]
    return "\n".join(lines) + "\n"


def stores_body(stores: list[dict[str, Any]]) -> bytes:
    """A /stores body built from the verbatim capture, one entry per given override."""
    template = json.loads(pd_fixture("stores.json"))["stores"][0]
    out = []
    for spec in stores:
        entry = json.loads(json.dumps(template))
        entry["store"].update(spec.get("store", {}))
        entry["status"].update(spec.get("status", {}))
        out.append(entry)
    return json.dumps({"count": len(out), "stores": out}, indent=2).encode()


@dataclass
class FakePD:
    """Serves PD fixtures (and store ``/metrics`` pages) through ``httpx.MockTransport``.

    ``dead`` holds base URLs that refuse connections; ``overrides`` maps a PD path or a
    full URL to ``(status, body)``; ``metrics`` maps a status address to a page or a
    callable returning one; ``calls`` records every requested URL.
    """

    endpoints: list[str] = field(
        default_factory=lambda: ["http://pd1:2379", "http://pd2:2379", "http://pd3:2379"]
    )
    dead: set[str] = field(default_factory=set)
    overrides: dict[str, tuple[int, bytes | str]] = field(default_factory=dict)
    metrics: dict[str, str | Callable[[], str]] = field(default_factory=dict)
    calls: list[httpx.Request] = field(default_factory=list)
    slow: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_verbatim_pd()

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        base = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        if base in self.dead:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if base in self.slow:
            raise httpx.ReadTimeout("timed out", request=request)
        path = request.url.path
        url = base + path
        for key in (url, path):
            if key in self.overrides:
                status, body = self.overrides[key]
                content = body.encode() if isinstance(body, str) else body
                return httpx.Response(status, content=content)
        if path == "/metrics":
            address = f"{request.url.host}:{request.url.port}"
            page = self.metrics.get(address)
            if page is None:
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
            text = page() if callable(page) else page
            return httpx.Response(200, text=text, headers={"content-type": "text/plain"})
        prefix = "/pd/api/v1"
        if path.startswith(prefix) and request.method == "GET":
            name = PD_ROUTES.get(path[len(prefix) :])
            if name is not None:
                return httpx.Response(
                    200, content=pd_fixture(name), headers={"content-type": "application/json"}
                )
        if path == prefix + "/operators" and request.method == "POST":
            return httpx.Response(200, json="The operator is created.")
        if path == prefix + "/config/schedule" and request.method == "POST":
            return httpx.Response(200, json="The config is updated.")
        if path.startswith(prefix + "/store/") and request.method == "DELETE":
            return httpx.Response(200, json="The store is set as Offline.")
        return httpx.Response(404, json="404 page not found")

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

    def requests_to(self, suffix: str) -> list[httpx.Request]:
        return [r for r in self.calls if r.url.path.endswith(suffix)]


@pytest.fixture
def fake_pd() -> FakePD:
    return FakePD()


@pytest.fixture
async def mock_http(fake_pd: FakePD) -> AsyncIterator[httpx.AsyncClient]:
    async with fake_pd.client() as client:
        yield client


class LoopbackPD:
    """A real HTTP server on 127.0.0.1 answering PD fixture routes and one ``/metrics`` page."""

    def __init__(self) -> None:
        require_verbatim_pd()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stores: bytes | None = None
        self.metrics_text: str | None = None
        self.routes: dict[str, bytes] = {}
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        if path == "/metrics" and self.metrics_text is not None:
            return web.Response(text=self.metrics_text, content_type="text/plain")
        prefix = "/pd/api/v1"
        if path[len(prefix) :] in self.routes:
            return web.Response(
                body=self.routes[path[len(prefix) :]], content_type="application/json"
            )
        if path == prefix + "/stores" and self.stores is not None:
            return web.Response(body=self.stores, content_type="application/json")
        name = PD_ROUTES.get(path[len(prefix) :]) if path.startswith(prefix) else None
        if name is None:
            return web.json_response("404 page not found", status=404)
        return web.Response(body=pd_fixture(name), content_type="application/json")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def loopback_pd() -> AsyncIterator[LoopbackPD]:
    server = LoopbackPD()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def prometheus_binary() -> str | None:
    """Path of the ``prometheus`` binary; skips (or fails when required) without one."""
    path = shutil.which("prometheus")
    if path is None:
        if os.environ.get("OPERATOR_REQUIRE_PROMETHEUS") == "1":
            pytest.fail("prometheus binary not found and OPERATOR_REQUIRE_PROMETHEUS=1")
        pytest.skip("prometheus binary not installed (apt-get install prometheus)")
    return path


async def wait_until(
    predicate: Callable[[], Any], within: float = 10.0, interval: float = 0.1
) -> bool:
    """Polls ``predicate`` (sync or async) until truthy or ``within`` seconds pass."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return True
        await asyncio.sleep(interval)
    return False


@pytest.fixture
def tk() -> Any:
    """The helpers above, for test modules (which cannot import conftest in importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        FIXTURES=FIXTURES,
        PD_FIXTURES=PD_FIXTURES,
        VERBATIM_PD=VERBATIM_PD,
        shared=shared_file,
        PD_ROUTES=PD_ROUTES,
        FakePD=FakePD,
        LoopbackPD=LoopbackPD,
        PrometheusServer=PrometheusServer,
        pd_fixture=pd_fixture,
        metrics_page=metrics_page,
        stores_body=stores_body,
        free_port=free_port,
        wait_until=wait_until,
        prometheus_binary=prometheus_binary,
    )


class PrometheusServer:
    """Debian's ``prometheus`` on a free loopback port, scraping the given targets every second."""

    def __init__(self, binary: str, workdir: Path, jobs: dict[str, list[str]]) -> None:
        self.binary = binary
        self.workdir = workdir
        self.jobs = jobs
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        import yaml

        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": targets}]}
                for job, targets in self.jobs.items()
            ],
        }
        path = self.workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        self.proc = await asyncio.create_subprocess_exec(
            self.binary,
            f"--config.file={path}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

        async def ready() -> bool:
            try:
                async with httpx.AsyncClient() as http:
                    return (await http.get(self.url + "/-/ready", timeout=1)).status_code == 200
            except httpx.HTTPError:
                return False

        if not await wait_until(ready, within=30, interval=0.2):
            await self.stop()
            pytest.fail("prometheus did not become ready within 30 s")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
