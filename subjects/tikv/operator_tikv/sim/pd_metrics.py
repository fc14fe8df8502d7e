"""PD's /metrics as each member serves it; cluster-wide figures only on the leader."""

from __future__ import annotations

from operator_tikv.sim.encode import NS
from operator_tikv.sim.metrics import PD_FAMILIES, Registry
from operator_tikv.sim.pd_view import DISCONNECT_NS, SLOW_STORE_THRESHOLD, UNHEALTHY_NS, PdView
from operator_tikv.sim.regions import CHECK_BITS
from operator_tikv.sim.store import (
    CPU_CORES,
    MEMORY_QUOTA,
    MIB,
    NODE_PREPARING,
    NODE_REMOVED,
    NODE_REMOVING,
    NODE_SERVING,
    Store,
)


class PdMetrics(PdView):
    """Building PD's metric registry from the model."""

    def pd_registry(self, member: int) -> Registry:
        """PD metrics as the given member would serve them (cluster figures only on the leader)."""
        reg = Registry(PD_FAMILIES)
        m = self.members[member]
        is_leader = self.pd_leader == member
        reg.set("etcd_server_has_leader", (), 1.0 if self.pd_leader is not None else 0.0)
        reg.set("etcd_server_is_leader", (), 1.0 if is_leader else 0.0)
        reg.set("process_start_time_seconds", (), float(m.start_s))
        up_s = max(0.0, self.now / NS - m.start_s)
        reg.set("process_cpu_seconds_total", (), round(up_s * 0.04, 2))
        reg.set("process_resident_memory_bytes", (), float(180 * MIB + len(self.regions) * 200))
        reg.set("pd_service_maxprocs", (), float(CPU_CORES))
        reg.set("pd_service_memory_quota_bytes", (), float(MEMORY_QUOTA))
        if m.tso_saves:
            reg.set("pd_tso_events", ("save", "global"), float(m.tso_saves))
        if not is_leader:
            return reg
        reg.set("pd_tso_role", ("global",), 1.0)
        for other in self.members:
            reg.set("pd_cluster_health_status", (other.name,), 1.0 if other.alive else 0.0)
        counts = dict.fromkeys(
            (
                "store_up_count",
                "store_disconnected_count",
                "store_down_count",
                "store_unhealth_count",
                "store_offline_count",
                "store_tombstone_count",
                "store_low_space_count",
                "store_slow_count",
                "store_preparing_count",
                "store_serving_count",
                "store_removing_count",
                "store_removed_count",
            ),
            0,
        )
        region_total = len(self.regions)
        leaders = 0
        learners = 0
        storage_size = 0
        storage_capacity = 0
        max_down = self.max_store_down_ns
        for s in self.stores.values():
            node = {
                NODE_PREPARING: "store_preparing_count",
                NODE_SERVING: "store_serving_count",
                NODE_REMOVING: "store_removing_count",
                NODE_REMOVED: "store_removed_count",
            }[s.node_state]
            counts[node] += 1
            if s.node_state == NODE_REMOVING:
                counts["store_offline_count"] += 1
            elif s.node_state == NODE_REMOVED:
                counts["store_tombstone_count"] += 1
            else:
                down = self.store_down_ns(s)
                if down >= max_down:
                    counts["store_down_count"] += 1
                elif down > UNHEALTHY_NS:
                    counts["store_unhealth_count"] += 1
                elif down > DISCONNECT_NS:
                    counts["store_disconnected_count"] += 1
                elif s.pd_slow_score >= SLOW_STORE_THRESHOLD:
                    counts["store_slow_count"] += 1
                else:
                    counts["store_up_count"] += 1
                if self._low_space(s):
                    counts["store_low_space_count"] += 1
            if s.node_state != NODE_REMOVED:
                leaders += s.leader_count
                learners += s.learner_count
                storage_size += s.pd_used
                storage_capacity += s.pd_capacity
            self._store_status_metrics(reg, s)
        for name, value in counts.items():
            reg.set("pd_cluster_status", (name,), float(value))
        reg.set("pd_cluster_status", ("region_count",), float(region_total))
        reg.set("pd_cluster_status", ("leader_count",), float(leaders))
        reg.set("pd_cluster_status", ("learner_count",), float(learners))
        reg.set("pd_cluster_status", ("witness_count",), 0.0)
        reg.set("pd_cluster_status", ("storage_size",), float(storage_size))
        reg.set("pd_cluster_status", ("storage_capacity",), float(storage_capacity))
        names = {v: k for k, v in CHECK_BITS.items()}
        for bit, count in self.check_counts.items():
            reg.set(
                "pd_regions_status",
                (names[bit].replace("-region", "") + "-region-count",),
                float(count),
            )
        reg.set("pd_regions_status", ("witness-leader-region-count",), 0.0)
        for key in (
            "leader-schedule-limit",
            "region-schedule-limit",
            "replica-schedule-limit",
            "merge-schedule-limit",
            "hot-region-schedule-limit",
            "max-pending-peer-count",
            "max-snapshot-count",
        ):
            reg.set("pd_config_status", (key,), float(self.schedule[key]))
        reg.set("pd_config_status", ("max-replicas",), float(self.replication["max-replicas"]))
        reg.set("pd_config_status", ("low-space-ratio",), float(self.schedule["low-space-ratio"]))
        reg.set("pd_config_status", ("high-space-ratio",), float(self.schedule["high-space-ratio"]))
        for (desc, event), value in self.op_counter.items():
            reg.set("pd_schedule_operators_count", (desc, event), value)
        reg.set(
            "pd_checker_event_count", ("replica_checker", "no_target_store"), self.checker_no_target
        )
        return reg

    def _store_status_metrics(self, reg: Registry, s: Store) -> None:
        addr, sid = s.address, str(s.id)
        for typ, value in (
            ("region_score", self.region_score(s)),
            ("leader_score", float(s.leader_count)),
            ("region_size", float(s.region_kb // 1024)),
            ("region_count", float(s.region_count)),
            ("leader_size", float(s.leader_kb // 1024)),
            ("leader_count", float(s.leader_count)),
            ("store_available", float(s.pd_available)),
            ("store_used", float(s.pd_used)),
            ("store_capacity", float(s.pd_capacity)),
            ("store_write_rate_bytes", s.pd_rates[0]),
            ("store_write_rate_keys", s.pd_rates[1]),
            ("store_write_query_rate", s.pd_rates[2]),
            ("store_read_rate_bytes", s.pd_rates[3]),
            ("store_read_rate_keys", s.pd_rates[4]),
            ("store_read_query_rate", s.pd_rates[5]),
        ):
            reg.set("pd_scheduler_store_status", (addr, sid, typ), value)
