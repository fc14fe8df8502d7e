"""Prometheus text exposition for simulated TiKV stores (Rust prometheus 0.13) and PD (client_golang).

Histograms are kept lazily: each series remembers how many observations it took
from each (median, spread) log-normal distribution, and the cumulative bucket
counts are computed from the distribution's CDF only when scraped. Counting is
then O(series) per tick whatever the request rate, and buckets stay monotonic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from operator_tikv.sim.encode import exponential_buckets, go_float, rust_float


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    kind: str  # counter | gauge | histogram
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    integer: bool = False


def _by_name(*families: Family) -> dict[str, Family]:
    return {f.name: f for f in families}


def _exp(start: float, factor: float, count: int) -> tuple[float, ...]:
    return tuple(exponential_buckets(start, factor, count))


_B_1E5_26 = _exp(0.00001, 2.0, 26)
_B_1E5_32 = _exp(0.00001, 2.0, 32)

# HELP texts, label names and buckets as registered in tikv/tikv v8.5.7 (see metric_index.json).
TIKV_FAMILIES: dict[str, Family] = _by_name(
    Family(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        integer=True,
    ),
    Family(
        "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", integer=True
    ),
    Family(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        integer=True,
    ),
    Family(
        "tikv_channel_full_total",
        "counter",
        "Total number of channel full errors.",
        ("type",),
        integer=True,
    ),
    Family(
        "tikv_critical_error_total",
        "counter",
        "Counter of critical error.",
        ("type",),
        integer=True,
    ),
    Family("tikv_engine_size_bytes", "gauge", "Sizes of each column families", ("db", "type")),
    Family(
        "tikv_engine_num_files_at_level",
        "gauge",
        "Number of files at each level",
        ("db", "cf", "level"),
        integer=True,
    ),
    Family(
        "tikv_engine_pending_compaction_bytes",
        "gauge",
        "Pending compaction bytes",
        ("db", "cf"),
        integer=True,
    ),
    Family("tikv_engine_stall_micro_seconds", "counter", "Stall micros", ("db",), integer=True),
    Family("tikv_engine_write_stall", "gauge", "Histogram of write stall", ("db", "type")),
    Family(
        "tikv_engine_write_stall_reason",
        "gauge",
        "QPS of each reason which cause tikv write stall",
        ("db", "type"),
        integer=True,
    ),
    Family(
        "tikv_grpc_msg_duration_seconds",
        "histogram",
        "Bucketed histogram of grpc server messages",
        ("type", "priority"),
        _exp(5e-5, 2.0, 22),
    ),
    Family(
        "tikv_grpc_msg_fail_total",
        "counter",
        "Total number of handle grpc message failure",
        ("type",),
        integer=True,
    ),
    Family(
        "tikv_pd_heartbeat_message_total",
        "counter",
        "Total number of PD heartbeat messages.",
        ("type",),
        integer=True,
    ),
    Family(
        "tikv_pd_reconnect_total",
        "counter",
        "Total number of PD reconnections.",
        ("type",),
        integer=True,
    ),
    Family(
        "tikv_raftstore_append_log_duration_seconds",
        "histogram",
        "Bucketed histogram of peer appending log duration.",
        (),
        _B_1E5_26,
    ),
    Family(
        "tikv_raftstore_apply_log_duration_seconds",
        "histogram",
        "Bucketed histogram of peer applying log duration.",
        (),
        _B_1E5_26,
    ),
    Family(
        "tikv_raftstore_commit_log_duration_seconds",
        "histogram",
        "Bucketed histogram of peer commits logs duration.",
        (),
        _B_1E5_32,
    ),
    Family(
        "tikv_raftstore_leader_missing",
        "gauge",
        "Total number of leader missed region.",
        integer=True,
    ),
    Family(
        "tikv_raftstore_log_lag",
        "histogram",
        "Bucketed histogram of log lag in a region.",
        (),
        (2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 5120.0, 10240.0),
    ),
    Family(
        "tikv_raftstore_raft_process_duration_secs",
        "histogram",
        "Bucketed histogram of peer processing raft duration.",
        ("type",),
        _B_1E5_26,
    ),
    Family(
        "tikv_raftstore_raft_sent_message_total",
        "counter",
        "Total number of raft ready sent messages.",
        ("type", "status"),
        integer=True,
    ),
    Family(
        "tikv_raftstore_region_count",
        "gauge",
        "Number of regions collected in region_collector",
        ("type",),
    ),
    Family(
        "tikv_raftstore_slow_score",
        "gauge",
        "Slow score of the store.",
        ("type",),
        integer=True,
    ),
    Family(
        "tikv_raftstore_snapshot_total",
        "counter",
        "Total number of raftstore snapshot processed.",
        ("type", "status"),
        integer=True,
    ),
    Family(
        "tikv_raftstore_snapshot_traffic_total",
        "gauge",
        "Total number of raftstore snapshot traffic.",
        ("type",),
    ),
    Family(
        "tikv_raftstore_admin_cmd_total",
        "counter",
        "Total number of admin cmd processed.",
        ("type", "status"),
        integer=True,
    ),
    Family("tikv_scheduler_contex_total", "gauge", "Total number of pending commands."),
    Family(
        "tikv_scheduler_command_duration_seconds",
        "histogram",
        "Bucketed histogram of command execution",
        ("type",),
        _B_1E5_26,
    ),
    Family(
        "tikv_scheduler_latch_wait_duration_seconds",
        "histogram",
        "Bucketed histogram of latch wait",
        ("type",),
        _B_1E5_26,
    ),
    Family(
        "tikv_raftstore_region_size",
        "histogram",
        "Bucketed histogram of approximate region size.",
        (),
        _exp(1024.0 * 1024.0, 2.0, 20),
    ),
    Family(
        "tikv_worker_pending_task_total",
        "gauge",
        "Current worker pending + running tasks.",
        ("name",),
    ),
    Family(
        "tikv_scheduler_too_busy_total",
        "counter",
        "Total count of scheduler too busy",
        ("type",),
        integer=True,
    ),
    Family("tikv_server_cpu_cores_quota", "gauge", "Total CPU cores quota for TiKV server"),
    Family("tikv_server_memory_quota_bytes", "gauge", "Total memory bytes quota for TiKV server"),
    Family(
        "tikv_server_report_failure_msg_total",
        "counter",
        "Total number of reporting failure messages",
        ("type", "store_id"),
        integer=True,
    ),
    Family(
        "tikv_storage_engine_async_request_duration_seconds",
        "histogram",
        "Bucketed histogram of processing successful asynchronous requests.",
        ("type",),
        _B_1E5_32,
    ),
    Family(
        "tikv_storage_engine_async_request_total",
        "counter",
        "Total number of engine asynchronous requests",
        ("type", "status"),
        integer=True,
    ),
    Family("tikv_store_size_bytes", "gauge", "Size of storage.", ("type",), integer=True),
    Family(
        "tikv_thread_cpu_seconds_total",
        "gauge",
        "Total user and system CPU time spent in seconds by threads.",
        ("name", "tid"),
    ),
)

# A histogram series' line heads (bucket, sum, count) by (family, labels, formatter): the
# same on every scrape and every store, and building them is most of a page's cost.
_HEAD_CACHE: dict[tuple[str, str, Callable[[float], str]], tuple[str, ...]] = {}
_CDF_CACHE: dict[tuple[tuple[float, ...], float, float], tuple[float, ...]] = {}


def _cdf(buckets: tuple[float, ...], median: float, sigma: float) -> tuple[float, ...]:
    key = (buckets, median, sigma)
    hit = _CDF_CACHE.get(key)
    if hit is None:
        mu = math.log(median)
        scale = sigma * math.sqrt(2.0)
        hit = tuple(0.5 * (1.0 + math.erf((math.log(b) - mu) / scale)) for b in buckets)
        if len(_CDF_CACHE) < 20000:
            _CDF_CACHE[key] = hit
    return hit


def quantize(value: float) -> float:
    """Round a positive value to 1/8 of a power of two so few distinct distributions exist."""
    if value <= 0:
        return 1e-9
    return 2.0 ** (round(math.log2(value) * 8) / 8)


@dataclass(slots=True)
class HistSeries:
    dists: dict[tuple[float, float], float] = field(default_factory=dict)
    total: float = 0.0
    sum: float = 0.0


class Registry:
    """One process's metrics: counters and gauges by label values, histograms as distributions."""

    def __init__(self, families: dict[str, Family]) -> None:
        self.families = families
        self.values: dict[str, dict[tuple[str, ...], float]] = {}
        self.hists: dict[str, dict[tuple[str, ...], HistSeries]] = {}

    def inc(self, name: str, labels: tuple[str, ...] = (), by: float = 1.0) -> None:
        series = self.values.setdefault(name, {})
        series[labels] = series.get(labels, 0.0) + by

    def set(self, name: str, labels: tuple[str, ...], value: float) -> None:
        self.values.setdefault(name, {})[labels] = value

    def get(self, name: str, labels: tuple[str, ...] = ()) -> float:
        return self.values.get(name, {}).get(labels, 0.0)

    def observe(
        self, name: str, labels: tuple[str, ...], n: float, median: float, sigma: float = 0.6
    ) -> None:
        if n <= 0:
            return
        series = self.hists.setdefault(name, {}).get(labels)
        if series is None:
            series = self.hists[name][labels] = HistSeries()
        key = (quantize(median), sigma)
        series.dists[key] = series.dists.get(key, 0.0) + n
        series.total += n
        series.sum += n * key[0] * math.exp(sigma * sigma / 2.0)

    def render(
        self, fmt: Callable[[float], str] = rust_float, extra: Mapping[str, str] | None = None
    ) -> str:
        """Families sorted by name, series by label values, label pairs by name, ``le`` last.

        ``extra`` holds families rendered elsewhere (name -> lines), placed in name order.
        """
        out: list[str] = []
        names = set(self.values) | set(self.hists)
        for name in sorted(names | set(extra or ())):
            if name not in names:
                out.append(extra[name])  # type: ignore[index]
                continue
            fam = self.families[name]
            series: Any = self.hists.get(name) if fam.kind == "histogram" else self.values.get(name)
            if not series:
                continue
            out.append(f"# HELP {name} {fam.help}")
            out.append(f"# TYPE {name} {fam.kind}")
            order = sorted(range(len(fam.labels)), key=fam.labels.__getitem__)
            label_names = [fam.labels[k] for k in order]
            for values, labels in sorted((tuple(ls[k] for k in order), ls) for ls in series):
                inner = ",".join(
                    f'{n}="{_escape(v)}"' for n, v in zip(label_names, values, strict=True)
                )
                if fam.kind == "histogram":
                    self._render_hist(out, fam, inner, series[labels], fmt)
                else:
                    value = series[labels]
                    text = str(int(value)) if fam.integer else fmt(value)
                    out.append(f"{name}{{{inner}}} {text}" if inner else f"{name} {text}")
        return "\n".join(out) + "\n"

    @staticmethod
    def _render_hist(
        out: list[str], fam: Family, inner: str, s: HistSeries, fmt: Callable[[float], str]
    ) -> None:
        acc = [0.0] * len(fam.buckets)
        for (median, sigma), n in s.dists.items():
            cdf = _cdf(fam.buckets, median, sigma)
            for i, c in enumerate(cdf):
                acc[i] += n * c
        total = int(s.total)
        prev = 0
        key = (fam.name, inner, fmt)
        heads = _HEAD_CACHE.get(key)
        if heads is None:
            lead = inner + "," if inner else ""
            tail = f"{{{inner}}}" if inner else ""
            bounds = [*(fmt(b) for b in fam.buckets), "+Inf"]
            heads = (
                *(f'{fam.name}_bucket{{{lead}le="{b}"}} ' for b in bounds),
                f"{fam.name}_sum{tail} ",
                f"{fam.name}_count{tail} ",
            )
            if len(_HEAD_CACHE) < 20000:
                _HEAD_CACHE[key] = heads
        for head, value in zip(heads, acc, strict=False):
            count = min(max(int(value), prev), total)
            prev = count
            out.append(f"{head}{count}")
        out.append(f"{heads[-3]}{total}")
        out.append(f"{heads[-2]}{fmt(s.sum)}")
        out.append(f"{heads[-1]}{total}")


def _escape(value: str) -> str:
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return value


def go_render(registry: Registry) -> str:
    return registry.render(go_float)
