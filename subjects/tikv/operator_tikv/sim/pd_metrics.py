"""PD's /metrics as each member serves it: process, Go and etcd everywhere, cluster figures on the leader.

Label sets and values follow PD v8.5.7: pkg/statistics/store_collection.go (``pd_cluster_status``
per store with ``engine``; ``pd_scheduler_store_status`` types; ``pd_config_status``),
pkg/schedule/coordinator.go ``collectHotMetrics`` (``pd_hotspot_status``),
pkg/statistics/store_hot_peers_infos.go (``pd_scheduler_hot_peers_summary``, set by the hot-region
scheduler, ``store`` holding the engine), pkg/statistics/hot_peer_cache.go (``pd_hotcache_status``),
pkg/tso/metrics.go (``group`` "0" for the default keyspace group), server/server.go
(``pd_server_etcd_state``, ``pd_cluster_metadata``, ``service_member_role`` "PD"),
pkg/schedule/schedulers/scheduler_controller.go (``pd_scheduler_status``, ``pd_rule_manager_status``).
A follower runs no scheduling, TSO or heartbeat handling, so it serves none of those families.
"""

from __future__ import annotations

from operator_tikv.sim.encode import NS, go_float
from operator_tikv.sim.pd_families import PD_FAMILIES
from operator_tikv.sim.pd_registry import PdRegistry
from operator_tikv.sim.pd_view import DISCONNECT_NS, SLOW_STORE_THRESHOLD, UNHEALTHY_NS, PdView
from operator_tikv.sim.regions import CHECK_BITS
from operator_tikv.sim.schedulers import BALANCE_HOT_REGION
from operator_tikv.sim.split import REGION_MAX_SIZE_MB, REGION_SPLIT_SIZE_MB
from operator_tikv.sim.store import (
    CPU_CORES,
    MEMORY_QUOTA,
    MIB,
    NODE_PREPARING,
    NODE_REMOVED,
    NODE_REMOVING,
    NODE_SERVING,
    STATE_TOMBSTONE,
    Store,
)

STORE_COUNTS = (
    "store_up_count",
    "store_disconnected_count",
    "store_slow_count",
    "store_down_count",
    "store_unhealth_count",
    "store_offline_count",
    "store_tombstone_count",
    "store_low_space_count",
    "store_preparing_count",
    "store_serving_count",
    "store_removing_count",
    "store_removed_count",
)
GC_SUMMARY_HELP = (
    "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles."
)
GC_PAUSE_QUANTILES = (
    ("0", 2.1e-05),
    ("0.25", 4.2e-05),
    ("0.5", 6.1e-05),
    ("0.75", 9.3e-05),
    ("1", 0.00031),
)
MAX_INT64 = float(2**63 - 1)
TSO_GROUP = ("0", "global")
ENGINE = "tikv"


class PdMetrics(PdView):
    """Building PD's metric page from the model, per member."""

    def pd_metrics_text(self, member: int) -> str:
        """The exposition text ``member`` serves on /metrics."""
        reg = self.pd_registry(member)
        gc_cycles = reg.get("go_gc_cycles_total_gc_cycles_total")
        lines = [
            f"# HELP go_gc_duration_seconds {GC_SUMMARY_HELP}",
            "# TYPE go_gc_duration_seconds summary",
        ]
        lines += [
            f'go_gc_duration_seconds{{quantile="{q}"}} {go_float(v)}' for q, v in GC_PAUSE_QUANTILES
        ]
        lines.append(f"go_gc_duration_seconds_sum {go_float(round(gc_cycles * 7.0e-5, 6))}")
        lines.append(f"go_gc_duration_seconds_count {int(gc_cycles)}")
        return reg.render(go_float, {"go_gc_duration_seconds": "\n".join(lines)})

    def pd_registry(self, member: int) -> PdRegistry:
        """PD metrics as the given member would serve them (cluster figures only on the leader)."""
        reg = PdRegistry(PD_FAMILIES)
        m = self.members[member]
        is_leader = self.pd_leader == member
        reg.merge(m.registry)
        self._process_gauges(reg, member, is_leader)
        reg.set("etcd_server_has_leader", (), 1.0 if self.pd_leader is not None else 0.0)
        reg.set("etcd_server_is_leader", (), 1.0 if is_leader else 0.0)
        db = float(32 * MIB + len(self.stores) * 4096)
        reg.set("etcd_mvcc_db_total_size_in_bytes", (), db)
        reg.set("etcd_mvcc_db_total_size_in_use_in_bytes", (), float(int(db * 0.62)))
        reg.set("pd_server_etcd_state", ("term",), float(self.pd_term))
        index = float(int(self.etcd_index))
        reg.set("pd_server_etcd_state", ("appliedIndex",), index)
        reg.set("pd_server_etcd_state", ("committedIndex",), index)
        reg.set("pd_cluster_metadata", (f"cluster{self.cluster_id}",), 0.0)
        alive = [o for o in self.members if o.alive]
        reg.set("pd_server_etcd_client", ("server-etcd-client", "endpoint"), float(len(alive)))
        for o in self.members:
            url = f"http://{self.config.host}:{o.port}"
            reg.set("pd_server_etcd_client", ("server-etcd-client", url), 1.0 if o.alive else 0.0)
        if m.was_leader:
            reg.set("service_member_role", ("PD",), 1.0 if is_leader else 0.0)
        if m.tso_saves:
            reg.set("pd_tso_events", ("save", *TSO_GROUP), float(m.tso_saves))
        if not is_leader:
            return reg
        reg.merge(self.pd_counters)
        for (desc, event), value in self.op_counter.items():
            reg.set("pd_schedule_operators_count", (desc, event), value)
        reg.set("pd_tso_role", TSO_GROUP, 1.0)
        reg.set("pd_cluster_tso", ("tso", *TSO_GROUP), float(self.now // 1_000_000))
        reg.set("pd_cluster_id", ("idalloc",), float(self.next_id))
        syncer = float(self.op_seq + len(self.regions))
        reg.set("pd_region_syncer_status", ("sync_index",), syncer)
        reg.set("pd_region_syncer_status", ("last_index",), syncer)
        for other in self.members:
            reg.set("pd_cluster_health_status", (other.name,), 1.0 if other.alive else 0.0)
        self._store_metrics(reg)
        self._region_metrics(reg)
        self._config_metrics(reg)
        self._scheduler_metrics(reg)
        self._hot_metrics(reg)
        return reg

    # ------------------------------------------------------------------ every member
    def _process_gauges(self, reg: PdRegistry, member: int, leader: bool) -> None:
        m = self.members[member]
        heap = self.pd_heap_bytes(leader)
        goroutines = 500 + 4 * len(self.stores) if leader else 250
        stacks = goroutines * 8192.0
        inuse = heap * 1.12
        idle = heap * 0.45
        released = idle * 0.6
        reg.set("process_start_time_seconds", (), float(m.start_s))
        reg.set("process_resident_memory_bytes", (), float(int(inuse + stacks + 40 * MIB)))
        reg.set("process_virtual_memory_bytes", (), float(int(inuse + idle + 2048 * MIB)))
        reg.set("process_open_fds", (), float(60 + 2 * len(self.stores) + 10))
        reg.set("process_max_fds", (), 1_000_000.0)
        reg.set("pd_service_maxprocs", (), float(CPU_CORES))
        reg.set("pd_service_memory_quota_bytes", (), float(MEMORY_QUOTA))
        reg.set("go_goroutines", (), float(goroutines))
        reg.set("go_threads", (), 42.0 if leader else 28.0)
        for name, value in (
            ("go_memstats_heap_alloc_bytes", heap),
            ("go_memstats_heap_sys_bytes", inuse + idle),
            ("go_memstats_heap_idle_bytes", idle),
            ("go_memstats_heap_inuse_bytes", inuse),
            ("go_memstats_heap_released_bytes", released),
            ("go_memstats_heap_objects", heap / 96),
            ("go_memstats_next_gc_bytes", heap * 2),
            ("go_memory_classes_heap_objects_bytes", heap),
            ("go_memory_classes_heap_unused_bytes", inuse - heap),
            ("go_memory_classes_heap_free_bytes", idle - released),
            ("go_memory_classes_heap_released_bytes", released),
            ("go_memory_classes_heap_stacks_bytes", stacks),
            ("go_memory_classes_metadata_mcache_free_bytes", 12_000.0),
            ("go_memory_classes_metadata_mcache_inuse_bytes", 19_200.0),
            ("go_memory_classes_metadata_mspan_free_bytes", (inuse + idle) / 400),
            ("go_memory_classes_metadata_mspan_inuse_bytes", (inuse + idle) / 90),
            ("go_memory_classes_metadata_other_bytes", 9.0 * MIB),
            ("go_memory_classes_os_stacks_bytes", 0.0),
            ("go_memory_classes_other_bytes", 3.0 * MIB),
            ("go_memory_classes_profiling_buckets_bytes", 1.6 * MIB),
        ):
            reg.set(name, (), float(int(value)))
        up_s = max(1.0, self.now / NS - m.start_s)
        reg.set("go_memstats_last_gc_time_seconds", (), float(self.now // NS) - min(up_s, 2.0))
        reg.set("go_gc_gogc_percent", (), 100.0)
        reg.set("go_gc_gomemlimit_bytes", (), MAX_INT64)
        reg.set("go_gc_limiter_last_enabled_gc_cycle", (), 0.0)

    # ------------------------------------------------------------------ leader only
    def _store_metrics(self, reg: PdRegistry) -> None:
        max_down = self.max_store_down_ns
        ratio = float(self.schedule["low-space-ratio"])
        for s in self.stores.values():
            counts = dict.fromkeys(STORE_COUNTS, 0.0)
            down = False
            if s.node_state in (NODE_PREPARING, NODE_SERVING):
                age = self.store_down_ns(s)
                if age >= max_down:
                    down = True
                    counts["store_down_count"] = 1
                elif age > UNHEALTHY_NS:
                    counts["store_unhealth_count"] = 1
                elif age > DISCONNECT_NS:
                    counts["store_disconnected_count"] = 1
                elif s.pd_slow_score >= SLOW_STORE_THRESHOLD:
                    counts["store_slow_count"] = 1
                else:
                    counts["store_up_count"] = 1
                key = (
                    "store_preparing_count"
                    if s.node_state == NODE_PREPARING
                    else "store_serving_count"
                )
                counts[key] = 1
            elif s.node_state == NODE_REMOVING:
                counts["store_offline_count"] = counts["store_removing_count"] = 1
            elif s.node_state == NODE_REMOVED:
                counts["store_tombstone_count"] = counts["store_removed_count"] = 1
            if s.node_state != NODE_REMOVED and not down and s.pd_capacity > 0:
                if s.pd_available < (1.0 - ratio) * s.pd_capacity:
                    counts["store_low_space_count"] = 1
            sid = str(s.id)
            for name, value in counts.items():
                reg.set("pd_cluster_status", (name, ENGINE, sid), value)
            if s.node_state == NODE_REMOVED:
                continue
            for name, value in (
                ("storage_size", s.pd_used),
                ("storage_capacity", s.pd_capacity),
                ("region_count", s.region_count),
                ("leader_count", s.leader_count),
                ("witness_count", 0),
                ("learner_count", s.learner_count),
            ):
                reg.set("pd_cluster_status", (name, ENGINE, sid), float(value))
            self._store_status(reg, s)
            limit = self.schedule["store-limit"].get(sid)
            if limit:
                reg.set("pd_cluster_store_limit", (sid, "add-peer"), float(limit["add-peer"]))
                reg.set("pd_cluster_store_limit", (sid, "remove-peer"), float(limit["remove-peer"]))

    def _store_status(self, reg: PdRegistry, s: Store) -> None:
        addr, sid = s.address, str(s.id)
        r = s.pd_rates
        read_cpu = r[5] * 0.00002
        for typ, value in (
            ("region_score", self.region_score(s)),
            ("leader_score", float(s.leader_count)),
            ("region_size", float(s.region_kb // 1024)),
            ("region_count", float(s.region_count)),
            ("leader_size", float(s.leader_kb // 1024)),
            ("leader_count", float(s.leader_count)),
            ("witness_count", 0.0),
            ("learner_count", float(s.learner_count)),
            ("store_available", float(s.pd_available)),
            ("store_used", float(s.pd_used)),
            ("store_capacity", float(s.pd_capacity)),
            ("store_write_rate_bytes", r[0]),
            ("store_read_rate_bytes", r[3]),
            ("store_write_rate_keys", r[1]),
            ("store_read_rate_keys", r[4]),
            ("store_write_query_rate", r[2]),
            ("store_read_query_rate", r[5]),
            ("store_read_cpu_usage", read_cpu),
            ("store_cpu_usage", s.cpu_now * 100.0),
            ("store_disk_read_rate", r[3] * 0.3),
            ("store_disk_write_rate", r[0] * 3.0),
            ("store_regions_write_rate_bytes", r[0]),
            ("store_regions_write_rate_keys", r[1]),
            ("store_write_rate_bytes_instant", r[0]),
            ("store_read_rate_bytes_instant", r[3]),
            ("store_write_rate_keys_instant", r[1]),
            ("store_read_rate_keys_instant", r[4]),
            ("store_write_query_rate_instant", r[2]),
            ("store_read_query_rate_instant", r[5]),
            ("store_read_cpu_usage_instant", read_cpu),
            ("store_regions_write_rate_bytes_instant", r[0]),
            ("store_regions_write_rate_keys_instant", r[1]),
        ):
            reg.set("pd_scheduler_store_status", (addr, sid, typ), value)

    def _region_metrics(self, reg: PdRegistry) -> None:
        names = {v: k for k, v in CHECK_BITS.items()}
        for bit, count in self.check_counts.items():
            reg.set(
                "pd_regions_status",
                (names[bit].replace("-region", "") + "-region-count",),
                float(count),
            )
        reg.set("pd_regions_status", ("witness-leader-region-count",), 0.0)
        # With no location-labels every region is isolated at level "none" (GetRegionLabelIsolation).
        if not self.replication["location-labels"]:
            reg.set("pd_regions_label_level", ("none",), float(len(self.regions)))
        batch = max(1, len(self.regions) // 128)
        reg.set("pd_checker_patrol_regions_time", (), batch * 0.01)

    def _config_metrics(self, reg: PdRegistry) -> None:
        sc = self.schedule
        for key in (
            "leader-schedule-limit",
            "region-schedule-limit",
            "merge-schedule-limit",
            "replica-schedule-limit",
            "hot-region-schedule-limit",
            "hot-region-cache-hits-threshold",
            "max-pending-peer-count",
            "max-snapshot-count",
            "max-merge-region-size",
            "max-merge-region-keys",
            "low-space-ratio",
            "high-space-ratio",
            "tolerant-size-ratio",
        ):
            reg.set("pd_config_status", (key,), float(sc[key]))
        reg.set("pd_config_status", ("max-replicas",), float(self.replication["max-replicas"]))
        reg.set("pd_config_status", ("region-max-size",), float(REGION_MAX_SIZE_MB))
        reg.set("pd_config_status", ("region-split-size",), float(REGION_SPLIT_SIZE_MB))
        reg.set("pd_config_status", ("region-max-keys",), float(REGION_MAX_SIZE_MB * 10000))
        reg.set("pd_config_status", ("region-split-keys",), float(REGION_SPLIT_SIZE_MB * 10000))
        for key, metric in (
            ("enable-make-up-replica", "enable-makeup-replica"),
            ("enable-remove-down-replica", "enable-remove-down-replica"),
            ("enable-remove-extra-replica", "enable-remove-extra-replica"),
            ("enable-replace-offline-replica", "enable-replace-offline-replica"),
        ):
            reg.set("pd_config_status", (metric,), 1.0 if sc[key] == "true" else 0.0)
        reg.set("pd_scheduling_allowance_status", ("halt-scheduling",), 0.0)

    def _scheduler_metrics(self, reg: PdRegistry) -> None:
        for name in self.scheduler_names():
            reg.set("pd_scheduler_status", (name, "allow"), 1.0)
        # Placement rules are on: the default rule in the default group.
        if self.replication["enable-placement-rules"] == "true":
            reg.set("pd_rule_manager_status", ("rule_count",), 1.0)
            reg.set("pd_rule_manager_status", ("group_count",), 1.0)
        for sid in self.slow_evicted_stores():
            reg.set("pd_scheduler_evicted_slow_store_status", (str(sid), "disk"), 1.0)

    def _hot_metrics(self, reg: PdRegistry) -> None:
        hot_on = self.scheduler_on(BALANCE_HOT_REGION)
        live = [s for s in self.stores.values() if s.pd_seen and s.state != STATE_TOMBSTONE]
        for kind in ("write", "read"):
            body = self.hot_peers(kind)
            for role, key in (("leader", "as_leader"), ("peer", "as_peer")):
                for sid, stat in body[key].items():
                    if not stat["regions_count"]:
                        continue
                    labels = (self.stores[int(sid)].address, sid)
                    for dim, value in (
                        ("bytes", stat["total_flow_bytes"]),
                        ("keys", stat["total_flow_keys"]),
                        ("query", stat["total_flow_query"]),
                        ("cpu", 0.0),
                    ):
                        reg.set(
                            "pd_hotspot_status", (*labels, f"total_{kind}_{dim}_as_{role}"), value
                        )
                    reg.set(
                        "pd_hotspot_status",
                        (*labels, f"hot_{kind}_region_as_{role}"),
                        float(stat["regions_count"]),
                    )
            for sid, stat in body["as_peer"].items():
                reg.set(
                    "pd_hotcache_status",
                    ("total_length", f"store-{sid}", kind),
                    float(stat["regions_count"]),
                )
            if not hot_on or not live:
                continue
            for role, key in (("leader", "as_leader"), ("region", "as_peer")):
                stats = body[key]
                count = len(live)
                loads = [
                    sum(stat[f"total_flow_{dim}"] for stat in stats.values()) / count
                    for dim in ("bytes", "keys", "query")
                ]
                peers = sum(stat["regions_count"] for stat in stats.values()) / count
                for dim, value in zip(("byte", "key", "query"), loads, strict=True):
                    reg.set(
                        "pd_scheduler_hot_peers_summary",
                        (f"exp-{dim}-rate-{kind}-{role}", ENGINE),
                        value,
                    )
                reg.set(
                    "pd_scheduler_hot_peers_summary", (f"exp-cpu-rate-{kind}-{role}", ENGINE), 0.0
                )
                reg.set(
                    "pd_scheduler_hot_peers_summary",
                    (f"exp-count-rate-{kind}-{role}", ENGINE),
                    peers,
                )
