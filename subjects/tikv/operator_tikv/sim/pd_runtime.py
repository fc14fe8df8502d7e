"""What each PD process counts as simulated time passes: Go runtime, etcd, gRPC, TSO, heartbeats.

A member's counters and histograms live as long as its process (``Member.registry``, reset when
it restarts); cluster-scheduling events go to ``pd_counters``, which only the leader serves.
Rates follow the model: a leader's allocation and heartbeat work grows with stores and regions,
TSO requests with the client load, a follower only syncs regions and answers members.
"""

from __future__ import annotations

from typing import Any

from operator_tikv.sim.members import PdMembers
from operator_tikv.sim.store import MIB
from operator_tikv.sim.traffic import READ_RATIO, REGION_HEARTBEAT_NS, VALUE_BYTES

GRPC_UNARY = ("pdpb.PD", "unary")
HEARTBEAT_SECONDS = REGION_HEARTBEAT_NS / 1e9


class PdRuntime(PdMembers):
    """Per-second increments of every PD member's process-lifetime metrics."""

    def pd_alloc_rate(self, leader: bool) -> float:
        """Bytes a member allocates per second: the leader handles every heartbeat and TSO request."""
        n = len(self.regions)
        if leader:
            return 8 * MIB + n * 60.0 + len(self.stores) * 20_000.0 + self.tso_rate() * 300.0
        return 1 * MIB + n * 20.0

    def pd_heap_bytes(self, leader: bool) -> float:
        """Live heap: the region cache (every member keeps one through the region syncer)."""
        n = len(self.regions)
        return (120 * MIB if leader else 60 * MIB) + n * (1200 if leader else 900)

    def tso_rate(self) -> float:
        """TSO requests per second: transactions of the simulated client load, batched by clients."""
        return self.config.qps_per_store * len(self.stores) * (1 - READ_RATIO) / 8.0

    def _pd_tick(self, dt: float) -> None:
        for idx, m in enumerate(self.members):
            if not m.alive:
                continue
            leader = idx == self.pd_leader
            reg = m.registry
            alloc = self.pd_alloc_rate(leader) * dt
            heap = self.pd_heap_bytes(leader)
            reg.inc(
                "process_cpu_seconds_total",
                (),
                dt * (0.02 + len(self.stores) * 2e-4 if leader else 0.004),
            )
            reg.inc("go_memstats_alloc_bytes_total", (), alloc)
            reg.inc("go_gc_heap_allocs_bytes_total", (), alloc)
            reg.inc("go_memstats_mallocs_total", (), alloc / 64)
            reg.inc("go_gc_heap_allocs_objects_total", (), alloc / 80)
            freed = alloc * 0.995
            reg.inc("go_gc_heap_frees_bytes_total", (), freed)
            reg.inc("go_memstats_frees_total", (), freed / 64)
            reg.inc("go_gc_heap_frees_objects_total", (), freed / 80)
            reg.observe("go_gc_heap_allocs_by_size_bytes", (), alloc / 80, 64.0, 1.1)
            reg.observe("go_gc_heap_frees_by_size_bytes", (), freed / 80, 64.0, 1.1)
            cycles = alloc / heap
            reg.inc("go_gc_cycles_automatic_gc_cycles_total", (), cycles)
            reg.inc("go_gc_cycles_total_gc_cycles_total", (), cycles)
            reg.inc("go_gc_cycles_forced_gc_cycles_total", (), 0.0)
            reg.observe("go_sched_pauses_total_gc_seconds", (), cycles * 2, 6e-5, 0.7)
            reg.observe("go_sched_pauses_stopping_gc_seconds", (), cycles * 2, 8e-6, 0.7)
            reg.observe("go_sched_pauses_total_other_seconds", (), dt * 0.02, 3e-5, 0.7)
            reg.observe("go_sched_pauses_stopping_other_seconds", (), dt * 0.02, 5e-6, 0.7)
            switches = dt * (2000.0 + len(self.stores) * 30 if leader else 300.0)
            reg.observe("go_sched_latencies_seconds", (), switches, 4e-6, 1.0)
            self._etcd_tick(idx, dt, leader)
            reg.observe(
                "grpc_server_handling_seconds",
                ("GetMembers", *GRPC_UNARY),
                dt * len(self.stores) / 60.0,
                2e-4,
            )
            if leader:
                self._leader_tick(dt)

    def _etcd_tick(self, idx: int, dt: float, leader: bool) -> None:
        """Raft log writes of PD's etcd: TSO saves, store metadata, schedule config; applied on every member."""
        reg = self.members[idx].registry
        writes = dt * (1 / 3 + len(self.stores) / 300.0)
        self.etcd_index += writes / max(1, sum(1 for m in self.members if m.alive))
        reg.observe("etcd_disk_wal_fsync_duration_seconds", (), writes, 0.0015)
        reg.observe("etcd_disk_backend_commit_duration_seconds", (), min(writes, dt * 10), 0.004)
        for other in self.members:
            if other.alive and other is not self.members[idx]:
                reg.observe(
                    "etcd_network_peer_round_trip_time_seconds",
                    (f"{other.member_id:x}",),
                    dt / 30.0,
                    0.0004,
                )
        for other in self.members:
            if other.alive:
                reg.observe(
                    "pd_server_etcd_endpoint_latency_seconds",
                    ("server-etcd-client", f"http://{self.config.host}:{other.port}"),
                    dt / 10.0,
                    0.002,
                )
        if leader:
            reg.observe("pd_txn_handle_txns_duration_seconds", ("success",), writes, 0.002)

    def _leader_tick(self, dt: float) -> None:
        """Work only the leader does: TSO, store and region heartbeats, heartbeat statistics."""
        counters = self.pd_counters
        assert self.pd_leader is not None
        self.members[self.pd_leader].registry.observe(
            "pd_server_handle_tso_duration_seconds", (), self.tso_rate() * dt, 0.0004
        )
        n = len(self.regions)
        heartbeats = n * dt / HEARTBEAT_SECONDS
        counters.observe(
            "pd_scheduler_region_heartbeat_interval_hist", (), heartbeats, HEARTBEAT_SECONDS, 0.05
        )
        total_qps = self.config.qps_per_store * len(self.stores)
        if n and total_qps > 0:
            per_region_w = total_qps * (1 - READ_RATIO) * HEARTBEAT_SECONDS / n
            per_region_r = total_qps * READ_RATIO * HEARTBEAT_SECONDS / n
            counters.observe(
                "pd_scheduler_write_byte_hist", (), heartbeats, per_region_w * VALUE_BYTES, 1.5
            )
            counters.observe(
                "pd_scheduler_read_byte_hist", (), heartbeats, per_region_r * VALUE_BYTES, 1.5
            )
            counters.observe("pd_scheduler_write_key_hist", (), heartbeats, per_region_w, 1.5)
            counters.observe("pd_scheduler_read_key_hist", (), heartbeats, per_region_r * 1.5, 1.5)
        for s in self.stores.values():
            if not s.reachable or not s.pd_seen or s.leader_count <= 0:
                continue
            labels = (s.address, str(s.id))
            beats = s.leader_count * dt / HEARTBEAT_SECONDS
            counters.inc("pd_scheduler_region_heartbeat", (*labels, "report", "ok"), beats)
            counters.set("pd_scheduler_region_heartbeat", (*labels, "report", "bind"), 1.0)
            counters.observe(
                "pd_scheduler_handle_region_heartbeat_duration_seconds", labels, beats, 0.00015
            )

    def hot_peers(self, kind: str) -> dict[str, Any]:
        """PD's hot peer statistics for "write" or "read" (the body of /hotspot/regions/{kind})."""
        # views builds PD's bodies from the whole model, which imports this module.
        from operator_tikv.sim import views

        return views.hotspot(self, kind, None)  # type: ignore[arg-type]

    def _hot_scheduler_tick(self) -> None:
        """One pass of balance-hot-region: every store with hot peers is a source, the rest targets."""
        for kind in ("write", "read"):
            body = self.hot_peers(kind)
            for role, key in (("leader", "as_leader"), ("peer", "as_peer")):
                for sid, stat in body[key].items():
                    side = "src" if stat["regions_count"] else "dst"
                    self.pd_counters.inc(
                        "pd_scheduler_hot_region", (f"{side}-store-succ-{kind}-{role}", sid)
                    )
        self.pd_counters.inc(
            "pd_scheduler_event_count", ("balance-hot-region-scheduler", "schedule")
        )

    def _count_store_heartbeat(self, address: str, sid: int) -> None:
        """A store heartbeat handled by the leader: its handling time and the interval since the last."""
        counters = self.pd_counters
        counters.observe(
            "pd_scheduler_handle_store_heartbeat_duration_seconds", (address, str(sid)), 1, 0.0004
        )
        counters.observe("pd_scheduler_store_heartbeat_interval_hist", (), 1, 10.0, 0.03)
        if self.pd_leader is not None:
            self.members[self.pd_leader].registry.observe(
                "grpc_server_handling_seconds", ("StoreHeartbeat", *GRPC_UNARY), 1, 0.0003
            )
