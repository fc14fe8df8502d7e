"""Region checks: missing replicas, leader balance, hot write flow."""

from operator_tikv.figures import PdFigures, cluster_with
from operator_tikv.invariants import (
    HOT_WRITE,
    REGION_CHECKS,
    InvariantChecker,
    InvariantSettings,
)
from operator_tikv.records import TikvHotRegion, TikvStoreMetrics
from operator_tikv.states import StoreState

from operator_tui.core.types import Severity


def test_under_replicated_after_ten_minutes(snap, keys):
    checker = InvariantChecker()
    c = cluster_with(
        PdFigures(
            miss_peer_regions=0, down_peer_regions=4, pd_members_healthy=3, pd_members_total=3
        )
    )
    assert checker.evaluate(snap(0, cluster=c)) == []
    checker.evaluate(snap(300, cluster=c, unmeasured=[REGION_CHECKS]))
    out = checker.evaluate(snap(600, cluster=c))
    assert keys(out) == ["under_replicated:cluster"] and out[0].store_id is None
    c2 = cluster_with(PdFigures(miss_peer_regions=150, pd_members_healthy=3, pd_members_total=3))
    assert checker.evaluate(snap(601, cluster=c2))[0].severity is Severity.CRITICAL


def test_leader_imbalance_ignores_down_stores(store, metrics, snap, keys):
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
    m = {1: metrics(1), 2: metrics(2), 3: TikvStoreMetrics(3, reachable=False, error="x")}
    assert keys(checker.evaluate(snap(1, stores=stores, m=m))) == ["store_down:store-3"]


def test_hot_write_region_concentrated_on_one_store(snap, keys):
    checker = InvariantChecker(InvariantSettings(hot_write_grace_s=0))
    hot = [
        TikvHotRegion(10, 1, True, 8 * 2**20, 1000),
        TikvHotRegion(11, 1, True, 4 * 2**20, 1000),
        TikvHotRegion(12, 2, True, 1 * 2**20, 1000),
        TikvHotRegion(10, 2, False, 8 * 2**20, 1000),
    ]
    out = checker.evaluate(snap(0, hot=hot))
    assert keys(out) == ["hot_write_region:store-1"]
    assert out[0].details["region_ids"] == [10, 11]
    spread = [TikvHotRegion(10, 1, True, 4 * 2**20, 1), TikvHotRegion(12, 2, True, 4 * 2**20, 1)]
    assert checker.evaluate(snap(1, hot=spread)) == []
    small = [TikvHotRegion(10, 1, True, 1000.0, 1)]
    assert checker.evaluate(snap(2, hot=small)) == []


def test_hot_write_unmeasured_keeps_timer(snap, keys):
    checker = InvariantChecker(InvariantSettings(hot_write_grace_s=10))
    hot = [TikvHotRegion(10, 1, True, 8 * 2**20, 1000)]
    checker.evaluate(snap(0, hot=hot))
    checker.evaluate(snap(5, unmeasured=[HOT_WRITE]))
    assert keys(checker.evaluate(snap(10, hot=hot))) == ["hot_write_region:store-1"]
