"""The checker: a healthy cluster, specs in order, grace scaling, gaps in measurement."""

from operator_tikv.invariants import InvariantChecker, InvariantSettings, specs
from operator_tikv.records import TikvStoreMetrics

from operator_tui.core.types import Severity

GiB = 2**30


def test_healthy_cluster_has_no_violations(snap):
    assert InvariantChecker().evaluate(snap()) == []


def test_specs_cover_every_invariant_and_are_ordered_by_severity(metrics, snap):
    names = [s.name for s in specs(InvariantSettings())]
    assert names == [
        "store_down",
        "store_disconnected",
        "high_write_latency",
        "low_disk",
        "under_replicated",
        "leader_imbalance",
        "hot_write_region",
        "raft_log_lag",
        "write_stall",
        "slow_store",
        "critical_error",
        "pd_member_unhealthy",
        "pd_leader_changed",
    ]
    out = InvariantChecker(InvariantSettings(grace_scale=0)).evaluate(
        snap(
            m={
                1: metrics(1, available_bytes=25 * GiB),
                2: TikvStoreMetrics(2, reachable=False, error="x"),
                3: metrics(3),
            }
        )
    )
    assert [v.severity for v in out] == [Severity.CRITICAL, Severity.WARNING]


def test_a_firing_violation_survives_a_gap_in_measurement(metrics, snap, keys):
    checker = InvariantChecker(InvariantSettings(grace_scale=0))
    high = {1: metrics(1, p99_write_latency_ms=500), 2: metrics(2), 3: metrics(3)}
    gap = {1: metrics(1, p99_write_latency_ms=None), 2: metrics(2), 3: metrics(3)}
    first = checker.evaluate(snap(0, m=high))
    assert keys(first) == ["high_write_latency:store-1"]
    again = checker.evaluate(snap(2, m=gap))
    assert keys(again) == ["high_write_latency:store-1"] and again[0].details["stale"] is True
    assert checker.evaluate(snap(4, m={1: metrics(1), 2: metrics(2), 3: metrics(3)})) == []
    assert checker.evaluate(snap(6, m=gap)) == []


def test_grace_scale_zero_fires_at_once(metrics, snap, keys):
    checker = InvariantChecker(InvariantSettings(grace_scale=0))
    m = {1: metrics(1, p99_write_latency_ms=300), 2: metrics(2), 3: metrics(3)}
    assert keys(checker.evaluate(snap(0, m=m))) == ["high_write_latency:store-1"]
