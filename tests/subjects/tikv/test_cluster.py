"""Cluster figures from PD's answers: what each call fills in, what a missing one leaves unmeasured."""

import json

from operator_tikv.cluster import add_store_load, cluster_metrics
from operator_tikv.figures import CLUSTER_FIGURES, PdFigures, pd_figures
from operator_tikv.pd.models import HealthMember, MembersInfo, ScheduleConfig
from operator_tikv.records import TikvStore, TikvStoreMetrics
from operator_tikv.states import StoreState

from operator_tui.core.types import ClusterMetrics, Health, StoreHealth


def fixture(tk, name):
    return json.loads(tk.pd_fixture(name))


def stores():
    serving = StoreHealth(Health.SERVING, "Up")
    return [
        TikvStore(id=1, address="a", state=StoreState.UP, health=serving),
        TikvStore(id=2, address="b", state=StoreState.UP, health=serving),
        TikvStore(
            id=3, address="c", state=StoreState.DOWN, health=StoreHealth(Health.DOWN, "Down")
        ),
        TikvStore(id=4, address="d", state=StoreState.TOMBSTONE),
    ]


def test_every_pd_answer_reaches_its_figure(tk):
    health = [HealthMember.model_validate(h) for h in fixture(tk, "health.json")]
    health[2] = health[2].model_copy(update={"health": False})
    parts = {
        "check:miss-peer": 5,
        "check:down-peer": 2,
        "check:pending-peer": 1,
        "check:offline-peer": 0,
        "region_count": 120,
        "config": ScheduleConfig.model_validate(fixture(tk, "config_schedule.json")),
        "members": MembersInfo.model_validate(fixture(tk, "members.json")),
        "health": health,
    }
    unmeasured: set[str] = set()
    cm, extra = cluster_metrics(stores(), parts, unmeasured)
    assert unmeasured == set()
    pd = pd_figures(cm)
    assert (cm.stores_total, cm.stores_up) == (3, 2)
    assert (pd.miss_peer_regions, pd.down_peer_regions, pd.pending_peer_regions) == (5, 2, 1)
    assert pd.region_count == 120
    assert (pd.leader_schedule_limit, pd.region_schedule_limit, pd.replica_schedule_limit) == (
        4,
        2048,
        64,
    )
    assert (pd.pd_leader, cm.cluster_id) == ("basic-53pe89", "7452180154224557728")
    assert (pd.pd_members_healthy, pd.pd_members_total) == (2, 3)
    assert extra == {
        "low_space_ratio": 0.8,
        "high_space_ratio": 0.7,
        "max_store_down_time_s": 1800.0,
        "pd_members": ["basic-7axwci", "basic-53pe89", "basic-0qt9e9"],
        "pd_unhealthy_members": ["basic-0qt9e9"],
    }


def test_missing_answers_are_named_unmeasured():
    unmeasured: set[str] = set()
    cm, extra = cluster_metrics(stores(), {"check:miss-peer": 3}, unmeasured)
    assert unmeasured == {"region_checks", "pd_members", "pd_health"}
    assert pd_figures(cm).miss_peer_regions == 0 and pd_figures(cm).pd_leader is None
    assert extra == {}
    assert cm.figures == PdFigures().as_figures(), "every figure is there, at its default"


def test_the_declared_figures_are_pd_figures_and_read_back():
    assert {f.name for f in CLUSTER_FIGURES} <= set(PdFigures().as_figures())
    assert [f.event for f in CLUSTER_FIGURES if f.event] == ["regions"]
    figures = PdFigures(pd_leader="pd2", region_count=7)
    cluster = ClusterMetrics(figures={**figures.as_figures(), "from_elsewhere": 1})
    assert pd_figures(cluster) == figures
    assert pd_figures(ClusterMetrics()) == PdFigures()


def test_store_load_is_the_sum_and_the_worst():
    cluster = ClusterMetrics()
    add_store_load(
        cluster,
        {
            1: TikvStoreMetrics(1, qps=100.0, p99_latency_ms=3.0),
            2: TikvStoreMetrics(2, qps=50.0, p99_latency_ms=9.0),
            3: TikvStoreMetrics(3, reachable=False),
        },
    )
    assert (cluster.qps, cluster.p99_latency_ms) == (150.0, 9.0)
    add_store_load(cluster, {})
    assert (cluster.qps, cluster.p99_latency_ms) == (0, None)
