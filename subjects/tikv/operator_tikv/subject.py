"""``TikvSubject``: the TiKV cluster as core sees it.

One tick reads PD's store list first (no answer from any PD member means the
subject is unreachable), then, concurrently and within the tick's budget, the
PD members and their health, the store metrics and new log lines, plus those
slow-changing PD readings that are due (hot write regions and region checks
every 10 s, the schedule config every 30 s: see ``refresh``). Any of those
failing is written into ``Snapshot.errors`` and leaves its part unmeasured; it
never fails the tick.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from operator_tikv.actions import ACTIONS, BY_NAME, BadArguments, validate
from operator_tikv.invariants import (
    HOT_WRITE,
    PD_HEALTH,
    PD_MEMBERS,
    REGION_CHECKS,
    InvariantChecker,
    InvariantSettings,
    specs,
)
from operator_tikv.logs import stats as log_stats
from operator_tikv.logsources import DockerLogSource, FileLogSource, LogSource, SimLogSource
from operator_tikv.metrics import DirectMetrics, MetricsResult, PrometheusMetrics
from operator_tikv.metrics.fetch import HttpxFetcher, StreamFetcher
from operator_tikv.metrics.prometheus import PrometheusError
from operator_tikv.pd import PDClient
from operator_tikv.pd.client import REGION_CHECKS as CHECK_KINDS
from operator_tikv.pd.models import HealthMember, MembersInfo, ScheduleConfig
from operator_tikv.refresh import Refresh
from operator_tikv.states import GONE, stamp
from operator_tui.core.subject import (
    SLO,
    Observation,
    SubjectConfig,
    SubjectContext,
    SubjectError,
    SubjectUnreachable,
)
from operator_tui.core.types import (
    ActionResult,
    ClusterMetrics,
    Health,
    HotRegion,
    LogEvent,
    Snapshot,
    Store,
    StoreMetrics,
    Violation,
)

OBSERVATIONS = (
    Observation("stores", "PD /stores: state, heartbeat, capacity, leaders, regions, slow score"),
    Observation("hot_write_regions", "PD /hotspot/regions/write: hot regions by leader store"),
    Observation("region_checks", "PD /regions/check/{miss,down,pending,offline}-peer counts"),
    Observation("schedule_config", "PD /config/schedule: schedule limits and space ratios"),
    Observation("pd_members", "PD /members and /health: leader and member health"),
    Observation(
        "store_metrics",
        "QPS, p99 latency, p99 write latency, CPU, disk, regions, leaders, raft log lag, "
        "write stall, channel full, scheduler busy, slow score (Prometheus or /metrics)",
    ),
    Observation("logs", "TiKV log events: elections, snapshots, splits, slow operations, PD loss"),
)


def _scrape_budget(value: Any) -> int | Literal["all"] | None:
    """``auto`` (None), ``all`` (or 0), or a number of stores per tick."""
    if value is None or value == "auto":
        return None
    if value == "all":
        return "all"
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SubjectError(f"option scrape_budget: auto, all or a number, not {value!r}") from None
    if number < 0:
        raise SubjectError("option scrape_budget: must be auto, all, 0 (all) or more")
    return number or "all"


def _float_option(
    options: dict[str, Any], name: str, default: float, *, zero_ok: bool = False
) -> float:
    """A positive number of seconds (or 0 with ``zero_ok``: a slow PD group read every tick)."""
    value = options.get(name, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SubjectError(f"option {name}: not a number: {value!r}") from None
    if not (number >= 0 if zero_ok else number > 0):
        raise SubjectError(
            f"option {name}: must be 0 (every tick) or more"
            if zero_ok
            else f"option {name}: must be positive"
        )
    return number


class TikvSubject:
    """Implements ``operator_tui.core.subject.Subject`` for TiKV through PD's HTTP API."""

    name = "tikv"

    def __init__(self, ctx: SubjectContext) -> None:
        opts = dict(ctx.options)
        self.ctx = ctx
        self.tick_budget_s = _float_option(opts, "tick_timeout_s", max(5.0, ctx.interval_s * 2))
        self.pd = PDClient(
            ctx.http,
            ctx.endpoints,
            timeout_s=_float_option(opts, "pd_timeout_s", 2.0),
            retries=int(opts.get("pd_retries", 2)),
            # Inside the tick budget, so PD's own answer (e.g. 503 "no leader") reaches the
            # ticket instead of a bare tick timeout.
            call_budget_s=min(
                self.tick_budget_s * 0.8, _float_option(opts, "pd_call_budget_s", 8.0)
            ),
        )
        self.settings = InvariantSettings.from_options(opts)
        self.checker = InvariantChecker(self.settings)
        mode = ctx.metrics_source
        if mode == "auto":
            mode = "prometheus" if ctx.prometheus_url else "direct"
        if mode not in ("prometheus", "direct", "none"):
            raise SubjectError(f"unknown metrics source {ctx.metrics_source!r}")
        if mode == "prometheus" and not ctx.prometheus_url:
            raise SubjectError("metrics source is prometheus but no Prometheus URL is set")
        self.metrics_mode = mode
        clock = opts.get("clock")
        self._clock: Callable[[], datetime] = (
            clock if callable(clock) else lambda: datetime.now(UTC)
        )
        scrape_timeout = _float_option(opts, "scrape_timeout_s", 2.0)
        scrape_interval = _float_option(opts, "scrape_interval_s", 15.0)
        scrape_client = str(opts.get("scrape_client", "stream"))
        if scrape_client not in ("stream", "httpx"):
            raise SubjectError(f"unknown scrape client {scrape_client!r} (stream, httpx)")
        try:
            self.direct = DirectMetrics(
                ctx.http,
                timeout_s=scrape_timeout,
                budget=_scrape_budget(opts.get("scrape_budget", "auto")),
                interval_s=ctx.interval_s,
                scrape_interval_s=scrape_interval,
                heartbeat_overdue_s=_float_option(opts, "heartbeat_overdue_s", 12.0),
                clock=(lambda: self._clock().timestamp()) if callable(clock) else time.monotonic,
                # Kept connections are how a dead store is seen between its reads: they must
                # outlive the time between two reads of the same store.
                fetcher=StreamFetcher(keepalive_expiry_s=max(60.0, 4 * scrape_interval))
                if scrape_client == "stream"
                else HttpxFetcher(ctx.http),
                # A tick run early (``r``, a chaos action) takes its rates from an older base.
                min_rate_window_s=_float_option(opts, "min_rate_window_s", 0.75 * ctx.interval_s),
            )
        except ValueError as exc:
            raise SubjectError(f"direct metrics: {exc}") from None
        self.prometheus = (
            PrometheusMetrics(
                ctx.http,
                ctx.prometheus_url,
                window=str(opts.get("prometheus_rate_window", "1m")),
                # One query for every store: at 1000 stores Prometheus can need over 2 s.
                timeout_s=min(
                    self.tick_budget_s * 0.8, _float_option(opts, "prometheus_timeout_s", 4.0)
                ),
            )
            if ctx.prometheus_url
            else None
        )
        self.log_source = self._log_source(opts)
        self._slow = self._slow_groups(opts)
        self.include_tombstone = bool(opts.get("include_tombstone", False))
        self.last_snapshot: Snapshot | None = None
        self._closed = False

    def _slow_groups(self, opts: dict[str, Any]) -> dict[str, Refresh]:
        checks = {f"check:{kind}": kind for kind in CHECK_KINDS}

        def region_checks() -> dict[str, Awaitable[Any]]:
            calls: dict[str, Awaitable[Any]] = {
                name: self.pd.region_check_count(kind) for name, kind in checks.items()
            }
            calls["region_count"] = self.pd.region_count()
            return calls

        groups = (
            Refresh(
                "hot_write_regions",
                ("hot_write",),
                lambda: {"hot_write": self.pd.hot_write_regions()},
                _float_option(opts, "hot_regions_every_s", 10.0, zero_ok=True),
            ),
            Refresh(
                "region_checks",
                (*checks, "region_count"),
                region_checks,
                _float_option(opts, "region_checks_every_s", 10.0, zero_ok=True),
                phase=0.5,
            ),
            Refresh(
                "schedule_config",
                ("config",),
                lambda: {"config": self.pd.schedule_config()},
                _float_option(opts, "schedule_config_every_s", 30.0, zero_ok=True),
                phase=0.2,
            ),
        )
        return {g.name: g for g in groups}

    def _log_source(self, opts: dict[str, Any]) -> LogSource | None:
        kind = opts.get("log_source")
        if kind == "sim":
            return SimLogSource(self.ctx.http, self.pd.ordered_endpoints)
        if kind == "docker":
            return DockerLogSource(
                opts.get("compose_file"),
                opts.get("compose_project"),
                str(opts.get("docker_container", "{host}")),
            )
        if kind == "file" or (kind is None and opts.get("log_dir")):
            if not opts.get("log_dir"):
                raise SubjectError("log source file needs the log_dir option")
            return FileLogSource(opts["log_dir"])
        if kind not in (None, "", "none"):
            raise SubjectError(f"unknown log source {kind!r} (sim, file, docker)")
        return None

    # Description

    def describe(self) -> SubjectConfig:
        s = self.settings
        return SubjectConfig(
            name=self.name,
            actions=ACTIONS,
            observations=OBSERVATIONS,
            slos=(
                SLO(
                    "p99_write_latency_ms",
                    s.high_write_latency_ms,
                    s.grace(s.high_write_latency_grace_s),
                    "p99 async write latency per store stays below this",
                ),
                SLO(
                    "disk_used_ratio",
                    s.disk_used_warning_ratio,
                    s.grace(s.low_disk_grace_s),
                    "share of each store's capacity in use stays below this",
                ),
                SLO(
                    "under_replicated_regions",
                    0,
                    s.grace(s.under_replicated_grace_s),
                    "regions missing a replica or with a down peer",
                ),
                SLO("stores_down", 0, 0.0, "stores whose process does not answer"),
            ),
            invariants=specs(s),
        )

    # Observations

    async def get_stores(self) -> list[Store]:
        states = (0, 1, 2) if self.include_tombstone else ()
        info = await self.pd.stores(states)
        return [s.to_store() for s in info.stores]

    async def get_hot_write_regions(self) -> list[HotRegion]:
        return (await self.pd.hot_write_regions()).leader_regions()

    async def get_store_metrics(self, store_id: int) -> StoreMetrics:
        store = (await self.pd.store(store_id)).to_store()
        result = await self._collect_metrics([store])
        found = result.by_store.get(store_id)
        if found is None:
            return StoreMetrics(store_id=store_id, error="; ".join(result.errors) or "not measured")
        return found

    async def get_cluster_metrics(self) -> ClusterMetrics:
        stores = await self.get_stores()
        slow = [self._slow["region_checks"], self._slow["schedule_config"]]
        parts, _errors = await self._gather(self._cluster_calls(slow), self.tick_budget_s)
        cluster, _extra = self._cluster_metrics(stores, parts, set())
        return cluster

    def _cluster_calls(self, groups: Sequence[Refresh]) -> dict[str, Awaitable[Any]]:
        """PD members and health, and the calls of the slow groups given."""
        calls: dict[str, Awaitable[Any]] = {
            "members": self.pd.members(),
            "health": self.pd.health(),
        }
        for group in groups:
            calls.update(group.calls())
        return calls

    async def _gather(
        self, calls: dict[str, Awaitable[Any]], budget_s: float
    ) -> tuple[dict[str, Any], list[str]]:
        """Run calls concurrently for at most ``budget_s``; results by name, and errors."""
        tasks = {name: asyncio.ensure_future(c) for name, c in calls.items()}
        if not tasks:
            return {}, []
        _done, pending = await asyncio.wait(tasks.values(), timeout=max(0.01, budget_s))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        results: dict[str, Any] = {}
        errors: list[str] = []
        for name, task in tasks.items():
            if task in pending:
                errors.append(f"{name}: no answer within the tick budget of {budget_s:.1f}s")
                continue
            exc = task.exception()
            if exc is None:
                results[name] = task.result()
            elif isinstance(exc, SubjectError | PrometheusError):
                errors.append(f"{name}: {exc}")
            else:
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
        return results, errors

    async def _collect_metrics(self, stores: list[Store]) -> MetricsResult:
        if self.metrics_mode == "none":
            return MetricsResult(source="none")
        if self.metrics_mode == "prometheus" and self.prometheus is not None:
            try:
                return await self.prometheus.collect(stores)
            except PrometheusError as exc:
                if self.ctx.metrics_source != "auto":
                    return MetricsResult(errors=[str(exc)], source="prometheus")
                result = await self.direct.collect(stores)
                result.errors.insert(0, f"{exc}; scraped the stores directly instead")
                return result
        return await self.direct.collect(stores)

    async def _collect_logs(self, stores: list[Store]) -> tuple[list[LogEvent], list[str]]:
        if self.log_source is None:
            return [], []
        return await self.log_source.fetch(stores)

    async def observe(self) -> Snapshot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        taken_at = self._clock()
        try:
            async with asyncio.timeout(self.tick_budget_s):
                stores = await self.get_stores()
        except TimeoutError:
            raise SubjectUnreachable(
                f"PD did not answer GET /stores within {self.tick_budget_s:.1f}s "
                f"({', '.join(self.pd.endpoints)})"
            ) from None
        now = taken_at.timestamp()
        due = [g for g in self._slow.values() if g.due(now, self.ctx.interval_s / 2)]
        calls = self._cluster_calls(due)
        calls["metrics"] = self._collect_metrics(stores)
        calls["logs"] = self._collect_logs(stores)
        remaining = self.tick_budget_s - (loop.time() - started)
        parts, errors = await self._gather(calls, remaining)
        for group in self._slow.values():
            if group in due:
                group.keep(parts, now)
            else:
                parts.update(group.answer)
        self.direct.prune({s.id for s in stores})
        metrics: MetricsResult = parts.get("metrics") or MetricsResult()
        stamp(stores, metrics.by_store)
        unmeasured: set[str] = set()
        cluster, extra = self._cluster_metrics(stores, parts, unmeasured)
        errors.extend(metrics.errors)
        hot: list[HotRegion] = []
        if "hot_write" in parts:
            hot = parts["hot_write"].leader_regions()
        else:
            unmeasured.add(HOT_WRITE)
        store_metrics = {s.id: m for s in stores if (m := metrics.by_store.get(s.id)) is not None}
        measured = frozenset(sid for sid in store_metrics if metrics.is_fresh(sid))
        cluster.qps = sum(m.qps for m in store_metrics.values() if m.qps is not None)
        p99s = [m.p99_latency_ms for m in store_metrics.values() if m.p99_latency_ms is not None]
        cluster.p99_latency_ms = max(p99s) if p99s else None
        new_logs: list[LogEvent] = []
        if "logs" in parts:
            new_logs, log_errors = parts["logs"]
            errors.extend(log_errors)
        extra.update(
            {
                "unmeasured": sorted(unmeasured),
                "pd_endpoint": self.pd.preferred,
                "pd_failovers": self.pd.failovers,
                "metrics_source": metrics.source or self.metrics_mode,
                "tick_seconds": round(loop.time() - started, 4),
                "read_age_s": {
                    g.name: None if (age := g.age_s(now)) is None else round(age, 1)
                    for g in self._slow.values()
                },
                "log_lines_unparsed": log_stats.unparsed,
            }
        )
        snapshot = Snapshot(
            taken_at=taken_at,
            stores=stores,
            hot_write_regions=hot,
            store_metrics=store_metrics,
            cluster=cluster,
            log_events=new_logs[-500:],
            source=f"pd+{metrics.source or self.metrics_mode}",
            errors=errors,
            extra=extra,
            measured=measured,
        )
        self.last_snapshot = snapshot
        return snapshot

    def _cluster_metrics(
        self, stores: list[Store], parts: dict[str, Any], unmeasured: set[str]
    ) -> tuple[ClusterMetrics, dict[str, Any]]:
        cm = ClusterMetrics()
        extra: dict[str, Any] = {}
        live = [s for s in stores if s.state not in GONE]
        cm.stores_total = len(live)
        cm.stores_up = sum(1 for s in live if s.health.level is Health.SERVING)
        if all(f"check:{k}" in parts for k in CHECK_KINDS):
            cm.miss_peer_regions = parts["check:miss-peer"]
            cm.down_peer_regions = parts["check:down-peer"]
            cm.pending_peer_regions = parts["check:pending-peer"]
            cm.offline_peer_regions = parts["check:offline-peer"]
        else:
            unmeasured.add(REGION_CHECKS)
        if "region_count" in parts:
            cm.region_count = parts["region_count"]
        config: ScheduleConfig | None = parts.get("config")
        if config is not None:
            cm.leader_schedule_limit = config.leader_schedule_limit
            cm.region_schedule_limit = config.region_schedule_limit
            cm.replica_schedule_limit = config.replica_schedule_limit
            extra["low_space_ratio"] = config.low_space_ratio
            extra["high_space_ratio"] = config.high_space_ratio
            extra["max_store_down_time_s"] = config.max_store_down_time
        members: MembersInfo | None = parts.get("members")
        if members is not None:
            cm.pd_leader = members.leader.name if members.leader else None
            cm.cluster_id = str(members.header.cluster_id) if members.header.cluster_id else None
            extra["pd_members"] = [m.name for m in members.members]
        else:
            unmeasured.add(PD_MEMBERS)
        health: list[HealthMember] | None = parts.get("health")
        if health is not None:
            cm.pd_members_total = len(health)
            cm.pd_members_healthy = sum(1 for h in health if h.health)
            extra["pd_unhealthy_members"] = [h.name for h in health if not h.health]
        else:
            unmeasured.add(PD_HEALTH)
        return cm, extra

    def evaluate(self, snapshot: Snapshot) -> list[Violation]:
        return self.checker.evaluate(snapshot)

    # Actions

    async def _act(
        self, action: str, args: dict[str, Any], call: Callable[[], Awaitable[str]]
    ) -> ActionResult:
        try:
            message = await call()
        except SubjectError as exc:
            return ActionResult(action, args, False, str(exc))
        return ActionResult(action, args, True, message)

    async def transfer_leader(self, region_id: int, to_store_id: int) -> ActionResult:
        body = {"name": "transfer-leader", "region_id": region_id, "to_store_id": to_store_id}
        return await self._act(
            "transfer_leader",
            {"region_id": region_id, "to_store_id": to_store_id},
            lambda: self.pd.add_operator(body),
        )

    async def split_region(self, region_id: int) -> ActionResult:
        body = {"name": "split-region", "region_id": region_id, "policy": "approximate"}
        return await self._act(
            "split_region", {"region_id": region_id}, lambda: self.pd.add_operator(body)
        )

    async def _set_config(
        self, action: str, args: dict[str, Any], body: dict[str, Any]
    ) -> ActionResult:
        """A schedule-config change; the next tick reads the config again to show it."""
        result = await self._act(action, args, lambda: self.pd.set_schedule_config(body))
        self._slow["schedule_config"].forget()
        return result

    async def _set_limit(self, action: str, key: str, n: int) -> ActionResult:
        return await self._set_config(action, {"n": n}, {key: n})

    async def set_leader_schedule_limit(self, n: int) -> ActionResult:
        return await self._set_limit("set_leader_schedule_limit", "leader-schedule-limit", n)

    async def set_replica_schedule_limit(self, n: int) -> ActionResult:
        return await self._set_limit("set_replica_schedule_limit", "replica-schedule-limit", n)

    async def set_region_schedule_limit(self, n: int) -> ActionResult:
        return await self._set_limit("set_region_schedule_limit", "region-schedule-limit", n)

    async def drain_store(self, store_id: int) -> ActionResult:
        return await self._act(
            "drain_store", {"store_id": store_id}, lambda: self.pd.remove_store(store_id)
        )

    async def set_low_space_threshold(self, percent: float) -> ActionResult:
        ratio = round(percent / 100.0, 6)
        return await self._set_config(
            "set_low_space_threshold", {"percent": percent}, {"low-space-ratio": ratio}
        )

    async def execute(self, action: str, args: dict[str, Any]) -> ActionResult:
        if not isinstance(args, dict):
            return ActionResult(
                str(action), {}, False, "action arguments must be an object", refused=True
            )
        spec = BY_NAME.get(action)
        if spec is None:
            known = ", ".join(a.name for a in ACTIONS)
            return ActionResult(
                action, args, False, f"unknown action {action!r} (declared: {known})", refused=True
            )
        try:
            typed = validate(spec, args)
        except BadArguments as exc:
            return ActionResult(action, args, False, f"{action}: {exc}", refused=True)
        try:
            return await getattr(self, action)(**typed)
        except Exception as exc:
            return ActionResult(
                action, typed, False, f"{action} failed: {type(exc).__name__}: {exc}"
            )

    async def aclose(self) -> None:
        """Core owns the HTTP client; the page fetcher is ours."""
        self._closed = True
        await self.direct.fetcher.aclose()
