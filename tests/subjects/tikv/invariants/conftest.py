"""Builders for invariant tests: stores, their metrics and snapshots on a fixed clock.

Test modules cannot import conftest in importlib mode, so each builder is also a fixture.
"""

from datetime import UTC, datetime, timedelta

import pytest
from operator_tikv.figures import PdFigures, cluster_with
from operator_tikv.records import TikvStore, TikvStoreMetrics
from operator_tikv.states import StoreState

from operator_tui.core.types import Snapshot

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GiB = 2**30


def build_store(sid, state=StoreState.UP, leaders=10, capacity=100 * GiB, available=60 * GiB, **kw):
    return TikvStore(
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


def build_metrics(sid, **kw):
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
    return TikvStoreMetrics(**base)


def build_snap(at=0.0, stores=None, m=None, cluster=None, hot=(), unmeasured=(), extra=None):
    stores = stores if stores is not None else [build_store(1), build_store(2), build_store(3)]
    if m is None:
        m = {s.id: build_metrics(s.id) for s in stores}
    cluster = cluster or cluster_with(
        PdFigures(pd_leader="pd1", pd_members_healthy=3, pd_members_total=3)
    )
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


def build_keys(violations):
    return sorted(v.key for v in violations)


def build_reports(n, edges):
    """Metrics for stores 1..n where ``edges`` maps a store to the stores it cannot reach."""
    return {
        sid: build_metrics(sid, unreachable_reports_per_s={t: 20.0 for t in edges.get(sid, ())})
        for sid in range(1, n + 1)
    }


@pytest.fixture(name="store")
def store_fixture():
    return build_store


@pytest.fixture(name="metrics")
def metrics_fixture():
    return build_metrics


@pytest.fixture(name="snap")
def snap_fixture():
    return build_snap


@pytest.fixture(name="keys")
def keys_fixture():
    return build_keys


@pytest.fixture(name="reports")
def reports_fixture():
    return build_reports
