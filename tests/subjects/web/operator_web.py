"""A second subject that is not TiKV: a handful of HTTP services, each up or down, fast or slow.

It exists to prove that core, the agent, the headless printer and the app know no TiKV:
the whole loop runs on it in tests with ``operator_tikv`` never imported. Each service is
one "store" to core (an id, an address, a health); ``GET /health`` is the observation,
its latency the one figure; ``POST /restart`` the one action. ``Fleet`` serves the services
on loopback ports for the tests, and is also this subject's chaos (kill, start, slow).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, Field

from operator_tui.core.deploy import Deployment, DeploymentOptions
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.findings import (
    Finding,
    declared_action,
    declared_actions,
    option,
)
from operator_tui.core.diagnosis.rules import RuleDiagnoser
from operator_tui.core.harness import HarnessOptions, SimHarness
from operator_tui.core.subject import (
    SLO,
    Action,
    ActionArg,
    DemoCluster,
    DemoOptions,
    InvariantSpec,
    Observation,
    SubjectConfig,
    SubjectContext,
    SubjectError,
)
from operator_tui.core.types import (
    ActionResult,
    ClusterMetrics,
    Health,
    HotRegion,
    Severity,
    Snapshot,
    Store,
    StoreHealth,
    StoreMetrics,
    Violation,
)

SERVICE_DOWN = "service_down"
SLOW_SERVICE = "slow_service"
SLOW_MS = 200.0
ROOT_CAUSES = ("service_down", "slow_service", "unknown")


class WebSettings(BaseModel):
    """The subject's own settings section (``[web]`` in TOML, ``OPERATOR_WEB__*``)."""

    services: list[str] = Field(default_factory=list, description="Base URLs of the services.")
    slow_ms: float = Field(SLOW_MS, gt=0, description="Latency above which a service is slow.")
    timeout_s: float = Field(1.0, gt=0, description="How long one health check may take.")


# --- the services under watch ----------------------------------------------------------


@dataclass(slots=True)
class _Service:
    port: int
    delay_s: float = 0.0
    server: asyncio.AbstractServer | None = None


class Fleet:
    """Loopback HTTP services answering ``GET /health`` and ``POST /restart``; also the chaos."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.services: dict[int, _Service] = {}

    @property
    def endpoints(self) -> list[str]:
        return [f"http://127.0.0.1:{s.port}" for _, s in sorted(self.services.items())]

    async def start(self) -> None:
        for sid in range(1, self.count + 1):
            service = _Service(port=0)
            self.services[sid] = service
            await self._serve(sid, service)

    async def _serve(self, sid: int, service: _Service) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                if request.startswith(b"POST /restart"):
                    service.delay_s = 0.0
                    body = b"restarted"
                else:
                    await asyncio.sleep(service.delay_s)
                    body = b"ok"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                    % (len(body), body)
                )
                await writer.drain()
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", service.port)
        service.port = server.sockets[0].getsockname()[1]
        service.server = server

    async def kill_store(self, store_id: int) -> str:
        service = self._service(store_id)
        if service.server is not None:
            service.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(service.server.wait_closed(), 2)
            service.server = None
        return f"service {store_id} stopped"

    async def start_store(self, store_id: int) -> str:
        service = self._service(store_id)
        if service.server is None:
            await self._serve(store_id, service)
        return f"service {store_id} started"

    def slow(self, store_id: int, delay_s: float) -> None:
        self._service(store_id).delay_s = delay_s

    def _service(self, store_id: int) -> _Service:
        try:
            return self.services[store_id]
        except KeyError:
            raise SubjectError(f"no service {store_id}") from None

    async def aclose(self) -> None:
        for sid in list(self.services):
            await self.kill_store(sid)


# --- the subject ---------------------------------------------------------------------------


class WebSubject:
    """Implements core's ``Subject`` for plain HTTP services."""

    name = "web"

    def __init__(self, ctx: SubjectContext) -> None:
        self.http = ctx.http
        self.settings: WebSettings = ctx.settings
        self.urls = list(self.settings.services)
        if not self.urls:
            raise SubjectError("web subject: no services configured (web.services)")

    def describe(self) -> SubjectConfig:
        return SubjectConfig(
            name=self.name,
            actions=(
                Action(
                    "restart_service",
                    (ActionArg("service_id", "int", "the service to restart"),),
                    "POST /restart to the service",
                    risk="medium",
                ),
            ),
            observations=(Observation("health", "GET /health of each service, timed"),),
            slos=(SLO("latency_ms", self.settings.slow_ms, 0.0, "health answered in time"),),
            root_cause_classes=ROOT_CAUSES,
            invariants=(
                InvariantSpec(
                    SERVICE_DOWN, "the service answers its health check", Severity.CRITICAL
                ),
                InvariantSpec(SLOW_SERVICE, "the health check answers in time", Severity.WARNING),
            ),
        )

    async def _probe(self, sid: int, url: str) -> tuple[Store, StoreMetrics]:
        started = time.perf_counter()
        try:
            response = await self.http.get(f"{url}/health", timeout=self.settings.timeout_s)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            health = StoreHealth(Health.UNREACHABLE, "down", reason)
            store = Store(id=sid, address=url, state="down", health=health)
            return store, StoreMetrics(store_id=sid, reachable=False, error=reason)
        latency_ms = (time.perf_counter() - started) * 1000.0
        slow = latency_ms > self.settings.slow_ms
        health = StoreHealth(Health.DEGRADED, "slow") if slow else StoreHealth(Health.SERVING, "up")
        store = Store(id=sid, address=url, state="slow" if slow else "up", health=health)
        return store, StoreMetrics(store_id=sid, p99_latency_ms=round(latency_ms, 2))

    async def observe(self) -> Snapshot:
        taken_at = datetime.now(UTC)
        probes = await asyncio.gather(
            *(self._probe(sid, url) for sid, url in enumerate(self.urls, start=1))
        )
        stores = [store for store, _ in probes]
        metrics = {m.store_id: m for _, m in probes}
        latencies = [m.p99_latency_ms for m in metrics.values() if m.p99_latency_ms is not None]
        cluster = ClusterMetrics(
            stores_up=sum(1 for s in stores if s.health.level.answering),
            stores_total=len(stores),
            p99_latency_ms=max(latencies, default=None),
        )
        return Snapshot(
            taken_at=taken_at, stores=stores, store_metrics=metrics, cluster=cluster, source="http"
        )

    def evaluate(self, snapshot: Snapshot) -> list[Violation]:
        out: list[Violation] = []
        for store in snapshot.stores:
            m = snapshot.store_metrics.get(store.id)
            if store.health.level is Health.UNREACHABLE:
                out.append(
                    Violation(
                        SERVICE_DOWN,
                        Severity.CRITICAL,
                        f"service {store.id} does not answer: {store.health.reason}",
                        store.id,
                        {"address": store.address},
                    )
                )
            elif m is not None and (m.p99_latency_ms or 0) > self.settings.slow_ms:
                out.append(
                    Violation(
                        SLOW_SERVICE,
                        Severity.WARNING,
                        f"service {store.id} answers in {m.p99_latency_ms:.0f} ms",
                        store.id,
                        {"latency_ms": m.p99_latency_ms, "threshold_ms": self.settings.slow_ms},
                    )
                )
        return out

    async def get_stores(self) -> list[Store]:
        return (await self.observe()).stores

    async def get_hot_write_regions(self) -> list[HotRegion]:
        return []

    async def get_store_metrics(self, store_id: int) -> StoreMetrics:
        return (await self.observe()).store_metrics.get(store_id) or StoreMetrics(store_id)

    async def get_cluster_metrics(self) -> ClusterMetrics:
        return (await self.observe()).cluster

    async def execute(self, action: str, args: dict[str, Any]) -> ActionResult:
        if action != "restart_service":
            return ActionResult(
                action, args, ok=False, refused=True, message=f"{action} is not declared"
            )
        try:
            sid = int(args["service_id"])
            url = self.urls[sid - 1]
        except (KeyError, ValueError, TypeError, IndexError):
            return ActionResult(action, args, ok=False, refused=True, message="no such service_id")
        try:
            response = await self.http.post(f"{url}/restart", timeout=self.settings.timeout_s)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            return ActionResult(action, args, ok=False, message=f"restart failed: {exc}")
        return ActionResult(action, args, ok=True, message=f"service {sid} restarted")

    async def aclose(self) -> None:
        return None


# --- its offline diagnosis -------------------------------------------------------------


def web_rules(ctx: DiagnosisContext) -> Finding:
    """Two faults: a service that does not answer, and one that answers slowly."""
    ticket = ctx.ticket
    sid = ticket.store_id
    target: int | str = sid if sid is not None else "cluster"
    if ticket.invariant == SERVICE_DOWN and sid is not None:
        return Finding(
            cause="service_down",
            target=sid,
            root_cause=f"Service {sid} is not running or refuses connections.",
            evidence=[f"service {sid}'s health check fails: {ctx.store(sid).health.reason}"]
            if ctx.store(sid)
            else [],
            options=[
                option("restart_service", "nothing answers to take a restart request"),
                option("wait", "a refused connection does not heal by itself"),
            ],
            confidence=0.8,
        )
    if ticket.invariant == SLOW_SERVICE and sid is not None:
        m = ctx.metrics(sid)
        latency = m.p99_latency_ms if m else None
        return Finding(
            cause="slow_service",
            target=sid,
            root_cause=f"Service {sid} answers in {latency} ms; a restart clears its state.",
            options=[option("wait", "the latency has held through the check")],
            actions=declared_actions(
                declared_action(
                    ctx,
                    "restart_service",
                    "the service answers, so it can take a restart request",
                    "medium",
                    service_id=sid,
                )
            ),
            confidence=0.6,
        )
    return Finding(
        cause="unknown",
        target=target,  # type: ignore[arg-type]
        root_cause="no rule for this finding",
        options=[option("guess", "no rule covers it")],
        confidence=0.1,
    )


# --- the plugin ----------------------------------------------------------------------------


class WebPlugin:
    """What a package would register under ``operator_tui.subjects``."""

    name = "web"
    settings_model = WebSettings

    def create(self, ctx: SubjectContext) -> WebSubject:
        return WebSubject(ctx)

    @asynccontextmanager
    async def demo(self, options: DemoOptions) -> AsyncIterator[DemoCluster]:
        fleet = Fleet(options.stores)
        await fleet.start()
        try:
            yield DemoCluster(
                endpoints=fleet.endpoints,
                chaos=fleet,
                description=f"{options.stores} loopback web services",
                settings={"services": fleet.endpoints},
            )
        finally:
            await fleet.aclose()

    def one_pass_settings(self, section: WebSettings, rate_gap_s: float) -> WebSettings:
        return section

    def offline_diagnoser(self) -> RuleDiagnoser:
        return RuleDiagnoser(web_rules)

    def deployment(self, options: DeploymentOptions) -> Deployment | None:
        return None

    def harness(self, options: HarnessOptions) -> SimHarness | None:
        return None

    def sim_main(self, argv: list[str]) -> int:
        print("operator-tui: error: the web subject has no standalone simulator")
        return 2


plugin = WebPlugin()
