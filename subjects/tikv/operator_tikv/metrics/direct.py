"""Metrics read straight from each store's status port (``/metrics``), no Prometheus needed.

Rates and quantiles come from the difference between this tick's scrape and the
previous one, the way ``rate()`` and ``histogram_quantile(sum(rate(...)) by (le))``
compute them. A refused connection marks the store unreachable at once, which is
how a dead store is seen before PD's 20 s heartbeat timeout.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Literal

import httpx

from operator_tikv.metrics.base import MetricsResult, status_url
from operator_tikv.metrics.exposition import (
    ExpositionReader,
    Scrape,
    counter_increase,
    increase,
    label_dict,
    quantile_between,
    rate,
)
from operator_tikv.metrics.fetch import FetchError, HttpxFetcher, PageFetcher
from operator_tikv.metrics.parsing import TOO_LARGE, PageParser, PageSkipped
from operator_tikv.records import TikvStore, TikvStoreMetrics
from operator_tikv.states import GONE, RUNNING

FAMILIES: dict[str, Callable[[str], bool] | None] = {
    "tikv_grpc_msg_duration_seconds": lambda line: "_sum" not in line,
    "tikv_storage_engine_async_request_duration_seconds": (
        lambda line: "_bucket" in line and 'type="write"' in line
    ),
    "process_cpu_seconds_total": None,
    "tikv_server_cpu_cores_quota": None,
    "tikv_store_size_bytes": None,
    "tikv_raftstore_region_count": None,
    "tikv_raftstore_log_lag": lambda line: "_bucket" in line,
    # A line goes to the first family whose name it starts with: the longer name first.
    "tikv_engine_write_stall_reason": None,
    "tikv_engine_write_stall": lambda line: "write_stall_percentile99" in line,
    "tikv_channel_full_total": None,
    "tikv_scheduler_too_busy_total": None,
    "tikv_raftstore_slow_score": None,
    "tikv_critical_error_total": None,
    "tikv_server_report_failure_msg_total": lambda line: 'type="unreachable"' in line,
}

UNREACHABLE_REPORTS = "tikv_server_report_failure_msg_total"
STALL_REASONS = "tikv_engine_write_stall_reason"
# TiKV sets its engine gauges, the stall reasons among them, every 10 s
# (``DEFAULT_METRICS_FLUSH_INTERVAL``, components/server/src/server.rs): a rate between two
# reads closer than that sees a whole step or none. The reasons' rate spans two flushes.
REASON_WINDOW_S = 20.0
_KEPT_SCRAPES = 3


def _type_is(value: str) -> Callable[[dict[str, str]], bool]:
    return lambda labels: labels.get("type") == value


def _not_gc(labels: dict[str, str]) -> bool:
    return labels.get("type") != "kv_gc"


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def _int(value: float | None) -> int | None:
    return None if value is None or not math.isfinite(value) else int(value)


def _host(address: str) -> str:
    return address.rsplit(":", 1)[0] if ":" in address else address


def unreachable_reports(prev: Scrape, cur: Scrape) -> dict[int, float] | None:
    """``sum(rate(...{type="unreachable"})) by (store_id)``, only the destinations with a report.

    TiKV creates a destination's series at its first failure, so a page without the
    family is a store that has failed to reach no one (``{}``).
    """
    dt = cur.at - prev.at
    if dt <= 0:
        return None
    inc = increase(prev, cur, UNREACHABLE_REPORTS, _type_is("unreachable")) or {}
    out: dict[int, float] = {}
    for labels, value in inc.items():
        target = label_dict(labels).get("store_id", "")
        if value > 0 and target.isdigit():
            out[int(target)] = out.get(int(target), 0.0) + value / dt
    return out


def stall_reasons(prev: Scrape, cur: Scrape) -> dict[str, float] | None:
    """``sum(rate(tikv_engine_write_stall_reason[...])) by (type)``, only the reasons counting.

    TiKV sets every reason's gauge at once, to RocksDB's count of that stall condition since
    the engine opened (``rocksdb.cfstats`` ``io_stalls.*``; engine_rocks rocks_metrics.rs), so
    a series missing from the earlier read has no base: its increase is unknown, not its
    whole count. ``None`` when no series is in both reads.
    """
    dt = cur.at - prev.at
    if dt <= 0:
        return None
    now = cur.select(STALL_REASONS)
    before = prev.select(STALL_REASONS)
    out: dict[str, float] = {}
    compared = False
    for labels, value in now.items():
        base = before.get(labels)
        if base is None:
            continue
        compared = True
        reason = label_dict(labels).get("type", "")
        grew = counter_increase(base, value)
        if grew > 0 and reason:
            out[reason] = out.get(reason, 0.0) + grew / dt
    return out if compared else None


def compute_store_metrics(
    store_id: int, prev: Scrape | None, cur: Scrape, reasons_base: Scrape | None = None
) -> TikvStoreMetrics:
    """One store's figures from its latest scrape and, for rates, the one before;
    ``reasons_base`` (else ``prev``) is the read the stall reasons' rate starts from."""
    m = TikvStoreMetrics(store_id=store_id, reachable=True)
    m.capacity_bytes = _int(cur.total("tikv_store_size_bytes", _type_is("capacity")))
    m.available_bytes = _int(cur.total("tikv_store_size_bytes", _type_is("available")))
    m.used_bytes = _int(cur.total("tikv_store_size_bytes", _type_is("used")))
    m.region_count = _int(cur.total("tikv_raftstore_region_count", _type_is("region")))
    m.leader_count = _int(cur.total("tikv_raftstore_region_count", _type_is("leader")))
    m.write_stall = cur.max("tikv_engine_write_stall", _type_is("write_stall_percentile99"))
    m.slow_score = cur.max("tikv_raftstore_slow_score")
    if prev is None:
        return m
    m.qps = rate(prev, cur, "tikv_grpc_msg_duration_seconds_count", _not_gc)
    m.p99_latency_ms = _ms(
        quantile_between(prev, cur, "tikv_grpc_msg_duration_seconds", 0.99, _not_gc)
    )
    m.p99_write_latency_ms = _ms(
        quantile_between(
            prev, cur, "tikv_storage_engine_async_request_duration_seconds", 0.99, _type_is("write")
        )
    )
    cpu = rate(prev, cur, "process_cpu_seconds_total")
    quota = cur.max("tikv_server_cpu_cores_quota")
    if cpu is not None:
        m.cpu_ratio = cpu / quota if quota else cpu
    m.raft_log_lag = quantile_between(prev, cur, "tikv_raftstore_log_lag", 0.99)
    m.channel_full_per_s = rate(prev, cur, "tikv_channel_full_total")
    m.scheduler_busy_per_s = rate(prev, cur, "tikv_scheduler_too_busy_total")
    m.critical_errors_per_s = rate(prev, cur, "tikv_critical_error_total")
    m.unreachable_reports_per_s = unreachable_reports(prev, cur)
    m.write_stall_reasons_per_s = stall_reasons(reasons_base or prev, cur)
    return m


class DirectMetrics:
    """Scrapes live stores' ``/metrics`` concurrently, bounded in time and in parallelism.

    Like Prometheus, it reads each store about once per ``scrape_interval_s``, not
    on every ``interval_s`` tick: a real store's page costs 1.7-2.8 ms of CPU, so
    reading 100 of them every tick would cost several times a 50 ms tick.
    ``budget`` says how many stores a tick reads:

    - ``None`` (automatic): ``n * interval_s / scrape_interval_s`` of the ``n``
      live stores on average (at least ``min_per_tick``), the fraction carried to
      the next tick: 13 or 14 of 100 stores on 2 s ticks and a 15 s interval, each
      store read every 14 or 16 s, 15 s on average; plus any store whose last read
      is older than ``scrape_interval_s`` (ticks run late, stores join), so no
      read is more than one tick late; plus every urgent store (below). Clusters
      up to ``min_per_tick`` stores are read whole every tick.
    - an integer: at most that many per tick, urgent ones first (a hard cap).
    - ``"all"``: every live store every tick.

    A store is urgent when PD does not report it Up, its last read found nothing
    answering (refused, timed out: an HTTP error or a host this machine cannot
    resolve is not a sign of a dead store, and is read in its turn), other
    stores report it unreachable (raft messages to it fail: seen on the tick
    after it dies or is cut off), its PD heartbeat is overdue (more than
    ``heartbeat_overdue_s`` behind the newest one, 10 s before PD says
    Disconnected), or the connection kept to it was closed by its end (its
    process died; the fetcher's ``peer_closed``). Then come the stores read
    longest ago (never read first). The others keep their last figures for the
    tick; their rates then span the time between two reads, as ``rate()`` does.
    """

    name = "direct"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        timeout_s: float = 2.0,
        concurrency: int = 32,
        budget: int | Literal["all"] | None = None,
        interval_s: float = 2.0,
        scrape_interval_s: float = 15.0,
        min_per_tick: int = 12,
        heartbeat_overdue_s: float = 12.0,
        clock: Callable[[], float] = time.monotonic,
        fetcher: PageFetcher | None = None,
        min_rate_window_s: float = 1.0,
        page_max_chars: int = 16 << 20,
        page_parse_s: float = 0.5,
    ) -> None:
        if budget is not None and budget != "all" and (isinstance(budget, bool) or budget < 1):
            raise ValueError(f"scrape budget must be at least 1, 'all' or None, not {budget!r}")
        if interval_s <= 0 or scrape_interval_s <= 0:
            raise ValueError("the tick and scrape intervals must be positive")
        self.fetcher: PageFetcher = fetcher or HttpxFetcher(http)
        self.timeout_s = timeout_s
        self.budget = budget
        self.interval_s = interval_s
        self.scrape_interval_s = scrape_interval_s
        self.min_per_tick = min_per_tick
        self.heartbeat_overdue_s = heartbeat_overdue_s
        self._limit = asyncio.Semaphore(concurrency)
        self._clock = clock
        self.min_rate_window_s = min_rate_window_s
        # The last few scrapes per store, oldest first: a rate needs a base old enough.
        self._previous: dict[int, deque[Scrape]] = {}
        # The stall reason series of the reads of the last ``REASON_WINDOW_S``, oldest first.
        self._reasons: dict[int, deque[Scrape]] = {}
        self._last: dict[int, TikvStoreMetrics] = {}
        self._order = 0
        self._tick_at = clock()
        self._read_at: dict[int, int] = {}
        self._read_time: dict[int, float] = {}
        self._carry = 0.0
        self._urls: dict[int, tuple[str, str]] = {}
        self._suspects: set[int] = set()
        self.parser = PageParser(
            ExpositionReader(FAMILIES), max_chars=page_max_chars, max_seconds=page_parse_s
        )

    def latest_scrapes(self) -> dict[int, Scrape]:
        """Each store's last parsed scrape (what the diagnosis tools answer from in direct mode)."""
        return {sid: kept[-1] for sid, kept in self._previous.items() if kept}

    def reads_per_tick(self, stores: int) -> int:
        """The most stores of ``stores`` live ones a tick reads, urgent and overdue ones aside.

        In automatic mode a tick reads this many or one fewer: the average is
        ``stores * interval_s / scrape_interval_s``.
        """
        if self.budget == "all":
            return stores
        if self.budget is not None:
            return min(stores, self.budget)
        return min(stores, max(self.min_per_tick, math.ceil(self._share(stores) - 1e-9)))

    def _share(self, stores: int) -> float:
        return stores * self.interval_s / self.scrape_interval_s

    def _count(self, stores: int) -> int:
        """This tick's count: the average share, its fraction carried over to the next tick."""
        if self.budget is not None:
            return self.reads_per_tick(stores)
        due = self._share(stores) + self._carry
        whole = math.floor(due + 1e-9)
        if whole < self.min_per_tick or whole >= stores:
            self._carry = 0.0
            return min(stores, max(self.min_per_tick, whole))
        self._carry = max(0.0, due - whole)
        return whole

    def suspect(self, store_id: int) -> None:
        """The watch found this store's port dead between ticks: the next tick reads the
        suspects alone (the others keep their figures, which are at most one interval old),
        so the tick the wake asked for costs one read per dead store, not a round."""
        self._suspects.add(store_id)

    def _url(self, store: TikvStore) -> str:
        cached = self._urls.get(store.id)
        if cached is None or cached[0] != store.status_address:
            cached = (store.status_address, status_url(store.status_address) + "/metrics")
            self._urls[store.id] = cached
        return cached[1]

    async def scrape(self, store: TikvStore) -> TikvStoreMetrics:
        """Read one store now; the result is kept even if the tick is cut short."""
        self._suspects.discard(store.id)
        m = await self._read(store)
        self._last[store.id] = m
        self._read_at[store.id] = self._order
        self._read_time[store.id] = self._tick_at
        return m

    async def _read(self, store: TikvStore) -> TikvStoreMetrics:
        if not store.status_address:
            return TikvStoreMetrics(store_id=store.id, error="no status address from PD")
        url = self._url(store)
        async with self._limit:
            started = self.parser.now()
            try:
                page = await self.fetcher.get(url, self.timeout_s)
            except FetchError as exc:
                if exc.too_large:
                    self.parser.skipped[TOO_LARGE] += 1
                if exc.unresolved:
                    return TikvStoreMetrics(
                        store_id=store.id,
                        reachable=True,
                        error=f"{url}: cannot resolve {_host(store.status_address)} from here",
                    )
                return TikvStoreMetrics(
                    store_id=store.id, reachable=exc.reachable, error=f"{url}: {exc}"
                )
        if page.status != 200:
            return TikvStoreMetrics(
                store_id=store.id, reachable=True, error=f"{url}: HTTP {page.status}"
            )
        try:
            cur = await self.parser.parse(page.text, self._clock(), started)
        except (ValueError, PageSkipped) as exc:
            return TikvStoreMetrics(store_id=store.id, reachable=True, error=f"{url}: {exc}")
        if not cur.samples:
            return TikvStoreMetrics(
                store_id=store.id, reachable=True, error=f"{url}: no TiKV metrics on the page"
            )
        kept = self._previous.setdefault(store.id, deque(maxlen=_KEPT_SCRAPES))
        prev = self._rate_base(kept, cur)
        kept.append(cur)
        return compute_store_metrics(store.id, prev, cur, self._reasons_base(store.id, cur))

    def _reasons_base(self, store_id: int, cur: Scrape) -> Scrape:
        """The read the stall reasons' rate starts from: the newest one at least
        ``REASON_WINDOW_S`` before ``cur``, else the oldest held. Only the reason series are
        kept, and only the reads after that one."""
        kept = self._reasons.setdefault(store_id, deque())
        old_enough = cur.at - REASON_WINDOW_S
        while len(kept) > 1 and kept[1].at <= old_enough:
            kept.popleft()
        base = kept[0] if kept else cur
        kept.append(Scrape(at=cur.at, samples={STALL_REASONS: cur.series(STALL_REASONS)}))
        return base

    def _rate_base(self, kept: deque[Scrape], cur: Scrape) -> Scrape | None:
        """The newest earlier scrape at least ``min_rate_window_s`` before ``cur``.

        A tick run right after another (``r``, or after a chaos action) would otherwise take a
        rate over a fraction of a second: noise, or a false drop to 0 when the counters move
        in steps.
        """
        for older in reversed(kept):
            if cur.at - older.at >= self.min_rate_window_s:
                while kept[0] is not older:
                    kept.popleft()  # never a base again: a newer one is old enough
                return older
        return None

    def choose(self, live: list[TikvStore]) -> list[TikvStore]:
        """The stores to read this tick, urgent ones first (see the class docstring)."""
        count = self._count(len(live))
        if count >= len(live):
            return live
        beats = [s.last_heartbeat for s in live if s.last_heartbeat is not None]
        overdue_before = max(beats) - timedelta(seconds=self.heartbeat_overdue_s) if beats else None
        reported = {
            target
            for m in self._last.values()
            if m.reachable and m.unreachable_reports_per_s
            for target in m.unreachable_reports_per_s
        }
        peer_closed = self.fetcher.peer_closed
        urgent: list[TikvStore] = []
        rest: list[TikvStore] = []
        for store in live:
            last = self._last.get(store.id)
            if (
                store.state not in RUNNING
                or store.id in self._suspects
                or (last is not None and not last.reachable)
                or store.id in reported
                or (
                    overdue_before is not None
                    and store.last_heartbeat is not None
                    and store.last_heartbeat < overdue_before
                )
                or (store.status_address and peer_closed(self._url(store)))
            ):
                urgent.append(store)
            else:
                rest.append(store)
        read_at = self._read_at.get
        urgent.sort(key=lambda s: read_at(s.id, -1))
        rest.sort(key=lambda s: read_at(s.id, -1))
        if self.budget is not None:
            return (urgent + rest)[:count]
        # Read now whatever is older than the scrape interval: at most one tick late.
        stale_at = self._clock() - self.scrape_interval_s
        read_time = self._read_time.get
        overdue = [s for s in rest[count:] if read_time(s.id, stale_at) < stale_at]
        return urgent + rest[:count] + overdue

    def prune(self, known: set[int]) -> None:
        """Forget stores PD no longer lists."""
        for table in (
            self._previous,
            self._reasons,
            self._last,
            self._read_at,
            self._read_time,
            self._urls,
        ):
            for gone in set(table) - known:
                del table[gone]
        self._suspects &= known

    async def collect(self, stores: list[TikvStore]) -> MetricsResult:
        live = [s for s in stores if s.state not in GONE]
        self._tick_at = self._clock()
        suspects = [s for s in live if s.id in self._suspects]
        chosen = suspects or self.choose(live)
        self._order += 1
        results = await asyncio.gather(*(self.scrape(s) for s in chosen))
        out = MetricsResult(source=self.name)
        for m in results:
            out.by_store[m.store_id] = m
            out.fresh.add(m.store_id)
        for store in live:
            if store.id not in out.by_store and store.id in self._last:
                out.by_store[store.id] = self._last[store.id]
        return out
