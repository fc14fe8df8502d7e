"""Write path checks: write latency (grace, escalation, gaps), raft log lag, Server-is-busy."""

from operator_tikv.invariants import InvariantChecker, InvariantSettings

from operator_tui.core.types import Severity


def test_high_write_latency_grace_and_escalation(metrics, snap, keys):
    checker = InvariantChecker()
    slow = lambda p99: {1: metrics(1, p99_write_latency_ms=p99), 2: metrics(2), 3: metrics(3)}  # noqa: E731
    assert checker.evaluate(snap(0, m=slow(150))) == []
    assert checker.evaluate(snap(59, m=slow(150))) == []
    out = checker.evaluate(snap(60, m=slow(150)))
    assert keys(out) == ["high_write_latency:store-1"]
    assert out[0].severity is Severity.WARNING and out[0].details["held_s"] == 60
    out = checker.evaluate(snap(61, m=slow(1500)))
    assert out[0].severity is Severity.CRITICAL
    assert checker.evaluate(snap(62, m=slow(50))) == []
    assert checker.evaluate(snap(63, m=slow(150))) == []


def test_unmeasured_latency_keeps_the_timer(metrics, snap, keys):
    checker = InvariantChecker()
    checker.evaluate(
        snap(0, m={1: metrics(1, p99_write_latency_ms=500), 2: metrics(2), 3: metrics(3)})
    )
    checker.evaluate(
        snap(30, m={1: metrics(1, p99_write_latency_ms=None), 2: metrics(2), 3: metrics(3)})
    )
    out = checker.evaluate(
        snap(60, m={1: metrics(1, p99_write_latency_ms=500), 2: metrics(2), 3: metrics(3)})
    )
    assert keys(out) == ["high_write_latency:store-1"]


def test_raft_log_lag_write_stall_slow_store(metrics, snap, keys):
    checker = InvariantChecker(InvariantSettings(grace_scale=0))
    m = {
        1: metrics(1, raft_log_lag=9000),
        2: metrics(2, channel_full_per_s=3.0, write_stall=0),
        3: metrics(3, slow_score=95),
    }
    out = checker.evaluate(snap(0, m=m))
    assert keys(out) == ["raft_log_lag:store-1", "slow_store:store-3", "write_stall:store-2"]
    busy = next(v for v in out if v.invariant == "write_stall")
    assert "channel full 3.00/s" in busy.message and busy.details == {
        "channel_full_per_s": 3.0,
        "since": busy.details["since"],
        "held_s": 0.0,
    }


def test_messages_write_figures_in_their_units(metrics, snap) -> None:
    """A stall of 1.8e6 µs reads as 1.80s, a p99 of 5743 ms as 5.74s: no exponent, no float tail."""
    m = {
        1: metrics(1, write_stall=1.8e6, channel_full_per_s=6.64964, p99_write_latency_ms=5743.0),
        2: metrics(2),
        3: metrics(3),
    }
    found = InvariantChecker(InvariantSettings(grace_scale=0)).evaluate(snap(m=m))
    text = " | ".join(v.message for v in found)
    assert "RocksDB write stall (p99 1.80s)" in text and "channel full 6.65/s" in text
    assert "p99 write latency is 5.74s (> " in text
    assert "e+" not in text and "6.64964" not in text and "5743.0" not in text
