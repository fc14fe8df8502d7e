"""Invariants: conditions, severities, grace periods on Snapshot.taken_at, clearing, unknowns."""

from datetime import UTC, datetime, timedelta

import pytest
from operator_tikv.invariants import (
    HOT_WRITE,
    PD_HEALTH,
    REGION_CHECKS,
    InvariantChecker,
    InvariantSettings,
    specs,
)
from operator_tikv.settings import TikvSettings
from operator_tikv.states import StoreState
from pydantic import ValidationError

from operator_tui.core.types import (
    ClusterMetrics,
    HotRegion,
    Severity,
    Snapshot,
    Store,
    StoreMetrics,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GiB = 2**30


def store(sid, state=StoreState.UP, leaders=10, capacity=100 * GiB, available=60 * GiB, **kw):
    return Store(
        id=sid,
        address=f"tikv{sid}:20160",
        state=state,
        status_address=f"tikv{sid}:20180",
        capacity_bytes=capacity,
        available_bytes=available,
        leader_count=leaders,
        region_count=30,
        slow_score=1,
        **kw,
    )


def metrics(sid, **kw):
    base = dict(
        store_id=sid,
        qps=100.0,
        p99_latency_ms=2.0,
        p99_write_latency_ms=5.0,
        capacity_bytes=100 * GiB,
        available_bytes=60 * GiB,
        region_count=30,
        raft_log_lag=10.0,
        write_stall=0.0,
        channel_full_per_s=0.0,
        scheduler_busy_per_s=0.0,
        slow_score=1.0,
    )
    base.update(kw)
    return StoreMetrics(**base)


def snap(at=0.0, stores=None, m=None, cluster=None, hot=(), unmeasured=(), extra=None):
    stores = stores if stores is not None else [store(1), store(2), store(3)]
    if m is None:
        m = {s.id: metrics(s.id) for s in stores}
    cluster = cluster or ClusterMetrics(pd_leader="pd1", pd_members_healthy=3, pd_members_total=3)
    data = {"unmeasured": list(unmeasured)}
    data.update(extra or {})
    return Snapshot(
        taken_at=T0 + timedelta(seconds=at),
        stores=stores,
        store_metrics=m,
        cluster=cluster,
        hot_write_regions=list(hot),
        extra=data,
    )


def keys(violations):
    return sorted(v.key for v in violations)


def test_healthy_cluster_has_no_violations():
    assert InvariantChecker().evaluate(snap()) == []


def test_store_down_when_status_port_refuses_no_grace():
    m = {1: metrics(1), 2: metrics(2), 3: StoreMetrics(3, reachable=False, error="refused")}
    out = InvariantChecker().evaluate(snap(m=m))
    assert keys(out) == ["store_down:store-3"]
    v = out[0]
    assert v.severity is Severity.CRITICAL and v.store_id == 3
    assert "status port does not answer (refused)" in v.message and "PD says Up" in v.message


@pytest.mark.parametrize("state", [StoreState.DOWN, StoreState.DISCONNECTED])
def test_store_down_from_pd_state(state):
    stores = [store(1), store(2), store(3, state=state)]
    m = {1: metrics(1), 2: metrics(2), 3: StoreMetrics(3, reachable=False, error="refused")}
    assert keys(InvariantChecker().evaluate(snap(stores=stores, m=m))) == ["store_down:store-3"]


def test_pd_down_store_is_down_even_if_port_answers():
    stores = [store(1), store(2), store(3, state=StoreState.DOWN)]
    assert keys(InvariantChecker().evaluate(snap(stores=stores))) == ["store_down:store-3"]


def test_partition_is_disconnected_not_down():
    stores = [store(1), store(2), store(3, state=StoreState.DISCONNECTED)]
    out = InvariantChecker().evaluate(snap(stores=stores))
    assert keys(out) == ["store_disconnected:store-3"]
    assert out[0].severity is Severity.WARNING and "partition" in out[0].message


def test_disconnected_without_metrics_counts_as_down():
    stores = [store(1), store(2), store(3, state=StoreState.DISCONNECTED)]
    m = {1: metrics(1), 2: metrics(2)}
    assert keys(InvariantChecker().evaluate(snap(stores=stores, m=m))) == ["store_down:store-3"]


def test_tombstone_is_ignored():
    stores = [store(1), store(2), store(3, state=StoreState.TOMBSTONE, capacity=0, available=0)]
    m = {1: metrics(1), 2: metrics(2)}
    assert InvariantChecker().evaluate(snap(stores=stores, m=m)) == []


def test_down_store_clears_when_it_answers_again():
    checker = InvariantChecker()
    dead = {1: metrics(1), 2: metrics(2), 3: StoreMetrics(3, reachable=False, error="x")}
    assert keys(checker.evaluate(snap(0, m=dead))) == ["store_down:store-3"]
    cleared = {i: metrics(i, critical_errors_per_s=0.0) for i in (1, 2, 3)}
    assert checker.evaluate(snap(2, m=cleared)) == []
    assert checker.evaluate(snap(4)) == []


def test_high_write_latency_grace_and_escalation():
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


def test_unmeasured_latency_keeps_the_timer():
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


def test_grace_overrides_from_settings():
    settings = TikvSettings(
        invariants={"high_write_latency_grace_s": 5, "high_write_latency_ms": 20}
    ).invariants
    checker = InvariantChecker(settings)
    m = {1: metrics(1, p99_write_latency_ms=30), 2: metrics(2), 3: metrics(3)}
    checker.evaluate(snap(0, m=m))
    assert keys(checker.evaluate(snap(5, m=m))) == ["high_write_latency:store-1"]


def test_grace_scale_zero_fires_at_once():
    checker = InvariantChecker(InvariantSettings(grace_scale=0))
    m = {1: metrics(1, p99_write_latency_ms=300), 2: metrics(2), 3: metrics(3)}
    assert keys(checker.evaluate(snap(0, m=m))) == ["high_write_latency:store-1"]


@pytest.mark.parametrize(
    "bad", [{"slow_score_threshold": "high"}, {"nope": 1}, {"low_disk_grace_s": -1}]
)
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValidationError):
        TikvSettings(invariants=bad)


def test_low_disk_warning_and_critical():
    checker = InvariantChecker(InvariantSettings(low_disk_grace_s=0))
    warn = {1: metrics(1, available_bytes=25 * GiB), 2: metrics(2), 3: metrics(3)}
    out = checker.evaluate(snap(0, m=warn))
    assert keys(out) == ["low_disk:store-1"] and out[0].severity is Severity.WARNING
    assert "75.0%" in out[0].message
    crit = {1: metrics(1, available_bytes=10 * GiB), 2: metrics(2), 3: metrics(3)}
    out = checker.evaluate(snap(1, m=crit))
    assert out[0].severity is Severity.CRITICAL and "10.0%" in out[0].message


def test_low_disk_falls_back_to_pd_sizes():
    checker = InvariantChecker(InvariantSettings(low_disk_grace_s=0))
    stores = [store(1, available=5 * GiB), store(2), store(3)]
    m = {1: StoreMetrics(1, qps=1.0), 2: metrics(2), 3: metrics(3)}
    assert keys(checker.evaluate(snap(0, stores=stores, m=m))) == ["low_disk:store-1"]


def test_under_replicated_after_ten_minutes():
    checker = InvariantChecker()
    c = ClusterMetrics(
        miss_peer_regions=0, down_peer_regions=4, pd_members_healthy=3, pd_members_total=3
    )
    assert checker.evaluate(snap(0, cluster=c)) == []
    checker.evaluate(snap(300, cluster=c, unmeasured=[REGION_CHECKS]))
    out = checker.evaluate(snap(600, cluster=c))
    assert keys(out) == ["under_replicated:cluster"] and out[0].store_id is None
    c2 = ClusterMetrics(miss_peer_regions=150, pd_members_healthy=3, pd_members_total=3)
    assert checker.evaluate(snap(601, cluster=c2))[0].severity is Severity.CRITICAL


def test_leader_imbalance_ignores_down_stores():
    checker = InvariantChecker(InvariantSettings(leader_imbalance_grace_s=0))
    stores = [store(1, leaders=100), store(2, leaders=20), store(3, leaders=30)]
    out = checker.evaluate(snap(0, stores=stores))
    assert keys(out) == ["leader_imbalance:cluster"]
    assert "store 1 has 100, store 2 has 20" in out[0].message
    stores = [
        store(1, leaders=50),
        store(2, leaders=50),
        store(3, leaders=0, state=StoreState.DOWN),
    ]
    m = {1: metrics(1), 2: metrics(2), 3: StoreMetrics(3, reachable=False, error="x")}
    assert keys(checker.evaluate(snap(1, stores=stores, m=m))) == ["store_down:store-3"]


def test_hot_write_region_concentrated_on_one_store():
    checker = InvariantChecker(InvariantSettings(hot_write_grace_s=0))
    hot = [
        HotRegion(10, 1, True, 8 * 2**20, 1000),
        HotRegion(11, 1, True, 4 * 2**20, 1000),
        HotRegion(12, 2, True, 1 * 2**20, 1000),
        HotRegion(10, 2, False, 8 * 2**20, 1000),
    ]
    out = checker.evaluate(snap(0, hot=hot))
    assert keys(out) == ["hot_write_region:store-1"]
    assert out[0].details["region_ids"] == [10, 11]
    spread = [HotRegion(10, 1, True, 4 * 2**20, 1), HotRegion(12, 2, True, 4 * 2**20, 1)]
    assert checker.evaluate(snap(1, hot=spread)) == []
    small = [HotRegion(10, 1, True, 1000.0, 1)]
    assert checker.evaluate(snap(2, hot=small)) == []


def test_hot_write_unmeasured_keeps_timer():
    checker = InvariantChecker(InvariantSettings(hot_write_grace_s=10))
    hot = [HotRegion(10, 1, True, 8 * 2**20, 1000)]
    checker.evaluate(snap(0, hot=hot))
    checker.evaluate(snap(5, unmeasured=[HOT_WRITE]))
    assert keys(checker.evaluate(snap(10, hot=hot))) == ["hot_write_region:store-1"]


def test_raft_log_lag_write_stall_slow_store():
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


def test_slow_store_uses_pd_score_without_metrics():
    checker = InvariantChecker(InvariantSettings(grace_scale=0))
    stores = [store(1), store(2), store(3)]
    stores[2].slow_score = 100
    m = {1: metrics(1), 2: metrics(2), 3: StoreMetrics(3, qps=1.0)}
    assert keys(checker.evaluate(snap(0, stores=stores, m=m))) == ["slow_store:store-3"]


def test_pd_member_unhealthy_and_quorum():
    checker = InvariantChecker()
    c = ClusterMetrics(pd_leader="pd1", pd_members_healthy=2, pd_members_total=3)
    out = checker.evaluate(snap(0, cluster=c, extra={"pd_unhealthy_members": ["pd3"]}))
    assert keys(out) == ["pd_member_unhealthy:cluster"] and out[0].severity is Severity.WARNING
    assert "pd3" in out[0].message
    c = ClusterMetrics(pd_leader="pd1", pd_members_healthy=1, pd_members_total=3)
    assert checker.evaluate(snap(1, cluster=c))[0].severity is Severity.CRITICAL
    stale = checker.evaluate(snap(2, cluster=c, unmeasured=[PD_HEALTH]))
    assert keys(stale) == ["pd_member_unhealthy:cluster"] and stale[0].details["stale"]


def test_pd_leader_changed_is_reported_for_a_while():
    checker = InvariantChecker(InvariantSettings(pd_leader_changed_hold_s=60))
    leader = lambda name: ClusterMetrics(pd_leader=name, pd_members_healthy=3, pd_members_total=3)  # noqa: E731
    assert checker.evaluate(snap(0, cluster=leader("pd1"))) == []
    out = checker.evaluate(snap(2, cluster=leader("pd2")))
    assert keys(out) == ["pd_leader_changed:cluster"]
    assert out[0].message == "PD leader changed from pd1 to pd2"
    assert keys(checker.evaluate(snap(30, cluster=leader("pd2")))) == ["pd_leader_changed:cluster"]
    assert checker.evaluate(snap(62, cluster=leader("pd2"))) == []


def test_specs_cover_every_invariant_and_are_ordered_by_severity():
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
                2: StoreMetrics(2, reachable=False, error="x"),
                3: metrics(3),
            }
        )
    )
    assert [v.severity for v in out] == [Severity.CRITICAL, Severity.WARNING]


def test_a_firing_violation_survives_a_gap_in_measurement():
    checker = InvariantChecker(InvariantSettings(grace_scale=0))
    high = {1: metrics(1, p99_write_latency_ms=500), 2: metrics(2), 3: metrics(3)}
    gap = {1: metrics(1, p99_write_latency_ms=None), 2: metrics(2), 3: metrics(3)}
    first = checker.evaluate(snap(0, m=high))
    assert keys(first) == ["high_write_latency:store-1"]
    again = checker.evaluate(snap(2, m=gap))
    assert keys(again) == ["high_write_latency:store-1"] and again[0].details["stale"] is True
    assert checker.evaluate(snap(4, m={1: metrics(1), 2: metrics(2), 3: metrics(3)})) == []
    assert checker.evaluate(snap(6, m=gap)) == []


def test_critical_errors_fire_at_once_and_unknown_is_quiet():
    checker = InvariantChecker()
    m = {
        1: metrics(1, critical_errors_per_s=0.5),
        2: metrics(2),
        3: metrics(3, critical_errors_per_s=0.0),
    }
    out = checker.evaluate(snap(0, m=m))
    assert keys(out) == ["critical_error:store-1"] and out[0].severity is Severity.CRITICAL
    assert "0.50/s" in out[0].message
    cleared = {i: metrics(i, critical_errors_per_s=0.0) for i in (1, 2, 3)}
    assert checker.evaluate(snap(2, m=cleared)) == []
    assert checker.evaluate(snap(4)) == []


def reports(n, edges):
    """Metrics for stores 1..n where ``edges`` maps a store to the stores it cannot reach."""
    return {
        sid: metrics(sid, unreachable_reports_per_s={t: 20.0 for t in edges.get(sid, ())})
        for sid in range(1, n + 1)
    }


def test_partition_seen_from_the_peers_before_pd_notices():
    out = InvariantChecker().evaluate(snap(m=reports(3, {1: (2, 3), 2: (1,), 3: (1,)})))
    assert keys(out) == ["store_disconnected:store-1"]
    v = out[0]
    assert v.severity is Severity.WARNING and v.store_id == 1
    assert "stores 2, 3 report it unreachable" in v.message
    assert "PD still says Up" in v.message and "partition" in v.message
    assert v.details["reported_unreachable_by"] == {"2": 20.0, "3": 20.0}
    assert v.details["reports_unreachable"] == {"2": 20.0, "3": 20.0}


def test_partition_keeps_its_key_when_pd_marks_it_disconnected():
    checker = InvariantChecker()
    edges = {1: (2, 3), 2: (1,), 3: (1,)}
    first = checker.evaluate(snap(0, m=reports(3, edges)))
    stores = [store(1, state=StoreState.DISCONNECTED), store(2), store(3)]
    later = checker.evaluate(snap(20, stores=stores, m=reports(3, edges)))
    assert keys(first) == keys(later) == ["store_disconnected:store-1"]
    assert "Disconnected" in later[0].message and later[0].details["held_s"] == 20


@pytest.mark.parametrize(
    ("n", "edges"),
    [
        (3, {2: (1,), 3: (1,)}),  # back from a restart or a pause: it reaches everyone again
        (3, {1: (2,), 2: (1,)}),  # one link down: one reporter only
        (2, {1: (2,), 2: (1,)}),  # two stores: no telling which side is cut off
        (3, {}),
    ],
    ids=["restarted", "one-link", "two-stores", "healthy"],
)
def test_peer_reports_that_are_not_a_partition(n, edges):
    stores = [store(i) for i in range(1, n + 1)]
    assert InvariantChecker().evaluate(snap(stores=stores, m=reports(n, edges))) == []


def test_a_dead_store_reported_by_its_peers_is_down_not_partitioned():
    m = reports(3, {2: (1,), 3: (1,)})
    m[1] = StoreMetrics(1, reachable=False, error="connection refused")
    assert keys(InvariantChecker().evaluate(snap(m=m))) == ["store_down:store-1"]


def test_two_stores_cut_off_at_once_in_five():
    edges = {1: (2, 3, 4, 5), 2: (1, 3, 4, 5), 3: (1, 2), 4: (1, 2), 5: (1, 2)}
    stores = [store(i) for i in range(1, 6)]
    out = InvariantChecker().evaluate(snap(stores=stores, m=reports(5, edges)))
    assert keys(out) == ["store_disconnected:store-1", "store_disconnected:store-2"]


def test_slow_reports_are_noise_and_the_thresholds_are_settings():
    m = reports(3, {1: (2, 3), 2: (1,), 3: (1,)})
    for sid in (1, 2, 3):
        m[sid].unreachable_reports_per_s = dict.fromkeys(m[sid].unreachable_reports_per_s, 0.1)
    assert InvariantChecker().evaluate(snap(m=m)) == []
    strict = TikvSettings(invariants={"unreachable_reporters_min": 3}).invariants
    dense = reports(3, {1: (2, 3), 2: (1,), 3: (1,)})
    assert InvariantChecker(strict).evaluate(snap(m=dense)) == []


def test_partition_survives_a_tick_without_reports_then_clears():
    checker = InvariantChecker()
    edges = {1: (2, 3), 2: (1,), 3: (1,)}
    assert keys(checker.evaluate(snap(0, m=reports(3, edges)))) == ["store_disconnected:store-1"]
    gap = {sid: metrics(sid) for sid in (1, 2, 3)}
    stale = checker.evaluate(snap(2, m=gap))
    assert keys(stale) == ["store_disconnected:store-1"] and stale[0].details["stale"] is True
    assert checker.evaluate(snap(4, m=reports(3, {}))) == []
