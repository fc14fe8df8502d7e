"""The simulated cluster: how it is built and how one step of simulated time runs every concern.

``Cluster`` is composed of one class per concern (faults, checker, balance,
workload, elections, operators, PD's view and metrics ...), each in its own module
over the shared fields of ``state.ClusterState``. Everything is synchronous and
driven by ``step``: the HTTP layer only reads it and calls the control methods.
All randomness comes from one seeded ``random.Random`` used in a fixed order, so
the same seed and the same calls give the same state. Per-step work is
O(stores + hot regions + patrol batch); a full scan of the region table happens
only on rare events (a store lost or back).
"""

from __future__ import annotations

import random
from pathlib import Path

from operator_tikv.sim import logs as L
from operator_tikv.sim.balance import Balance
from operator_tikv.sim.checker import Checker
from operator_tikv.sim.config import SimConfig, default_replication_config, default_schedule_config
from operator_tikv.sim.encode import NS, go_duration
from operator_tikv.sim.errors import SimError
from operator_tikv.sim.faults import Faults
from operator_tikv.sim.keys import KEYSPACE
from operator_tikv.sim.members import PD_GIT_HASH, PD_VERSION, Member
from operator_tikv.sim.noise import jitter
from operator_tikv.sim.operators import (
    OP_ADMIN,
    OP_LEADER,
    OP_REGION,
    OP_SPLIT,
    STATUS_WORDS,
    Step,
)
from operator_tikv.sim.pd_admin import PdAdmin
from operator_tikv.sim.pd_families import PD_FAMILIES
from operator_tikv.sim.pd_metrics import PdMetrics
from operator_tikv.sim.pd_registry import PdRegistry
from operator_tikv.sim.pd_view import STORE_HEARTBEAT_NS
from operator_tikv.sim.region_view import RegionView
from operator_tikv.sim.regions import CHECK_BITS, ROLE_VOTER, RegionTable
from operator_tikv.sim.schedulers import BALANCE_HOT_REGION, DEFAULT_SCHEDULERS
from operator_tikv.sim.store import GIB, STATE_TOMBSTONE, TIKV_GIT_HASH, TIKV_VERSION, Store
from operator_tikv.sim.traffic import (
    HOT_CANDIDATES,
    MIN_HOT_READ_BYTES,
    MIN_HOT_WRITE_BYTES,
    READ_RATIO,
    REGION_HEARTBEAT_NS,
    VALUE_BYTES,
)
from operator_tikv.sim.workload import Workload

# Names imported from this module before it was split, still importable from here.
__all__ = [
    "MIN_HOT_READ_BYTES",
    "MIN_HOT_WRITE_BYTES",
    "OP_ADMIN",
    "OP_LEADER",
    "OP_REGION",
    "OP_SPLIT",
    "PD_GIT_HASH",
    "PD_VERSION",
    "READ_RATIO",
    "REGION_HEARTBEAT_NS",
    "STATE_TOMBSTONE",
    "STATUS_WORDS",
    "TIKV_GIT_HASH",
    "TIKV_VERSION",
    "VALUE_BYTES",
    "Cluster",
    "Member",
    "SimError",
    "Step",
    "Store",
    "jitter",
]


class Cluster(Faults, Checker, Balance, Workload, PdAdmin, PdMetrics, RegionView):
    """The whole simulated cluster: PD members, stores, regions, operators, faults, logs."""

    def __init__(self, config: SimConfig, start_ns: int) -> None:
        config.validate()
        self.config = config
        self.rng = random.Random(config.seed)
        self.t0 = start_ns
        self.now = start_ns
        self.mono0 = start_ns - 2_187 * NS
        self.next_id = 1
        self.cluster_id = 7_000_000_000_000_000_000 + self.rng.randrange(10**18)
        self.bootstrap_ns = start_ns - 600 * NS - self.rng.randrange(NS)
        self._down_text = ""
        self._down_ns = 0
        self.schedule = default_schedule_config(go_duration(int(config.max_store_down_time_s * NS)))
        self.replication = default_replication_config()
        self.members = [
            Member(f"pd-{i + 1}", self.rng.getrandbits(63) | (1 << 60)) for i in range(3)
        ]
        for m in self.members:
            m.start_s = start_ns // NS - 900
        self.pd_leader = 0
        self.members[0].was_leader = True
        self.pd_elect_at = None
        self.stores = {}
        self.regions = RegionTable()
        self.total_w = 0.0
        self.hot = []
        self.hot_since = {}
        self.hot_boost = {}
        self.operators = {}
        self.finished_ops = {}
        self.op_events = []
        self.op_seq = 0
        self.elect_at = None
        self.patrol_cursor = 0
        self.check_counts = dict.fromkeys(CHECK_BITS.values(), 0)
        self.faults = {}
        self.fault_seq = 0
        self.op_counter = {}
        self.schedulers = {name: [] for name in DEFAULT_SCHEDULERS}
        self.evict_cursor = 0
        self.pd_counters = PdRegistry(PD_FAMILIES)
        self.pd_term = 1
        self.etcd_index = 1000.0
        self.log_dir = Path(config.log_dir) if config.log_dir else None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self._build()

    def _build(self) -> None:
        cfg = self.config
        ring = 5000 if cfg.stores <= 20 else 500
        for sid in range(1, cfg.stores + 1):
            path = self.log_dir / f"tikv-{sid}.log" if self.log_dir else None
            rocks_path = self.log_dir / f"tikv-{sid}.rocksdb.info" if self.log_dir else None
            store = Store(
                id=sid,
                host=cfg.host,
                log=L.StoreLog(ring, path),
                rocks_log=L.StoreLog(ring // 10, rocks_path),
                unified_read_pool=cfg.unified_read_pool,
            )
            store.start_ts_s = self.t0 // NS - 3600 - self.rng.randrange(60)
            store.pd_start_s = store.start_ts_s
            store.next_hb_ns = self.t0 + (sid * 997 * 1_000_000) % STORE_HEARTBEAT_NS
            store.last_hb_ns = store.next_hb_ns - STORE_HEARTBEAT_NS
            store.pd_hb_base = 250000.0 + self.rng.random() * 100
            self.stores[sid] = store
            self.alloc_id()
        n = cfg.regions
        weights = self._initial_weights(n)
        step = KEYSPACE // n
        store_ids = list(self.stores)
        replicas = min(3, len(store_ids))
        rt = self.regions
        self.total_w = sum(weights)
        for i in range(n):
            start = i * step
            end = KEYSPACE if i == n - 1 else (i + 1) * step
            size_mb = self.rng.randint(56, 96)
            rid = self.alloc_id()
            idx = rt.append(
                rid, start, end, 5, 2 + i % 7, size_mb * 1024, size_mb * 8192, weights[i], 6
            )
            first = (i * replicas) % len(store_ids)
            for k in range(replicas):
                sid = store_ids[(first + k) % len(store_ids)]
                self._add_peer(idx, k, sid, self.alloc_id(), ROLE_VOTER)
            self._set_leader(idx, self.rng.randrange(replicas))
        for store in self.stores.values():
            # Start-up read every peer's raft and apply state from disk once.
            store.signals.add("peer_create", store.region_count, 1.0, 0.0002)
            store.registry.set("tikv_raftstore_leader_missing", (), 0)
            used = store.used_bytes()
            store.capacity = max(int(311.7 * GIB), int(used * 3.2))
            store.other_used = (
                int(store.capacity * 0.285) - used if store.capacity * 0.285 > used else 0
            )
            self._pd_heartbeat(store)
            store.last_hb_ns = store.next_hb_ns - STORE_HEARTBEAT_NS
        for sid in store_ids:
            self._limit_entry(sid)
        self.hot = self._top_weights(HOT_CANDIDATES)
        for idx in self.hot:
            self.hot_since[idx] = self.t0 - REGION_HEARTBEAT_NS * (2 + idx % 20)

    def _limit_entry(self, sid: int) -> None:
        self.schedule["store-limit"][str(sid)] = {"add-peer": 15, "remove-peer": 15}
        self.schedule["store-limit"] = dict(sorted(self.schedule["store-limit"].items()))

    def step(self, dt_ns: int) -> None:
        """Advance simulated time by ``dt_ns`` (at most a second is meaningful per call)."""
        self.now += dt_ns
        dt = dt_ns / NS
        self._pd_election()
        self._pd_tick(dt)
        self._faults_evolve(dt)
        self._workload(dt)
        self._heartbeats()
        if self.elect_at is not None and self.now >= self.elect_at:
            self.elect_at = None
            self._elect_all()
        self._run_operators()
        if self.pd_leader is not None:
            self._refill_tokens(dt)
            self._patrol(dt)
            self._balance()
            if self.scheduler_on(BALANCE_HOT_REGION) and (self.now // NS) % 10 == 0:
                self._hot_scheduler_tick()
            self.bury_drained()
        self._expire_finished()
