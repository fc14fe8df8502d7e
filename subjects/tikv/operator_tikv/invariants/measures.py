"""How front ends word, scale and colour TiKV's per-store figures.

The thresholds are the invariants' own (``InvariantSettings``), so a cell turns amber or red
at the value the matching invariant fires at, and nowhere else.
"""

from __future__ import annotations

from operator_tikv.invariants import names
from operator_tikv.invariants.settings import InvariantSettings
from operator_tui.core.subject import Measure


def measures(s: InvariantSettings) -> tuple[Measure, ...]:
    return (
        Measure("qps", "requests", "/s"),
        Measure("p99_latency_ms", "p99 request latency", "ms"),
        Measure(
            "p99_write_latency_ms",
            "p99 write latency",
            "ms",
            warning=s.high_write_latency_ms,
            critical=s.critical_write_latency_ms,
            invariant=names.HIGH_WRITE_LATENCY,
        ),
        Measure("cpu_ratio", "CPU", "ratio"),
        Measure(
            "used_ratio",
            "disk used",
            "ratio",
            warning=s.disk_used_warning_ratio,
            critical=1.0 - s.disk_available_critical_ratio,
            invariant=names.LOW_DISK,
        ),
        Measure(
            "raft_log_lag",
            "raft log lag p99",
            "entries",
            critical=s.raft_log_lag_entries,
            invariant=names.RAFT_LOG_LAG,
        ),
        # tikv_engine_write_stall{type="write_stall_percentile99"}: RocksDB's stall histogram, µs.
        Measure(
            "write_stall",
            "RocksDB write stall p99",
            "us",
            critical=0.0,
            invariant=names.WRITE_STALL,
        ),
        Measure(
            "channel_full_per_s",
            "raftstore channel full",
            "/s",
            critical=0.0,
            invariant=names.WRITE_STALL,
        ),
        Measure(
            "scheduler_busy_per_s",
            "scheduler too busy",
            "/s",
            critical=0.0,
            invariant=names.WRITE_STALL,
        ),
        Measure(
            "slow_score",
            "slow score",
            critical=s.slow_score_threshold,
            invariant=names.SLOW_STORE,
        ),
        Measure("leader_count", "leaders", "count"),
        Measure("region_count", "regions", "count"),
        Measure(
            "hot_write_share",
            "share of the hot write flow it leads",
            "ratio",
            warning=s.hot_write_share,
            invariant=names.HOT_WRITE_REGION,
        ),
    )
