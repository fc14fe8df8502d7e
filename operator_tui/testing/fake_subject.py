"""An in-memory subject for tests of the core and the front ends: no network, faults by method call.

It implements the whole ``Subject`` protocol over a few dicts. Faults mirror the
simulator's (kill, partition, slow disk, disk pressure, hot region, write
stall, load, PD leader loss), so the offline diagnoser and the runtime can be
tested without the simulator. ``FakePlugin`` wraps it for ``open_runtime``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from operator_tikv.records import (
    METRIC_FIGURES,
    RECORDS,
    STORE_FIGURES,
    TikvHotRegion,
    TikvLogEvent,
    TikvStore,
    TikvStoreMetrics,
)
from pydantic import BaseModel, ConfigDict

from operator_tui.core.diagnosis.base import Diagnoser
from operator_tui.core.history import History
from operator_tui.core.subject import (
    Action,
    ActionArg,
    ComparedMetric,
    DemoCluster,
    DemoOptions,
    Figure,
    InvariantSpec,
    SubjectConfig,
    SubjectContext,
    SubjectUnreachable,
)
from operator_tui.core.types import (
    ActionResult,
    ClusterMetrics,
    Health,
    HotRegion,
    LogEvent,
    Severity,
    Snapshot,
    Store,
    StoreHealth,
    StoreMetrics,
    Violation,
)

GIB = 2**30

ACTIONS = (
    Action(
        "transfer_leader",
        (ActionArg("region_id"), ActionArg("to_store_id")),
        "Move a region's leader",
        "low",
    ),
    Action("split_region", (ActionArg("region_id"),), "Split a region in two", "low"),
    Action("set_leader_schedule_limit", (ActionArg("n"),), "PD leader-schedule-limit", "low"),
    Action("set_replica_schedule_limit", (ActionArg("n"),), "PD replica-schedule-limit", "medium"),
    Action("set_region_schedule_limit", (ActionArg("n"),), "PD region-schedule-limit", "medium"),
    Action("drain_store", (ActionArg("store_id"),), "Take a store offline", "high"),
    Action(
        "set_low_space_threshold", (ActionArg("percent", "float"),), "PD low-space-ratio", "medium"
    ),
)
INVARIANTS = (
    InvariantSpec(
        "store_down", "status port refuses or PD says Disconnected/Down", Severity.CRITICAL
    ),
    InvariantSpec(
        "store_disconnected", "PD lost the store's heartbeats, process alive", Severity.CRITICAL
    ),
    InvariantSpec("slow_store", "slow score >= 80", Severity.WARNING),
    InvariantSpec("low_disk", "more than 80% of capacity used", Severity.WARNING),
    InvariantSpec("hot_write_region", "one store leads most hot write flow", Severity.WARNING),
    InvariantSpec("write_stall", "RocksDB write stall", Severity.WARNING),
    InvariantSpec("high_write_latency", "p99 write latency > 100 ms", Severity.WARNING),
    InvariantSpec("pd_member_unhealthy", "a PD member is unhealthy", Severity.CRITICAL),
)


# Mirrors what operator_tikv declares (its records are TiKV's own), so TiKV's offline rules can run over the fake
# (the cluster figures too: the names of ``operator_tikv.figures``).
ROOT_CAUSE_CLASSES = (
    "store_down",
    "network_partition",
    "slow_disk",
    "disk_full",
    "hot_region",
    "pd_leader_lost",
    "write_stall",
    "overload",
    "unknown",
)
COMPARED_METRICS = tuple(
    ComparedMetric(name, floor)
    for name, floor in (
        ("qps", 50.0),
        ("p99_latency_ms", 5.0),
        ("p99_write_latency_ms", 5.0),
        ("cpu_ratio", 0.15),
        ("raft_log_lag", 20.0),
        ("write_stall", 0.5),
        ("channel_full_per_s", 0.5),
        ("scheduler_busy_per_s", 0.5),
        ("slow_score", 10.0),
        ("leader_count", 3.0),
        ("region_count", 3.0),
        ("used_ratio", 0.05),
    )
)


CLUSTER_FIGURES = (
    Figure("pd_leader", "PD leader", lead=True),
    Figure("region_count", "regions", event="regions"),
)


class FakeSubject:
    """A three-store cluster held in memory; ``clock`` is injectable for deterministic times."""

    name = "fake"

    def __init__(self, stores: int = 3, *, clock: Any = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.stores: dict[int, TikvStore] = {}
        self.metrics: dict[int, TikvStoreMetrics] = {}
        for sid in range(1, stores + 1):
            self.stores[sid] = TikvStore(
                id=sid,
                address=f"tikv{sid}:20160",
                status_address=f"tikv{sid}:20180",
                state="Up",
                version="8.5.0",
                capacity_bytes=100 * GIB,
                available_bytes=70 * GIB,
                used_bytes=30 * GIB,
                leader_count=34,
                region_count=100,
                slow_score=1.0,
            )
            self.metrics[sid] = TikvStoreMetrics(
                store_id=sid,
                qps=1000.0,
                p99_latency_ms=4.0,
                p99_write_latency_ms=8.0,
                cpu_ratio=0.3,
                capacity_bytes=100 * GIB,
                available_bytes=70 * GIB,
                used_bytes=30 * GIB,
                region_count=100,
                leader_count=34,
                raft_log_lag=0.0,
                write_stall=0.0,
                slow_score=1.0,
            )
        self.hot: list[TikvHotRegion] = [
            TikvHotRegion(
                range_id=10 + sid, store_id=sid, primary=True, flow_bytes=1e6, flow_keys=1e3
            )
            for sid in self.stores
        ]
        self.cluster = ClusterMetrics(
            figures={
                "pd_leader": "pd0",
                "pd_members_healthy": 3,
                "pd_members_total": 3,
                "leader_schedule_limit": 4,
                "region_schedule_limit": 2048,
                "replica_schedule_limit": 64,
            }
        )
        self.logs: list[LogEvent] = []
        self._logs_observed = 0
        self.history = History()
        """What the monitor's history would hold had it seen every ``observe`` (for tests
        that build a diagnosis context without a monitor)."""
        self.unreachable = False
        self.observe_delay_s = 0.0
        self.executed: list[tuple[str, dict[str, Any]]] = []
        self.closed = False

    # --- faults -------------------------------------------------------------------------

    def log(self, store_id: int | None, kind: str, message: str = "", **kw: Any) -> None:
        self.logs.append(
            TikvLogEvent(
                time=self.clock(),
                level="INFO",
                source="fake.rs:1",
                message=message or kind,
                kind=kind,
                store_id=store_id,
                raw=message,
                **kw,
            )
        )

    def kill(self, sid: int) -> None:
        self.stores[sid].state = "Disconnected"
        self.metrics[sid] = TikvStoreMetrics(
            store_id=sid, reachable=False, error="connection refused"
        )
        for other in self.stores:
            if other != sid:
                self.metrics[other].qps = (self.metrics[other].qps or 0) * 1.5
                self.log(
                    other,
                    "became_leader",
                    f"[region {20 + other}] became leader",
                    region_id=20 + other,
                )

    def start(self, sid: int) -> None:
        self.stores[sid].state = "Up"
        self.metrics[sid] = replace(
            self.metrics[sid], reachable=True, error=None, qps=1000.0, cpu_ratio=0.3, slow_score=1.0
        )
        for other in self.stores:
            self.metrics[other].qps = 1000.0

    def partition(self, sid: int) -> None:
        self.stores[sid].state = "Disconnected"

    def slow_disk(self, sid: int) -> None:
        m = self.metrics[sid]
        m.slow_score = 95.0
        m.p99_write_latency_ms = 450.0
        self.stores[sid].slow_score = 95.0
        self.log(sid, "slow_operation", "slow write", takes_ms=900.0)

    def disk_pressure(self, sid: int) -> None:
        self.stores[sid].available_bytes = 8 * GIB
        self.metrics[sid].available_bytes = 8 * GIB
        self.log(sid, "disk_space", "disk space low")

    def hot_region(self, sid: int, region_id: int = 77) -> None:
        self.hot.append(
            TikvHotRegion(
                range_id=region_id, store_id=sid, primary=True, flow_bytes=5e7, flow_keys=5e4
            )
        )

    def write_stall(self, sid: int) -> None:
        self.metrics[sid].write_stall = 3.0
        self.metrics[sid].p99_write_latency_ms = 300.0

    def overload(self) -> None:
        for m in self.metrics.values():
            m.qps = 9000.0
            m.cpu_ratio = 0.95
            m.p99_write_latency_ms = 250.0

    def pd_leader_lost(self) -> None:
        self.cluster.figures.update(pd_members_healthy=2, pd_leader=None)

    # --- Subject protocol ---------------------------------------------------------------

    def describe(self) -> SubjectConfig:
        return SubjectConfig(
            name="fake",
            actions=ACTIONS,
            invariants=INVARIANTS,
            root_cause_classes=ROOT_CAUSE_CLASSES,
            compared_metrics=COMPARED_METRICS,
            cluster_figures=CLUSTER_FIGURES,
            store_figures=STORE_FIGURES,
            metric_figures=METRIC_FIGURES,
            records=RECORDS,
        )

    async def get_stores(self) -> list[Store]:
        return [replace(s, health=self._health(s)) for s in self.stores.values()]

    def _health(self, store: Store) -> StoreHealth:
        if store.state != "Up":
            return StoreHealth(Health.UNREACHABLE, store.state, "no heartbeat")
        if not self.metrics[store.id].reachable:
            return StoreHealth(Health.UNREACHABLE, "Unreachable", "connection refused")
        return StoreHealth(Health.SERVING, "Up")

    async def get_hot_write_regions(self) -> list[HotRegion]:
        return list(self.hot)

    async def get_store_metrics(self, store_id: int) -> StoreMetrics:
        return replace(self.metrics[store_id])

    async def get_cluster_metrics(self) -> ClusterMetrics:
        up = sum(1 for s in self.stores.values() if s.state == "Up")
        return replace(
            self.cluster,
            stores_up=up,
            stores_total=len(self.stores),
            figures={**self.cluster.figures, "region_count": 100},
            qps=sum(m.qps or 0 for m in self.metrics.values() if m.reachable),
            p99_latency_ms=max((m.p99_latency_ms or 0) for m in self.metrics.values()),
        )

    async def observe(self) -> Snapshot:
        if self.observe_delay_s:
            await asyncio.sleep(self.observe_delay_s)
        if self.unreachable:
            raise SubjectUnreachable("no PD endpoint answered (connection refused)")
        now = self.clock()
        metrics = {sid: await self.get_store_metrics(sid) for sid in self.stores}
        snapshot = Snapshot(
            taken_at=now,
            stores=await self.get_stores(),
            hot_write_regions=await self.get_hot_write_regions(),
            store_metrics=metrics,
            cluster=await self.get_cluster_metrics(),
            log_events=self.logs[self._logs_observed :],
            source="fake",
        )
        self._logs_observed = len(self.logs)
        self.history.record(snapshot)
        return snapshot

    def evaluate(self, snapshot: Snapshot) -> list[Violation]:
        out: list[Violation] = []
        for s in snapshot.stores:
            m = snapshot.store_metrics.get(s.id)
            if m is not None and not m.reachable:
                out.append(
                    Violation(
                        "store_down", Severity.CRITICAL, f"store {s.id} does not answer", s.id
                    )
                )
            elif s.state != "Up":
                out.append(
                    Violation(
                        "store_disconnected",
                        Severity.CRITICAL,
                        f"PD reports store {s.id} {s.state}",
                        s.id,
                    )
                )
            if s.slow_score >= 80:
                out.append(
                    Violation("slow_store", Severity.WARNING, f"slow score {s.slow_score}", s.id)
                )
            if s.used_ratio > 0.8:
                out.append(
                    Violation("low_disk", Severity.WARNING, f"used {s.used_ratio:.0%}", s.id)
                )
            if m is not None and m.reachable and (m.write_stall or 0) > 0:
                out.append(Violation("write_stall", Severity.WARNING, "write stall", s.id))
            elif (
                m is not None
                and m.reachable
                and (m.p99_write_latency_ms or 0) > 100
                and s.slow_score < 80
            ):
                out.append(
                    Violation(
                        "high_write_latency",
                        Severity.WARNING,
                        f"p99 write {m.p99_write_latency_ms} ms",
                        s.id,
                    )
                )
        total = sum(h.flow_bytes for h in snapshot.hot_write_regions) or 1
        for h in snapshot.hot_write_regions:
            if h.flow_bytes / total > 0.5:
                out.append(
                    Violation(
                        "hot_write_region",
                        Severity.WARNING,
                        f"region {h.range_id} hot",
                        h.store_id,
                    )
                )
        pd = snapshot.cluster.figures
        if pd.get("pd_members_healthy", 0) < pd.get("pd_members_total", 0):
            out.append(
                Violation("pd_member_unhealthy", Severity.CRITICAL, "PD member unhealthy", None)
            )
        return out

    async def _act(self, action: str, args: dict[str, Any]) -> ActionResult:
        self.executed.append((action, args))
        return ActionResult(action=action, args=args, ok=True, message=f"{action} done")

    async def execute(self, action: str, args: dict[str, Any]) -> ActionResult:
        declared = self.describe().action(action)
        if declared is None:
            return ActionResult(
                action=action, args=args, ok=False, message=f"unknown action {action}", refused=True
            )
        names = [a.name for a in declared.args]
        if sorted(args) != sorted(names):
            return ActionResult(
                action=action,
                args=args,
                ok=False,
                message=f"{action} takes {', '.join(names)}",
                refused=True,
            )
        return await self._act(action, {name: args[name] for name in names})

    async def aclose(self) -> None:
        self.closed = True


class FakeChaos:
    def __init__(self, subject: FakeSubject) -> None:
        self.subject = subject

    async def kill_store(self, store_id: int) -> str:
        if store_id not in self.subject.stores:
            raise ValueError(f"no store {store_id}")
        self.subject.kill(store_id)
        return f"killed store {store_id}"

    async def start_store(self, store_id: int) -> str:
        self.subject.start(store_id)
        return f"started store {store_id}"


class FakeSettings(BaseModel):
    """The fake subject's settings section (``[fake]``): where its cluster claims to be."""

    model_config = ConfigDict(extra="forbid")

    endpoints: list[str] = ["http://127.0.0.1:2379"]


class FakePlugin:
    """A ``SubjectPlugin`` whose subject is one shared ``FakeSubject`` (so tests can break it)."""

    name = "fake"
    settings_model = FakeSettings

    def __init__(self, subject: FakeSubject | None = None) -> None:
        self.subject = subject or FakeSubject()
        self.contexts: list[SubjectContext] = []
        self.demo_options: DemoOptions | None = None

    def create(self, ctx: SubjectContext) -> FakeSubject:
        self.contexts.append(ctx)
        return self.subject

    def one_pass_settings(self, section: Any, rate_gap_s: float) -> Any:
        return section

    def offline_diagnoser(self) -> Diagnoser:
        """TiKV's rules: the fake mirrors TiKV's invariants, causes and figures."""
        from operator_tikv.diagnosis import offline_diagnoser

        return offline_diagnoser()

    @asynccontextmanager
    async def demo(self, options: DemoOptions) -> AsyncIterator[DemoCluster]:
        self.demo_options = options
        yield DemoCluster(
            endpoints=["http://127.0.0.1:1"],
            chaos=FakeChaos(self.subject),
            description="fake demo",
            settings={"endpoints": ["http://127.0.0.1:1"]},
        )

    def sim_main(self, argv: list[str]) -> int:
        return 0

    def deployment(self, options: Any) -> None:
        return None

    def harness(self, options: Any) -> None:
        return None


def clock_from(start: datetime, step_s: float = 2.0) -> Any:
    """A clock that moves ``step_s`` seconds each time it is read."""
    state = {"t": start - timedelta(seconds=step_s)}

    def tick() -> datetime:
        state["t"] += timedelta(seconds=step_s)
        return state["t"]

    return tick
