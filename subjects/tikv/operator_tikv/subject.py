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
from typing import Any

from operator_tikv import action_checks, actions
from operator_tikv.actions import ACTIONS
from operator_tikv.cluster import add_store_load, cluster_metrics
from operator_tikv.diagnosis.causes import ROOT_CAUSE_CLASSES
from operator_tikv.diagnosis.guide import COMPARED_METRICS, DIAGNOSIS_GUIDE
from operator_tikv.figures import CLUSTER_FIGURES
from operator_tikv.incidents import RULES as INCIDENT_RULES
from operator_tikv.invariants import (
    HOT_WRITE,
    InvariantChecker,
    specs,
)
from operator_tikv.invariants.measures import measures
from operator_tikv.logs import stats as log_stats
from operator_tikv.logsources import DockerLogSource, FileLogSource, HttpLogSource, LogSource
from operator_tikv.metrics import DirectMetrics, MetricsResult, PrometheusMetrics
from operator_tikv.metrics.fetch import HttpxFetcher, StreamFetcher
from operator_tikv.metrics.prometheus import PrometheusError
from operator_tikv.metrics.scrape_watch import StoreWatch
from operator_tikv.pd import PDClient
from operator_tikv.pd.client import REGION_CHECKS as CHECK_KINDS
from operator_tikv.pd.leader_watch import LeaderWatch
from operator_tikv.records import (
    METRIC_FIGURES,
    RECORDS,
    STORE_FIGURES,
    TikvHotRegion,
    TikvLogEvent,
    TikvStore,
    TikvStoreMetrics,
)
from operator_tikv.refresh import Refresh
from operator_tikv.settings import TikvSettings
from operator_tikv.states import DOWN_OR_GONE, stamp
from operator_tikv.tools import PDReads, PrometheusReads, build_tools
from operator_tui.core.bounds import clip
from operator_tui.core.raw import RawAnswer
from operator_tui.core.subject import (
    SLO,
    ActionCheck,
    Observation,
    SubjectConfig,
    SubjectContext,
    SubjectError,
    SubjectUnreachable,
)
from operator_tui.core.types import ActionResult, ClusterMetrics, Snapshot, Violation
from operator_tui.core.urls import mask_urls
from operator_tui.core.wakeup import WakeFn

ERROR_MAX = 500
"""Longest error line a snapshot keeps (they hold text a store, PD or a log sent)."""

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


RAW_PATHS = {"store": "/store/{id}", "region": "/region/id/{id}"}
"""The PD routes a raw record is read from, by kind."""


class TikvSubject:
    """Implements ``operator_tui.core.subject.Subject`` for TiKV through PD's HTTP API."""

    name = "tikv"

    def __init__(self, ctx: SubjectContext) -> None:
        cfg: TikvSettings = ctx.settings
        self.ctx = ctx
        self.cfg = cfg
        self.tick_budget_s = cfg.tick_timeout_s or max(5.0, ctx.interval_s * 2)
        self.pd = PDClient(
            ctx.http,
            cfg.pd,
            timeout_s=cfg.pd_timeout_s,
            retries=cfg.pd_retries,
            # Inside the tick budget, so PD's own answer (e.g. 503 "no leader") reaches the
            # ticket instead of a bare tick timeout.
            call_budget_s=min(self.tick_budget_s * 0.8, cfg.pd_call_budget_s),
            max_answer_bytes=cfg.pd_max_answer_bytes,
        )
        self.settings = cfg.invariants
        self.checker = InvariantChecker(self.settings)
        mode = cfg.metrics_source
        if mode == "auto":
            mode = "prometheus" if cfg.prometheus_url else "direct"
        if mode == "prometheus" and not cfg.prometheus_url:
            raise SubjectError("metrics source is prometheus but no Prometheus URL is set")
        self.metrics_mode = mode
        clock = ctx.clock
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        scrape_interval = cfg.scrape_interval_s
        try:
            self.direct = DirectMetrics(
                ctx.http,
                timeout_s=cfg.scrape_timeout_s,
                budget=cfg.budget,
                interval_s=ctx.interval_s,
                scrape_interval_s=scrape_interval,
                heartbeat_overdue_s=cfg.heartbeat_overdue_s,
                clock=(lambda: self._clock().timestamp()) if clock else time.monotonic,
                # Kept connections are how a dead store is seen between its reads: they must
                # outlive the time between two reads of the same store.
                # The page cap holds before the body is read: its Content-Length (or the bytes
                # so far) past the cap ends the read, so an oversized page costs no receiving.
                fetcher=StreamFetcher(
                    keepalive_expiry_s=max(60.0, 4 * scrape_interval),
                    max_bytes=cfg.scrape_max_page_chars,
                )
                if cfg.scrape_client == "stream"
                else HttpxFetcher(ctx.http, max_bytes=cfg.scrape_max_page_chars),
                # A tick run early (``r``, a chaos action) takes its rates from an older base.
                min_rate_window_s=cfg.min_rate_window_s or 0.75 * ctx.interval_s,
                page_max_chars=cfg.scrape_max_page_chars,
                page_parse_s=cfg.scrape_parse_timeout_s,
            )
        except ValueError as exc:
            raise SubjectError(f"direct metrics: {exc}") from None
        self.prometheus = (
            PrometheusMetrics(
                ctx.http,
                cfg.prometheus_url,
                window=cfg.prometheus_rate_window,
                # One query for every store: at 1000 stores Prometheus can need over 2 s.
                timeout_s=min(self.tick_budget_s * 0.8, cfg.prometheus_timeout_s),
            )
            if cfg.prometheus_url
            else None
        )
        self.log_source = self._log_source(cfg)
        self._slow = self._slow_groups(cfg)
        self.include_tombstone = cfg.include_tombstone
        self.store_watch = (
            StoreWatch(max_stores=cfg.watch_max_stores, on_suspect=self.direct.suspect)
            if cfg.watch_stores and cfg.watch_max_stores
            else None
        )
        self.leader_watch = (
            LeaderWatch(self.pd, poll_s=cfg.pd_leader_poll_s, timeout_s=min(1.0, cfg.pd_timeout_s))
            if cfg.pd_leader_poll_s
            else None
        )
        self.last_snapshot: Snapshot | None = None
        self._closed = False
        self.tools = build_tools(
            PDReads(self.pd),
            PrometheusReads(ctx.http, cfg.prometheus_url, cfg.prometheus_timeout_s)
            if cfg.prometheus_url
            else None,
            self.direct,
        )

    def _slow_groups(self, cfg: TikvSettings) -> dict[str, Refresh]:
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
                cfg.hot_regions_every_s,
            ),
            Refresh(
                "region_checks",
                (*checks, "region_count"),
                region_checks,
                cfg.region_checks_every_s,
                phase=0.5,
            ),
            Refresh(
                "schedule_config",
                ("config",),
                lambda: {"config": self.pd.schedule_config()},
                cfg.schedule_config_every_s,
                phase=0.2,
            ),
        )
        return {g.name: g for g in groups}

    def _log_source(self, cfg: TikvSettings) -> LogSource | None:
        kind = cfg.logs
        if kind == "http":
            try:
                return HttpLogSource(self.ctx.http, cfg.log_url)
            except ValueError as exc:
                raise SubjectError(str(exc)) from None
        if kind == "docker":
            from operator_tikv.lab.files import current_compose_file, default_state_dir

            compose = cfg.compose_file or current_compose_file(cfg.lab_dir or default_state_dir())
            return DockerLogSource(str(compose), cfg.compose_project, cfg.docker_container)
        if kind == "file":
            return FileLogSource(cfg.log_dir)
        return None

    # Description

    def describe(self) -> SubjectConfig:
        s = self.settings
        return SubjectConfig(
            name=self.name,
            actions=ACTIONS,
            cluster_figures=CLUSTER_FIGURES,
            store_figures=STORE_FIGURES,
            metric_figures=METRIC_FIGURES,
            records=RECORDS,
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
            measures=measures(s),
            root_cause_classes=ROOT_CAUSE_CLASSES,
            compared_metrics=COMPARED_METRICS,
            diagnosis_guide=DIAGNOSIS_GUIDE,
            incident_rules=INCIDENT_RULES,
            tools=self.tools,
        )

    # Observations

    async def get_stores(self) -> list[TikvStore]:
        states = (0, 1, 2) if self.include_tombstone else ()
        info = await self.pd.stores(states)
        return [s.to_store() for s in info.stores]

    async def get_hot_write_regions(self) -> list[TikvHotRegion]:
        return (await self.pd.hot_write_regions()).leader_regions()

    async def get_store_metrics(self, store_id: int) -> TikvStoreMetrics:
        store = (await self.pd.store(store_id)).to_store()
        result = await self._collect_metrics([store])
        found = result.by_store.get(store_id)
        if found is None:
            return TikvStoreMetrics(
                store_id=store_id, error="; ".join(result.errors) or "not measured"
            )
        return found

    async def get_cluster_metrics(self) -> ClusterMetrics:
        stores = await self.get_stores()
        slow = [self._slow["region_checks"], self._slow["schedule_config"]]
        parts, _errors = await self._gather(self._cluster_calls(slow), self.tick_budget_s)
        cluster, _extra = cluster_metrics(stores, parts, set())
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

    async def _collect_metrics(self, stores: list[TikvStore]) -> MetricsResult:
        if self.metrics_mode == "none":
            return MetricsResult(source="none")
        if self.metrics_mode == "prometheus" and self.prometheus is not None:
            try:
                return await self.prometheus.collect(stores)
            except PrometheusError as exc:
                if self.cfg.metrics_source != "auto":
                    return MetricsResult(errors=[str(exc)], source="prometheus")
                result = await self.direct.collect(stores)
                result.errors.insert(0, f"{exc}; scraped the stores directly instead")
                return result
        return await self.direct.collect(stores)

    async def _collect_logs(self, stores: list[TikvStore]) -> tuple[list[TikvLogEvent], list[str]]:
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
                f"({', '.join(map(self.pd.shown, self.pd.endpoints))})"
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
        if self.store_watch is not None:
            self.store_watch.track(
                {s.id: s.status_address for s in stores if s.state not in DOWN_OR_GONE}
            )
        metrics: MetricsResult = parts.get("metrics") or MetricsResult()
        self._watched_dead(metrics)
        stamp(stores, metrics.by_store)
        unmeasured: set[str] = set()
        cluster, extra = cluster_metrics(stores, parts, unmeasured)
        errors.extend(metrics.errors)
        hot: list[TikvHotRegion] = []
        if "hot_write" in parts:
            hot = parts["hot_write"].leader_regions()
        else:
            unmeasured.add(HOT_WRITE)
        store_metrics = {s.id: m for s in stores if (m := metrics.by_store.get(s.id)) is not None}
        measured = frozenset(sid for sid in store_metrics if metrics.is_fresh(sid))
        add_store_load(cluster, store_metrics)
        new_logs: list[TikvLogEvent] = []
        if "logs" in parts:
            new_logs, log_errors = parts["logs"]
            errors.extend(log_errors)
        errors.extend(self.pd.take_notes())
        extra.update(
            {
                "unmeasured": sorted(unmeasured),
                "pd_endpoint": self.pd.shown(self.pd.preferred),
                "pd_failovers": self.pd.failovers,
                "pd_items_dropped": self.pd.repairs["dropped"],
                "pd_chars_replaced": self.pd.repairs["replaced"],
                "metrics_source": metrics.source or self.metrics_mode,
                "tick_seconds": round(loop.time() - started, 4),
                "read_age_s": {
                    g.name: None if (age := g.age_s(now)) is None else round(age, 1)
                    for g in self._slow.values()
                },
                "log_lines_unparsed": log_stats.unparsed,
                "metrics_pages_skipped": dict(self.direct.parser.skipped),
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
            errors=[clip(mask_urls(e), ERROR_MAX) for e in errors],
            extra=extra,
            measured=measured,
        )
        self.last_snapshot = snapshot
        return snapshot

    def _watched_dead(self, metrics: MetricsResult) -> None:
        """Through Prometheus, a store is seen dead only after its next scrape there: until
        then a port the watch saw answer, then refuse, and still refuses is the evidence."""
        if self.store_watch is None or metrics.source != "prometheus":
            return
        for sid, why in self.store_watch.dead.items():
            seen = metrics.by_store.get(sid)
            if seen is None or seen.reachable:
                metrics.by_store[sid] = TikvStoreMetrics(store_id=sid, reachable=False, error=why)
                if metrics.fresh or metrics.fresh_exact:
                    metrics.fresh.add(sid)

    def evaluate(self, snapshot: Snapshot) -> list[Violation]:
        return self.checker.evaluate(snapshot)

    async def watch(self, wake: WakeFn) -> None:
        """Between ticks (``core.wakeup.Watched``): each store's status port
        (``metrics.scrape_watch``) and PD's leader (``pd.leader_watch``)."""
        watches = [w.watch(wake) for w in (self.store_watch, self.leader_watch) if w is not None]
        if watches:
            await asyncio.gather(*watches)

    async def execute(self, action: str, args: dict[str, Any]) -> ActionResult:
        return await actions.execute(
            self.pd, action, args, config_changed=self._slow["schedule_config"].forget
        )

    async def precheck(
        self, action: str, args: dict[str, Any], current: dict[str, Any]
    ) -> ActionCheck:
        typed = actions.typed_or_none(action, args)
        if typed is None:
            return ActionCheck(True)  # execute refuses it with the reason
        return await action_checks.precheck(self.pd, action, typed, current)

    async def verify(self, action: str, args: dict[str, Any]) -> ActionCheck:
        typed = actions.typed_or_none(action, args)
        if typed is None:
            return ActionCheck(False, f"{action}: arguments do not validate")
        return await action_checks.verify(self.pd, action, typed)

    def raw_kinds(self) -> tuple[str, ...]:
        return tuple(RAW_PATHS)

    async def raw_record(self, kind: str, key: int) -> RawAnswer:
        """PD's own answer for a store or a region (``GET /store/{id}``,
        ``GET /region/id/{id}`` in PD's server/api router), body untouched."""
        path = RAW_PATHS.get(kind)
        if path is None:
            raise SubjectError(f"no raw {kind} records here (known: {', '.join(RAW_PATHS)})")
        return await self.pd.get_raw(path.format(id=int(key)))

    async def aclose(self) -> None:
        """Core owns the HTTP client; the page fetcher is ours."""
        self._closed = True
        self.direct.parser.close()
        await self.direct.fetcher.aclose()
