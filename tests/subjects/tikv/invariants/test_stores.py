"""Per-store checks: down, cut off (PD's Disconnected or the peers' reports), slow, critical errors."""

import pytest
from operator_tikv.invariants import InvariantChecker, InvariantSettings
from operator_tikv.records import TikvStoreMetrics
from operator_tikv.settings import TikvSettings
from operator_tikv.states import StoreState

from operator_tui.core.types import Severity


def test_store_down_when_status_port_refuses_no_grace(metrics, snap, keys):
    m = {1: metrics(1), 2: metrics(2), 3: TikvStoreMetrics(3, reachable=False, error="refused")}
    out = InvariantChecker().evaluate(snap(m=m))
    assert keys(out) == ["store_down:store-3"]
    v = out[0]
    assert v.severity is Severity.CRITICAL and v.store_id == 3
    assert "status port does not answer (refused)" in v.message and "PD says Up" in v.message


@pytest.mark.parametrize("state", [StoreState.DOWN, StoreState.DISCONNECTED])
def test_store_down_from_pd_state(state, store, metrics, snap, keys):
    stores = [store(1), store(2), store(3, state=state)]
    m = {1: metrics(1), 2: metrics(2), 3: TikvStoreMetrics(3, reachable=False, error="refused")}
    assert keys(InvariantChecker().evaluate(snap(stores=stores, m=m))) == ["store_down:store-3"]


def test_pd_down_store_is_down_even_if_port_answers(store, snap, keys):
    stores = [store(1), store(2), store(3, state=StoreState.DOWN)]
    assert keys(InvariantChecker().evaluate(snap(stores=stores))) == ["store_down:store-3"]


def test_partition_is_disconnected_not_down(store, snap, keys):
    stores = [store(1), store(2), store(3, state=StoreState.DISCONNECTED)]
    out = InvariantChecker().evaluate(snap(stores=stores))
    assert keys(out) == ["store_disconnected:store-3"]
    assert out[0].severity is Severity.WARNING and "partition" in out[0].message


def test_disconnected_without_metrics_counts_as_down(store, metrics, snap, keys):
    stores = [store(1), store(2), store(3, state=StoreState.DISCONNECTED)]
    m = {1: metrics(1), 2: metrics(2)}
    assert keys(InvariantChecker().evaluate(snap(stores=stores, m=m))) == ["store_down:store-3"]


def test_tombstone_is_ignored(store, metrics, snap):
    stores = [store(1), store(2), store(3, state=StoreState.TOMBSTONE, capacity=0, available=0)]
    m = {1: metrics(1), 2: metrics(2)}
    assert InvariantChecker().evaluate(snap(stores=stores, m=m)) == []


def test_down_store_clears_when_it_answers_again(metrics, snap, keys):
    checker = InvariantChecker()
    dead = {1: metrics(1), 2: metrics(2), 3: TikvStoreMetrics(3, reachable=False, error="x")}
    assert keys(checker.evaluate(snap(0, m=dead))) == ["store_down:store-3"]
    cleared = {i: metrics(i, critical_errors_per_s=0.0) for i in (1, 2, 3)}
    assert checker.evaluate(snap(2, m=cleared)) == []
    assert checker.evaluate(snap(4)) == []


def test_slow_store_uses_pd_score_without_metrics(store, metrics, snap, keys):
    checker = InvariantChecker(InvariantSettings(grace_scale=0))
    stores = [store(1), store(2), store(3)]
    stores[2].slow_score = 100
    m = {1: metrics(1), 2: metrics(2), 3: TikvStoreMetrics(3, qps=1.0)}
    assert keys(checker.evaluate(snap(0, stores=stores, m=m))) == ["slow_store:store-3"]


def test_critical_errors_fire_at_once_and_unknown_is_quiet(metrics, snap, keys):
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


def test_partition_seen_from_the_peers_before_pd_notices(snap, keys, reports):
    out = InvariantChecker().evaluate(snap(m=reports(3, {1: (2, 3), 2: (1,), 3: (1,)})))
    assert keys(out) == ["store_disconnected:store-1"]
    v = out[0]
    assert v.severity is Severity.WARNING and v.store_id == 1
    assert "stores 2, 3 report it unreachable" in v.message
    assert "PD still says Up" in v.message and "partition" in v.message
    assert v.details["reported_unreachable_by"] == {"2": 20.0, "3": 20.0}
    assert v.details["reports_unreachable"] == {"2": 20.0, "3": 20.0}


def test_partition_keeps_its_key_when_pd_marks_it_disconnected(store, snap, keys, reports):
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
def test_peer_reports_that_are_not_a_partition(n, edges, store, snap, reports):
    stores = [store(i) for i in range(1, n + 1)]
    assert InvariantChecker().evaluate(snap(stores=stores, m=reports(n, edges))) == []


def test_a_dead_store_reported_by_its_peers_is_down_not_partitioned(snap, keys, reports):
    m = reports(3, {2: (1,), 3: (1,)})
    m[1] = TikvStoreMetrics(1, reachable=False, error="connection refused")
    assert keys(InvariantChecker().evaluate(snap(m=m))) == ["store_down:store-1"]


def test_two_stores_cut_off_at_once_in_five(store, snap, keys, reports):
    edges = {1: (2, 3, 4, 5), 2: (1, 3, 4, 5), 3: (1, 2), 4: (1, 2), 5: (1, 2)}
    stores = [store(i) for i in range(1, 6)]
    out = InvariantChecker().evaluate(snap(stores=stores, m=reports(5, edges)))
    assert keys(out) == ["store_disconnected:store-1", "store_disconnected:store-2"]


def test_slow_reports_are_noise_and_the_thresholds_are_settings(snap, reports):
    m = reports(3, {1: (2, 3), 2: (1,), 3: (1,)})
    for sid in (1, 2, 3):
        m[sid].unreachable_reports_per_s = dict.fromkeys(m[sid].unreachable_reports_per_s, 0.1)
    assert InvariantChecker().evaluate(snap(m=m)) == []
    strict = TikvSettings(invariants={"unreachable_reporters_min": 3}).invariants
    dense = reports(3, {1: (2, 3), 2: (1,), 3: (1,)})
    assert InvariantChecker(strict).evaluate(snap(m=dense)) == []


def test_partition_survives_a_tick_without_reports_then_clears(metrics, snap, keys, reports):
    checker = InvariantChecker()
    edges = {1: (2, 3), 2: (1,), 3: (1,)}
    assert keys(checker.evaluate(snap(0, m=reports(3, edges)))) == ["store_disconnected:store-1"]
    gap = {sid: metrics(sid) for sid in (1, 2, 3)}
    stale = checker.evaluate(snap(2, m=gap))
    assert keys(stale) == ["store_disconnected:store-1"] and stale[0].details["stale"] is True
    assert checker.evaluate(snap(4, m=reports(3, {}))) == []
