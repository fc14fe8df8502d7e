"""The cluster-wide figures of one tick, from PD's answers and the stores' own metrics.

PD's own figures go into ``ClusterMetrics.figures`` (``operator_tikv.figures``).

``cluster_metrics`` reads whatever PD calls answered this tick (or were kept from
an earlier one): a reading that is missing leaves its figure at the default and
its signal named in ``unmeasured``, so the invariants keep rather than clear what
depends on it.
"""

from __future__ import annotations

from typing import Any

from operator_tikv.figures import PdFigures
from operator_tikv.invariants.names import PD_HEALTH, PD_MEMBERS, REGION_CHECKS
from operator_tikv.pd.client import REGION_CHECKS as CHECK_KINDS
from operator_tikv.pd.models import HealthMember, MembersInfo, ScheduleConfig
from operator_tikv.records import TikvStore, TikvStoreMetrics
from operator_tikv.states import GONE
from operator_tui.core.types import ClusterMetrics, Health


def cluster_metrics(
    stores: list[TikvStore], parts: dict[str, Any], unmeasured: set[str]
) -> tuple[ClusterMetrics, dict[str, Any]]:
    """Figures by PD call name in ``parts``; also returns what goes into ``Snapshot.extra``."""
    cm = ClusterMetrics()
    pd: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    live = [s for s in stores if s.state not in GONE]
    cm.stores_total = len(live)
    cm.stores_up = sum(1 for s in live if s.health.level is Health.SERVING)
    if all(f"check:{k}" in parts for k in CHECK_KINDS):
        pd["miss_peer_regions"] = parts["check:miss-peer"]
        pd["down_peer_regions"] = parts["check:down-peer"]
        pd["pending_peer_regions"] = parts["check:pending-peer"]
        pd["offline_peer_regions"] = parts["check:offline-peer"]
    else:
        unmeasured.add(REGION_CHECKS)
    if "region_count" in parts:
        pd["region_count"] = parts["region_count"]
    config: ScheduleConfig | None = parts.get("config")
    if config is not None:
        pd["leader_schedule_limit"] = config.leader_schedule_limit
        pd["region_schedule_limit"] = config.region_schedule_limit
        pd["replica_schedule_limit"] = config.replica_schedule_limit
        extra["low_space_ratio"] = config.low_space_ratio
        extra["high_space_ratio"] = config.high_space_ratio
        extra["max_store_down_time_s"] = config.max_store_down_time
    members: MembersInfo | None = parts.get("members")
    if members is not None:
        pd["pd_leader"] = members.leader.name if members.leader else None
        cm.cluster_id = str(members.header.cluster_id) if members.header.cluster_id else None
        extra["pd_members"] = [m.name for m in members.members]
    else:
        unmeasured.add(PD_MEMBERS)
    health: list[HealthMember] | None = parts.get("health")
    if health is not None:
        pd["pd_members_total"] = len(health)
        pd["pd_members_healthy"] = sum(1 for h in health if h.health)
        extra["pd_unhealthy_members"] = [h.name for h in health if not h.health]
    else:
        unmeasured.add(PD_HEALTH)
    cm.figures = PdFigures(**pd).as_figures()
    return cm, extra


def add_store_load(cluster: ClusterMetrics, store_metrics: dict[int, TikvStoreMetrics]) -> None:
    """The cluster's QPS is the stores' sum; its p99 latency the worst store's."""
    cluster.qps = sum(m.qps for m in store_metrics.values() if m.qps is not None)
    p99s = [m.p99_latency_ms for m in store_metrics.values() if m.p99_latency_ms is not None]
    cluster.p99_latency_ms = max(p99s) if p99s else None
