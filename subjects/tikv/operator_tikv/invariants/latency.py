"""Is each store's write path keeping up: write latency, raft log lag, and Server-is-busy."""

from __future__ import annotations

from operator_tikv.invariants import names
from operator_tikv.invariants.check import Report, StoreTick, store_check
from operator_tikv.invariants.text import label
from operator_tui.core.types import Severity
from operator_tui.core.units import duration_s, ms, per_s


@store_check(
    names.HIGH_WRITE_LATENCY,
    Severity.CRITICAL,
    lambda s: (
        f"p99 async write latency above {s.high_write_latency_ms:g} ms "
        f"(critical above {s.critical_write_latency_ms:g} ms)."
    ),
    grace="high_write_latency_grace_s",
)
def high_write_latency(t: StoreTick, out: Report) -> None:
    """Warning above ``high_write_latency_ms``, critical above ``critical_write_latency_ms``."""
    s, m = t.settings, t.metrics
    p99 = m.p99_write_latency_ms if m is not None and m.reachable else None
    if p99 is None:
        out.unmeasured()
        return
    if p99 > s.high_write_latency_ms:
        out.fire(
            f"{label(t.store)} p99 write latency is {ms(p99)} (> {ms(s.high_write_latency_ms)})",
            severity=Severity.CRITICAL if p99 > s.critical_write_latency_ms else Severity.WARNING,
            p99_write_latency_ms=p99,
        )


@store_check(
    names.RAFT_LOG_LAG,
    Severity.CRITICAL,
    lambda s: f"p99 raft log lag above {s.raft_log_lag_entries:g} entries (TiKV_raft_log_lag).",
    grace="raft_log_lag_grace_s",
)
def raft_log_lag(t: StoreTick, out: Report) -> None:
    """TiKV's TiKV_raft_log_lag alert: p99 lag above 5000 entries for 1 minute."""
    s, m = t.settings, t.metrics
    lag = m.raft_log_lag if m is not None and m.reachable else None
    if lag is None:
        out.unmeasured()
    elif lag > s.raft_log_lag_entries:
        out.fire(
            f"{label(t.store)} p99 raft log lag is {lag:.0f} entries "
            f"(> {s.raft_log_lag_entries:g})",
            raft_log_lag=lag,
        )


@store_check(
    names.WRITE_STALL,
    Severity.CRITICAL,
    "Server is busy: RocksDB write stall, raftstore channel full, or scheduler too busy.",
    grace="write_stall_grace_s",
)
def write_stall(t: StoreTick, out: Report) -> None:
    """The three reasons TiKV answers ``ServerIsBusy``; any of them above zero fires."""
    m = t.metrics
    if m is None or not m.reachable:
        out.unmeasured()
        return
    signals = {
        "write_stall": m.write_stall,
        "channel_full_per_s": m.channel_full_per_s,
        "scheduler_busy_per_s": m.scheduler_busy_per_s,
    }
    if all(v is None for v in signals.values()):
        out.unmeasured()
        return
    firing = {k: v for k, v in signals.items() if v is not None and v > 0}
    if not firing:
        return
    parts = []
    if "write_stall" in firing:
        # RocksDB's stall histogram is in microseconds (see invariants/measures.py).
        parts.append(f"RocksDB write stall (p99 {duration_s(firing['write_stall'] / 1e6)})")
    if "channel_full_per_s" in firing:
        parts.append(f"raftstore channel full {per_s(firing['channel_full_per_s'])}")
    if "scheduler_busy_per_s" in firing:
        parts.append(f"scheduler too busy {per_s(firing['scheduler_busy_per_s'])}")
    out.fire(f"{label(t.store)} is busy: " + ", ".join(parts), **firing)
