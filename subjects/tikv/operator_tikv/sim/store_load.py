"""A store's share of the workload as metrics and logs, write stalls and slow disks included."""

from __future__ import annotations

from operator_tikv.sim.elections import Elections
from operator_tikv.sim.encode import NS
from operator_tikv.sim.noise import jitter
from operator_tikv.sim.regions import PEER_SLOTS
from operator_tikv.sim.stall import REASON_OF_CAUSE, rocks_line
from operator_tikv.sim.store import CPU_CORES, KIB, MIB, Store
from operator_tikv.sim.traffic import COP_RATIO, READ_RATIO, VALUE_BYTES


class StoreLoad(Elections):
    """Per-store request, raft, scheduler and RocksDB figures for one step."""

    def _store_load(
        self, s: Store, total_qps: float, w: float, dt: float, unreachable: list[int]
    ) -> None:
        reg = s.registry
        qps = 0.0 if s.partitioned else total_qps * s.leader_w / w
        writes = qps * (1 - READ_RATIO)
        reads = qps * READ_RATIO
        repl_bytes = (
            0.0 if s.partitioned else total_qps * (1 - READ_RATIO) * VALUE_BYTES * s.peer_w / w
        )
        cpu = 0.25 + qps * 0.00012 + repl_bytes / (40 * MIB)
        util = min(cpu / CPU_CORES, 0.9)
        queue = 1.0 / (1.0 - util)
        slow = s.slow_ms / 1000.0
        stall = s.stall.stall_s if s.stall is not None else 0.0
        if stall:
            # Flush and compaction threads run flat out trying to pay the debt.
            cpu += 1.8
        read_med = 0.00035 * queue
        write_med = 0.0012 * queue + slow + stall
        grpc = (
            ("kv_get", reads * 0.85, read_med + 0.0001),
            ("kv_scan", reads * 0.15, read_med * 3),
            ("kv_prewrite", writes * 0.5, write_med + 0.0003),
            ("kv_commit", writes * 0.5, write_med + 0.0002),
        )
        for name, rate, med in grpc:
            reg.observe("tikv_grpc_msg_duration_seconds", (name, "unknown"), rate * dt, med)
        reg.observe(
            "tikv_storage_engine_async_request_duration_seconds",
            ("snapshot",),
            reads * dt,
            read_med * 0.4,
        )
        reg.observe(
            "tikv_storage_engine_async_request_duration_seconds", ("write",), writes * dt, write_med
        )
        for typ, n in (("snapshot", reads * dt), ("write", writes * dt)):
            reg.inc("tikv_storage_engine_async_request_total", (typ, "all"), n)
            reg.inc("tikv_storage_engine_async_request_total", (typ, "success"), n)
        appends = writes + repl_bytes / VALUE_BYTES * 0.5
        reg.observe(
            "tikv_raftstore_append_log_duration_seconds",
            (),
            appends * dt,
            0.0003 * queue + slow * 0.8,
        )
        reg.observe(
            "tikv_raftstore_commit_log_duration_seconds", (), writes * dt, 0.001 * queue + slow
        )
        reg.observe(
            "tikv_raftstore_apply_log_duration_seconds", (), appends * dt, 0.0002 * queue + stall
        )
        reg.observe(
            "tikv_raftstore_raft_process_duration_secs",
            ("ready",),
            max(appends, 5.0) * dt,
            0.0004 * queue,
        )
        lost = [sid for sid in unreachable if sid != s.id]
        lag = 2.0
        if lost and not s.partitioned:
            worst = max(self.now - (self.stores[sid].lost_ns or self.now) for sid in lost) / NS
            lag = min(8000.0, 2.0 + worst * 0.5)
        reg.observe("tikv_raftstore_log_lag", (), max(appends, 1.0) * dt, lag)
        reg.inc("tikv_raftstore_raft_sent_message_total", ("append", "accept"), appends * dt)
        reg.inc(
            "tikv_raftstore_raft_sent_message_total",
            ("heartbeat", "accept"),
            s.region_count * 0.5 * dt,
        )
        peers_down = lost if not s.partitioned else [x for x in self.stores if x != s.id]
        for sid in peers_down:
            reg.inc("tikv_server_report_failure_msg_total", ("unreachable", str(sid)), 20.0 * dt)
        if slow >= 0.1:
            busy = writes * 0.05 * dt
            s.signals.add("busy", busy, dt)
            reg.inc("tikv_scheduler_too_busy_total", ("prewrite",), busy)
            reg.inc("tikv_channel_full_total", ("normal",), busy * 0.2)
        if s.stall is not None:
            self._stall_metrics(s, writes, dt)
        reg.set("tikv_scheduler_contex_total", (), round(writes * write_med))
        for cmd, share in (("prewrite", 0.5), ("commit", 0.5)):
            n = writes * share * dt
            reg.observe("tikv_scheduler_command_duration_seconds", (cmd,), n, write_med + 0.0004)
            reg.observe("tikv_scheduler_latch_wait_duration_seconds", (cmd,), n, 0.00002 * queue)
        reg.observe(
            "tikv_scheduler_command_duration_seconds", ("get",), reads * 0.85 * dt, read_med
        )
        if s.region_count:
            # The split checker measures each region about every 10 s.
            avg_bytes = s.region_kb * KIB / s.region_count
            reg.observe("tikv_raftstore_region_size", (), s.region_count / 10 * dt, avg_bytes, 0.3)
        stall_us = max(slow if slow >= 0.1 else 0.0, stall) * 1e6
        for typ, factor in (
            ("write_stall_average", 0.6),
            ("write_stall_max", 2.0),
            ("write_stall_median", 0.5),
            ("write_stall_percentile95", 1.2),
            ("write_stall_percentile99", 1.5),
            ("write_stall_standard_deviation", 0.3),
        ):
            reg.set("tikv_engine_write_stall", ("kv", typ), stall_us * factor)
        s.cpu_s += cpu * dt
        self._record_signals(s, reads, writes, appends, cpu, dt, queue, slow, stall)
        for typ, rate in s.critical.items():
            reg.inc("tikv_critical_error_total", (typ,), rate * dt)
            if int(self.now / NS) % 10 == 0:
                self.log(s.id, "ERROR", "mod.rs:91", "critical error", [("type", typ)])
        if s.partitioned and int(self.now / NS) % 10 == 0:
            self._isolated_campaigns(s)
        s.pd_rates = (
            repl_bytes,
            repl_bytes / VALUE_BYTES,
            writes,
            reads * VALUE_BYTES,
            reads * 1.5,
            reads,
        )
        s.cpu_now = cpu
        if s.stall is not None and int(self.now / NS) % 10 == 0:
            self._log_stall(s)
        if slow >= 0.1 and int(self.now / NS) % 10 == 0:
            takes = int(s.slow_ms * jitter(s.id, self.now))
            self.log(
                s.id,
                "WARN",
                "write.rs:1036",
                f"[store {s.id}] async write too slow, write_kv: {takes / 1000:.3f}s, write_raft: "
                f"{takes / 1000 * 0.9:.3f}s, send: 0.000s, callback: 0.000s thread: store-writer-0",
                [("takes", takes)],
            )

    def _record_signals(
        self,
        s: Store,
        reads: float,
        writes: float,
        appends: float,
        cpu: float,
        dt: float,
        queue: float,
        slow: float,
        stall: float,
    ) -> None:
        """The step's activity as ``Signals``, from which a scrape derives most families."""
        sig = s.signals
        base = cpu - (1.8 if stall else 0.0)
        sig.add("cpu", base * dt, dt)
        sig.add("stall_cpu", (cpu - base) * dt, dt)
        sig.add("tick", dt, dt)
        # TiDB sends most SQL reads as coprocessor requests; point gets and scans are the rest.
        sig.add("cop", reads * COP_RATIO * dt, dt, 0.0009 * queue + slow * 0.1, 0.8)
        sig.add("read", reads * dt, dt, 0.00035 * queue)
        sig.add("write", writes * dt, dt, 0.0012 * queue + slow + stall)
        # The raft engine's write (WAL append + sync): what a slow disk slows first.
        sig.add("raft_io", appends * dt, dt, 0.00025 * queue + slow * 0.8)
        sig.add("kv_io", appends * dt, dt, 0.00015 * queue + stall)
        sig.add("commit", writes * dt, dt, 0.001 * queue + slow)
        sig.add("propose_wait", writes * dt, dt, 0.00003 * queue + slow * 0.05)
        sig.add("apply_wait", appends * dt, dt, 0.00004 * queue + stall * 0.6)
        pool_wait = 0.00002 * queue * queue
        sig.add("sched_wait", writes * dt, dt, pool_wait + stall * 0.2)
        sig.add("read_wait", reads * (1 + COP_RATIO) * dt, dt, pool_wait)
        sig.add("cop_wait", reads * COP_RATIO * dt, dt, pool_wait * 1.5 + 0.00001)
        sig.add("inspect", dt, dt, 0.0001 + slow)
        leaders = max(s.leader_count, 1)
        # Each leader reports what it wrote in its minute between region heartbeats.
        beats = s.leader_count / 60 * dt
        sig.add("region_written_keys", beats, dt, max(1.0, writes * 2 * 60 / leaders), 1.0)
        sig.add(
            "region_written_bytes", beats, dt, max(256.0, writes * VALUE_BYTES * 60 / leaders), 1.0
        )
        sig.add("check_leader", 2 * dt / 20, dt, max(1.0, s.leader_count), 0.2)
        # The load-based split controller samples its busiest regions every second.
        sampled = min(s.leader_count, 10) * dt
        qps = (reads + writes) / leaders
        sig.add("split_load_qps", sampled, dt, max(1.0, qps * 8), 1.0)
        sig.add("split_load_kib", sampled, dt, max(1.0, qps * 8 * VALUE_BYTES / 1024), 1.0)
        sig.add("split_load_cpu", sampled, dt, max(1.0, qps * 8 * 0.12), 1.0)

    def _stall_metrics(self, s: Store, writes: float, dt: float) -> None:
        """Scheduler busy, apply channel full, and RocksDB's own stall counters."""
        st = s.stall
        assert st is not None
        reg = s.registry
        reg.inc("tikv_scheduler_too_busy_total", ("prewrite",), writes * 0.5 * 0.12 * dt)
        reg.inc("tikv_scheduler_too_busy_total", ("commit",), writes * 0.5 * 0.04 * dt)
        reg.inc("tikv_channel_full_total", ("normal",), writes * 0.02 * dt)
        reg.inc("tikv_engine_stall_micro_seconds", ("kv",), writes * dt * st.stall_ms * 1000.0)

    def _log_stall(self, s: Store) -> None:
        """RocksDB's line in rocksdb.info; TiKV's own log shows only applies slower than 1 s."""
        st = s.stall
        assert st is not None and s.rocks_log is not None
        ts = max(self.now, s.rocks_log.last_ns)
        source, message = st.message(self.now)
        s.rocks_log.add(ts, rocks_line(ts, "WARN", source, message))
        s.registry.inc("tikv_engine_write_stall_reason", ("kv", REASON_OF_CAUSE[st.cause]))
        takes = int(st.stall_ms * jitter(s.id, self.now, "apply"))
        if takes <= 1000:
            return
        rt = self.regions
        n = len(rt)
        for _ in range(min(n, 32)):
            i = self.rng.randrange(n)
            if rt.leader_store(i) != s.id:
                continue
            pid = rt.pid[i * PEER_SLOTS + rt.leader[i]]
            self.log(
                s.id,
                "WARN",
                "apply.rs:788",
                f"[region {rt.ids[i]}] {pid} handle ready 1 committed entries",
                [("takes", takes)],
            )
            return
