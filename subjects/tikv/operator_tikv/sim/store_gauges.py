"""Gauges a store samples on its own schedule: memory, regions, engine sizes, RocksDB levels."""

from __future__ import annotations

from operator_tikv.sim.stall import COLUMN_FAMILIES, STALL_REASONS, files_at_level
from operator_tikv.sim.state import ClusterState
from operator_tikv.sim.store import CPU_CORES, GIB, KIB, MEMORY_QUOTA, MIB, Store


class StoreGauges(ClusterState):
    """Store gauges set when a store is scraped or heartbeats."""

    def refresh_gauges(self, s: Store) -> None:
        """Gauges TiKV samples on its own schedule; set when the store is scraped."""
        cpu = s.cpu_now
        reg = s.registry
        reg.set("process_cpu_seconds_total", (), float(int(s.cpu_s)))
        reg.set("process_start_time_seconds", (), float(s.start_ts_s))
        reg.set(
            "process_resident_memory_bytes",
            (),
            float(2 * GIB + s.region_count * 64 * KIB + int(cpu * 10 * MIB)),
        )
        reg.set("tikv_server_cpu_cores_quota", (), float(CPU_CORES))
        reg.set("tikv_server_memory_quota_bytes", (), float(MEMORY_QUOTA))
        reg.set("tikv_raftstore_region_count", ("region",), float(s.region_count))
        reg.set("tikv_raftstore_region_count", ("leader",), float(s.leader_count))
        reg.set("tikv_raftstore_region_count", ("buckets",), float(s.region_count))
        score = float(int(s.slow_score))
        reg.set("tikv_raftstore_slow_score", ("raft",), score)
        reg.set("tikv_raftstore_slow_score", ("kvdb",), score)
        reg.set("tikv_raftstore_slow_score", ("network",), 1.0)
        kv = s.region_kb * KIB
        reg.set("tikv_engine_size_bytes", ("kv", "default"), float(int(kv * 0.72)))
        reg.set("tikv_engine_size_bytes", ("kv", "lock"), float(int(kv * 0.001)))
        reg.set("tikv_engine_size_bytes", ("kv", "write"), float(int(kv * 0.279)))
        reg.set("tikv_engine_size_bytes", ("raft", "raft"), float(s.raft_bytes()))
        for worker in ("pd-worker", "raftlog-fetch-worker", "snap-handler", "split-check"):
            reg.set("tikv_worker_pending_task_total", (worker,), 0.0)
        reg.set("tikv_worker_pending_task_total", ("region-worker",), float(s.receiving_snaps))
        reg.set("tikv_raftstore_snapshot_traffic_total", ("sending",), float(s.sending_snaps))
        reg.set("tikv_raftstore_snapshot_traffic_total", ("receiving",), float(s.receiving_snaps))
        for typ in ("cancel", "failure", "no_need", "success", "try_connect"):
            reg.inc("tikv_pd_reconnect_total", (typ,), 0.0)
        self._engine_gauges(s)
        if not reg.values.get("tikv_store_size_bytes"):
            self._store_size_metrics(s)

    def _engine_gauges(self, s: Store) -> None:
        """RocksDB kv engine properties TiKV flushes every few seconds (files per level, debt)."""
        reg = s.registry
        st = s.stall
        kv = s.region_kb * KIB
        for cf in COLUMN_FAMILIES:
            for level in range(7):
                files = files_at_level(s.id, cf, kv, level)
                if level == 0 and st is not None and cf in ("default", "write"):
                    files = max(files, st.l0_files(self.now))
                reg.set("tikv_engine_num_files_at_level", ("kv", cf, str(level)), float(files))
            pending = int(kv * 0.002) if cf == "default" else 0
            if st is not None and cf == "default":
                pending = max(pending, st.pending_bytes(self.now))
            reg.set("tikv_engine_pending_compaction_bytes", ("kv", cf), float(pending))
        for typ in STALL_REASONS:
            reg.inc("tikv_engine_write_stall_reason", ("kv", typ), 0.0)
        if "tikv_engine_stall_micro_seconds" not in reg.values:
            reg.inc("tikv_engine_stall_micro_seconds", ("kv",), 0.0)

    def _store_size_metrics(self, s: Store) -> None:
        for typ, value in (
            ("available", s.available_bytes()),
            ("capacity", s.capacity),
            ("import_size", 0),
            ("kv_size", s.region_kb * KIB),
            ("raft_size", s.raft_bytes()),
            ("snap_size", 0),
            ("used", s.used_bytes()),
        ):
            s.registry.set("tikv_store_size_bytes", (typ,), float(value))
