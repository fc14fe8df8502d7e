"""The simulated cluster's state and how one step of simulated time changes it.

Everything here is synchronous and driven by ``step``: the HTTP layer only reads
it and calls the control methods. All randomness comes from one seeded
``random.Random`` used in a fixed order, so the same seed and the same calls give
the same state. Per-step work is O(stores + hot regions + patrol batch); a full
scan of the region table happens only on rare events (a store lost or back).
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from operator_tikv.sim import logs as L
from operator_tikv.sim.config import (
    BOOL_STRING_KEYS,
    DURATION_KEYS,
    FLOAT_KEYS,
    STRING_KEYS,
    SimConfig,
    default_replication_config,
    default_schedule_config,
)
from operator_tikv.sim.encode import NS, go_duration, go_time_string, parse_go_duration
from operator_tikv.sim.keys import KEYSPACE, decode_hex, key_hex
from operator_tikv.sim.metrics import PD_FAMILIES, TIKV_FAMILIES, Registry
from operator_tikv.sim.regions import (
    CHECK_BITS,
    DOWN_PEER,
    EMPTY_REGION,
    EXTRA_PEER,
    LEARNER_PEER,
    MISS_PEER,
    OFFLINE_PEER,
    OVERSIZED,
    PEER_SLOTS,
    PENDING_PEER,
    ROLE_LEARNER,
    ROLE_VOTER,
    UNDERSIZED,
    RegionTable,
)
from operator_tikv.sim.stall import (
    CAUSES,
    COLUMN_FAMILIES,
    REASON_OF_CAUSE,
    STALL_REASONS,
    WriteStall,
    files_at_level,
    rocks_line,
)

GIB = 1 << 30
MIB = 1 << 20
KIB = 1 << 10
STORE_HEARTBEAT_NS = 10 * NS
REGION_HEARTBEAT_NS = 60 * NS
DISCONNECT_NS = 20 * NS
UNHEALTHY_NS = 600 * NS
ELECTION_TIMEOUT_NS = 10 * NS
PD_ELECTION_NS = 3 * NS
MAX_PEER_DOWN_NS = 600 * NS
REGION_MAX_SIZE_MB = 144
REGION_SPLIT_SIZE_MB = 96
SLOW_STORE_THRESHOLD = 80
EVICT_SLOW_SCORE = 100
TIKV_VERSION = "8.5.0"
TIKV_GIT_HASH = "8e9da6f8a0b6a5b7c1f6f0a7d5c3b2e1a4f9d8c7"
PD_VERSION = "v8.5.0"
PD_GIT_HASH = "d190c0e9082de46128b756f93b1291768dda645a"
HOT_CANDIDATES = 60
MIN_HOT_WRITE_BYTES = 1024.0
MIN_HOT_READ_BYTES = 8 * 1024.0
VALUE_BYTES = 1024
READ_RATIO = 0.7
INSERT_RATIO = 0.2
CPU_CORES = 8
MEMORY_QUOTA = 16 * GIB
STATE_UP, STATE_OFFLINE, STATE_TOMBSTONE = 0, 1, 2
NODE_PREPARING, NODE_SERVING, NODE_REMOVING, NODE_REMOVED = 0, 1, 2, 3

# Operator kind bits (pkg/schedule/operator/kind.go) and status values.
OP_ADMIN, OP_MERGE, OP_RANGE, OP_REPLICA, OP_SPLIT, OP_HOT, OP_REGION, OP_LEADER = (
    1,
    2,
    4,
    8,
    16,
    32,
    64,
    128,
)
KIND_NAMES = (
    (OP_ADMIN, "admin"),
    (OP_MERGE, "merge"),
    (OP_RANGE, "range"),
    (OP_REPLICA, "replica"),
    (OP_SPLIT, "split"),
    (OP_HOT, "hot-region"),
    (OP_REGION, "region"),
    (OP_LEADER, "leader"),
)
ST_CREATED, ST_STARTED, ST_SUCCESS, ST_CANCELED, ST_REPLACED, ST_EXPIRED, ST_TIMEOUT = range(7)
STATUS_WORDS = {
    ST_CREATED: "RUNNING",
    ST_STARTED: "RUNNING",
    ST_SUCCESS: "SUCCESS",
    ST_CANCELED: "CANCEL",
    ST_REPLACED: "REPLACE",
    ST_EXPIRED: "TIMEOUT",
    ST_TIMEOUT: "TIMEOUT",
}


class SimError(Exception):
    """A PD-style failure: ``status`` is the HTTP code, ``message`` the Go error text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Store:
    id: int
    host: str
    status_port: int = 0
    start_ts_s: int = 0
    last_hb_ns: int = 0
    next_hb_ns: int = 0
    state: int = STATE_UP
    node_state: int = NODE_SERVING
    physically_destroyed: bool = False
    alive: bool = True
    paused: bool = False
    partitioned: bool = False
    slow_ms: float = 0.0
    stall: WriteStall | None = None
    critical: dict[str, float] = field(default_factory=dict)
    slow_score: float = 1.0
    fill_bytes: float = 0.0
    fill_rate: float = 0.0
    fill_floor: float = 0.0
    capacity: int = 0
    other_used: int = 0
    region_count: int = 0
    leader_count: int = 0
    region_kb: int = 0
    leader_kb: int = 0
    learner_count: int = 0
    leader_w: float = 0.0
    peer_w: float = 0.0
    lost_ns: int | None = None
    tokens_add: float = 15.0
    limit_add: float = 15.0
    leader_weight: float = 1.0
    region_weight: float = 1.0
    disk_state: str = "Normal"
    sending_snaps: int = 0
    receiving_snaps: int = 0
    pd_seen: bool = False
    pd_capacity: int = 0
    pd_available: int = 0
    pd_used: int = 0
    pd_slow_score: int = 1
    pd_start_s: int = 0
    pd_rates: tuple[float, float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    pd_hb_base: float = 250000.0
    cpu_s: float = 0.0
    cpu_now: float = 0.0
    pd_lost_logged: bool = False
    registry: Registry = field(default_factory=lambda: Registry(TIKV_FAMILIES))
    log: L.StoreLog | None = None
    rocks_log: L.StoreLog | None = None

    @property
    def reachable(self) -> bool:
        return self.alive and not self.paused and not self.partitioned

    @property
    def address(self) -> str:
        return f"{self.host}:{20160 + self.id}"

    @property
    def status_address(self) -> str:
        return f"{self.host}:{self.status_port}"

    def used_bytes(self) -> int:
        return self.region_kb * KIB + self.raft_bytes()

    def raft_bytes(self) -> int:
        return min(self.region_kb * KIB // 50, 4 * GIB) + 64 * MIB

    def available_bytes(self) -> int:
        return max(0, int(self.capacity - self.other_used - self.used_bytes() - self.fill_bytes))


@dataclass(slots=True)
class Step:
    kind: str  # transfer_leader | add_learner | promote | remove_peer | split
    store: int = 0
    to_store: int = 0
    peer_id: int = 0
    policy: str = "APPROXIMATE"


@dataclass(slots=True)
class Operator:
    region_id: int
    desc: str
    brief: str
    kind: int
    steps: list[Step]
    created_ns: int
    epoch: tuple[int, int]
    size_mb: int
    timeout_ns: int
    started_ns: int = 0
    current: int = 0
    status: int = ST_CREATED
    finished_ns: int = 0
    due_ns: int = 0


@dataclass(slots=True)
class Member:
    name: str
    member_id: int
    port: int = 0
    alive: bool = True
    start_s: int = 0
    tso_saves: int = 0


@dataclass(slots=True)
class Fault:
    id: str
    kind: str
    store_id: int | None
    params: dict[str, Any]
    created_ns: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "store_id": self.store_id, "params": self.params}


FAULT_KINDS = (
    "kill_store",
    "pause_store",
    "partition_store",
    "slow_disk",
    "disk_pressure",
    "hot_region",
    "kill_pd_leader",
    "critical_error",
    "write_stall",
)
STORE_FAULTS = {
    "kill_store",
    "pause_store",
    "partition_store",
    "slow_disk",
    "disk_pressure",
    "critical_error",
    "write_stall",
}


def _stable_int(*parts: object) -> int:
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def jitter(*parts: object) -> float:
    """A deterministic factor in [0.85, 1.15) from the given parts (no RNG state consumed)."""
    return 0.85 + (_stable_int(*parts) % 10_000) / 10_000 * 0.3


class Cluster:
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
        self.pd_leader: int | None = 0
        self.pd_elect_at: int | None = None
        self.stores: dict[int, Store] = {}
        self.regions = RegionTable()
        self.total_w = 0.0
        self.hot: list[int] = []
        self.hot_since: dict[int, int] = {}
        self.hot_boost: dict[str, tuple[int, float]] = {}
        self.operators: dict[int, Operator] = {}
        self.finished_ops: dict[int, Operator] = {}
        self.op_events: list[tuple[int, int, int]] = []
        self.op_seq = 0
        self.elect_at: int | None = None
        self.patrol_cursor = 0
        self.check_counts = dict.fromkeys(CHECK_BITS.values(), 0)
        self.faults: dict[str, Fault] = {}
        self.fault_seq = 0
        self.op_counter: dict[tuple[str, str], float] = {}
        self.checker_no_target = 0.0
        self.log_dir = Path(config.log_dir) if config.log_dir else None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self._build()

    # ------------------------------------------------------------------ building
    def alloc_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

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

    def _initial_weights(self, n: int) -> list[float]:
        kind = self.config.workload
        if kind == "uniform":
            return [1.0] * n
        if kind == "hotspot":
            width = max(1, n // 20)
            first = self.rng.randrange(max(1, n - width + 1))
            hot_share = 0.5 / width
            cold_share = 0.5 / max(1, n - width)
            return [(hot_share if first <= i < first + width else cold_share) * n for i in range(n)]
        weights = [1.0 / (r + 1) ** 0.99 for r in range(n)]
        self.rng.shuffle(weights)
        scale = n / sum(weights)
        return [w * scale for w in weights]

    def _top_weights(self, k: int) -> list[int]:
        w = self.regions.weight
        return heapq.nlargest(min(k, len(w)), range(len(w)), key=w.__getitem__)

    # ------------------------------------------------------------------ bookkeeping
    def _add_peer(self, i: int, slot: int, sid: int, pid: int, role: int) -> None:
        rt = self.regions
        pos = i * PEER_SLOTS + slot
        rt.pstore[pos] = sid
        rt.pid[pos] = pid
        rt.prole[pos] = role
        s = self.stores[sid]
        s.region_count += 1
        s.region_kb += rt.size_kb[i]
        s.peer_w += rt.weight[i]
        if role == ROLE_LEARNER:
            s.learner_count += 1

    def _remove_peer(self, i: int, slot: int) -> None:
        rt = self.regions
        pos = i * PEER_SLOTS + slot
        sid = rt.pstore[pos]
        if not sid:
            return
        if rt.leader[i] == slot:
            self._clear_leader(i)
        s = self.stores[sid]
        s.region_count -= 1
        s.region_kb -= rt.size_kb[i]
        s.peer_w -= rt.weight[i]
        if rt.prole[pos] == ROLE_LEARNER:
            s.learner_count -= 1
        rt.pstore[pos] = 0
        rt.pid[pos] = 0
        rt.prole[pos] = 0

    def _set_leader(self, i: int, slot: int) -> None:
        rt = self.regions
        self._clear_leader(i)
        sid = rt.pstore[i * PEER_SLOTS + slot]
        rt.leader[i] = slot
        s = self.stores[sid]
        s.leader_count += 1
        s.leader_kb += rt.size_kb[i]
        s.leader_w += rt.weight[i]

    def _clear_leader(self, i: int) -> None:
        rt = self.regions
        slot = rt.leader[i]
        if slot < 0:
            return
        s = self.stores[rt.pstore[i * PEER_SLOTS + slot]]
        s.leader_count -= 1
        s.leader_kb -= rt.size_kb[i]
        s.leader_w -= rt.weight[i]
        rt.leader[i] = -1

    def _grow(self, i: int, delta_kb: int) -> None:
        rt = self.regions
        if delta_kb <= 0:
            return
        rt.size_kb[i] += delta_kb
        rt.keys[i] += delta_kb * 8
        for sid in rt.peer_stores(i):
            self.stores[sid].region_kb += delta_kb
        lead = rt.leader_store(i)
        if lead:
            self.stores[lead].leader_kb += delta_kb

    def _reweight(self, i: int, new_w: float) -> None:
        rt = self.regions
        delta = new_w - rt.weight[i]
        rt.weight[i] = new_w
        self.total_w += delta
        for sid in rt.peer_stores(i):
            self.stores[sid].peer_w += delta
        lead = rt.leader_store(i)
        if lead:
            self.stores[lead].leader_w += delta

    # ------------------------------------------------------------------ logging
    def log(
        self,
        sid: int,
        level: str,
        source: str,
        message: str,
        fields: list[tuple[str, object]],
        at_ns: int | None = None,
        thread: int | None = None,
    ) -> None:
        store = self.stores.get(sid)
        if store is None or store.log is None or not store.alive:
            return
        ts = max(self.now if at_ns is None else at_ns, store.log.last_ns)
        tid = thread if thread is not None else 100 + sid % 7
        store.log.add(ts, L.format_line(ts, level, source, message, fields, tid))

    # ------------------------------------------------------------------ PD view
    def store_down_ns(self, s: Store) -> int:
        return self.now - s.last_hb_ns if s.last_hb_ns else self.now

    @property
    def max_store_down_ns(self) -> int:
        text = self.schedule["max-store-down-time"]
        if text != self._down_text:
            self._down_text, self._down_ns = text, parse_go_duration(text)
        return self._down_ns

    def state_name(self, s: Store) -> str:
        if s.state == STATE_TOMBSTONE:
            return "Tombstone"
        if s.state == STATE_OFFLINE:
            return "Offline"
        down = self.store_down_ns(s)
        if down > self.max_store_down_ns:
            return "Down"
        if down > DISCONNECT_NS:
            return "Disconnected"
        return "Up"

    def pd_healthy(self, s: Store) -> bool:
        """Fit for new peers and leaders: Up, serving, heard from recently, not slow."""
        return (
            s.state == STATE_UP
            and s.node_state in (NODE_PREPARING, NODE_SERVING)
            and self.store_down_ns(s) <= DISCONNECT_NS
            and s.pd_slow_score < SLOW_STORE_THRESHOLD
            and not self._low_space(s)
        )

    def _low_space(self, s: Store) -> bool:
        ratio = float(self.schedule["low-space-ratio"])
        return s.pd_capacity > 0 and s.pd_available < (1.0 - ratio) * s.pd_capacity

    def region_score(self, s: Store, delta_mb: float = 0.0) -> float:
        """PD's v2 region score (pkg/core/store.go ``regionScoreV2``)."""
        a = s.pd_available / GIB
        c = s.pd_capacity / GIB
        r = max(0.0, s.region_kb / 1024 + delta_mb)
        f = max(50.0, c * (1 - float(self.schedule["low-space-ratio"])))
        if a >= c or c < 1:
            score = r
        elif a > f:
            score = (1 + 256 * (math.log(c) - math.log(a - f + 1)) / (c - a + f - 1)) * r
        else:
            score = (1 + 256 * math.log(c) / c) * r + 1e7 * (f - a) / f
        return score / max(s.region_weight, 1e-6)

    # ------------------------------------------------------------------ time
    def step(self, dt_ns: int) -> None:
        """Advance simulated time by ``dt_ns`` (at most a second is meaningful per call)."""
        self.now += dt_ns
        dt = dt_ns / NS
        self._pd_election()
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
            self.bury_drained()
        self._expire_finished()

    def _pd_election(self) -> None:
        if self.pd_leader is not None and (self.now // NS) % 3 == 0:
            self.members[self.pd_leader].tso_saves += 1
        if self.pd_leader is None and self.pd_elect_at is not None and self.now >= self.pd_elect_at:
            alive = [i for i, m in enumerate(self.members) if m.alive]
            if alive:
                self.pd_leader = alive[self.rng.randrange(len(alive))]
                self.pd_elect_at = None

    def _faults_evolve(self, dt: float) -> None:
        expired = [
            f.id
            for f in self.faults.values()
            if f.kind == "write_stall"
            and f.params["duration_s"] > 0
            and self.now >= f.created_ns + int(f.params["duration_s"] * NS)
        ]
        for fid in expired:
            self.clear_fault(fid)
        for s in self.stores.values():
            if not s.alive or s.paused:
                continue
            target = 100.0 if s.slow_ms >= 100 else 1.0
            if s.slow_score < target:
                s.slow_score = min(target, s.slow_score + 2.0 * dt)
            elif s.slow_score > target:
                s.slow_score = max(target, s.slow_score - 5.0 * dt)
            if s.fill_rate > 0:
                floor = s.fill_floor * s.capacity
                room = s.available_bytes() - floor
                if room > 0:
                    s.fill_bytes += min(room, s.fill_rate * dt)
            self._disk_state(s)

    def _disk_state(self, s: Store) -> None:
        ratio = s.available_bytes() / s.capacity if s.capacity else 1.0
        new = "Normal" if ratio >= 0.1 else ("AlmostFull" if ratio >= 0.02 else "AlreadyFull")
        if new != s.disk_state:
            prev, s.disk_state = s.disk_state, new
            self.log(
                s.id,
                "WARN",
                "server.rs:1539",
                f"disk usage {prev}->{new} (raft engine usage: {s.raft_bytes()}, kv engine usage: {s.region_kb * KIB}), "
                f"seperated raft mount=false, kv available={s.available_bytes()}, snap=0, kv={s.region_kb * KIB}, "
                f"raft={s.raft_bytes()}, capacity={s.capacity}",
                [],
            )

    # ------------------------------------------------------------------ workload
    def _workload(self, dt: float) -> None:
        cfg = self.config
        total_qps = cfg.qps_per_store * cfg.stores
        w = self.total_w or 1.0
        unreachable = [
            s.id for s in self.stores.values() if not s.reachable and s.state != STATE_TOMBSTONE
        ]
        for s in self.stores.values():
            if not s.alive or s.paused:
                continue
            self._store_load(s, total_qps, w, dt, unreachable)
        if total_qps > 0:
            self._grow_regions(total_qps, dt)

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
        base = cpu - (1.8 if stall else 0.0)
        threads = (
            ("grpc_server_0", 0.23),
            ("sched_worker_0", 0.09),
            ("unified_read_po", 0.18),
            (f"raftstore_{s.id}_0", 0.18),
            ("apply_0", 0.14),
            ("store_write_0", 0.1),
            ("rocksdb:high", 0.02 + (0.4 / base if stall else 0.0)),
            ("rocksdb:low", 0.03 + (0.7 / base if stall else 0.0)),
            ("rocksdb:low", 0.03 + (0.7 / base if stall else 0.0)),
        )
        for k, (name, share) in enumerate(threads):
            key = (name, str(4100 + k))
            reg.set(
                "tikv_thread_cpu_seconds_total",
                key,
                reg.get("tikv_thread_cpu_seconds_total", key) + base * share * dt,
            )
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

    def _isolated_campaigns(self, s: Store) -> None:
        """A cut-off store's followers time out and pre-vote in vain (no term bump with pre-vote)."""
        rt = self.regions
        n = len(rt)
        logged = 0
        for _ in range(min(n, 32)):
            i = self.rng.randrange(n)
            slot = rt.slot_of_store(i, s.id)
            if slot < 0 or rt.leader[i] == slot:
                continue
            pid, term = rt.pid[i * PEER_SLOTS + slot], rt.term[i]
            ctx: list[tuple[str, object]] = [("raft_id", pid), ("region_id", rt.ids[i])]
            self.log(
                s.id, "INFO", "raft.rs:1556", "starting a new election", [("term", term), *ctx]
            )
            self.log(
                s.id,
                "INFO",
                "raft.rs:1201",
                f"became pre-candidate at term {term}",
                [("term", term), *ctx],
            )
            s.registry.inc("tikv_raftstore_raft_sent_message_total", ("prevote", "accept"), 2)
            logged += 1
            if logged == 2:
                return

    def _grow_regions(self, total_qps: float, dt: float) -> None:
        rt = self.regions
        n = len(rt)
        grow_bytes = total_qps * (1 - READ_RATIO) * INSERT_RATIO * VALUE_BYTES * dt
        w = self.total_w or 1.0
        hot_w = 0.0
        for i in self.hot:
            if rt.leader[i] >= 0 and self.stores[rt.leader_store(i)].reachable:
                self._grow(i, int(grow_bytes * rt.weight[i] / w / KIB + self.rng.random()))
            hot_w += rt.weight[i]
        samples = min(16, n)
        rest = grow_bytes * max(0.0, 1 - hot_w / w) / samples
        touched = list(self.hot)
        for _ in range(samples):
            i = self.rng.randrange(n)
            if rt.leader[i] >= 0:
                self._grow(i, int(rest / KIB + self.rng.random()))
                touched.append(i)
        if self.pd_leader is not None and self.schedule["enable-tikv-split-region"] == "true":
            for i in touched:
                if rt.size_kb[i] > REGION_MAX_SIZE_MB * 1024 and rt.ids[i] not in self.operators:
                    self._split(i, "size")

    # ------------------------------------------------------------------ heartbeats
    def _heartbeats(self) -> None:
        for s in self.stores.values():
            if self.now < s.next_hb_ns:
                continue
            while s.next_hb_ns <= self.now:
                s.next_hb_ns += STORE_HEARTBEAT_NS
            if not s.alive or s.paused or s.state == STATE_TOMBSTONE:
                continue
            if s.partitioned or self.pd_leader is None:
                s.registry.inc("tikv_pd_reconnect_total", ("failure",))
                if not s.pd_lost_logged:
                    s.pd_lost_logged = True
                    self._log_pd_lost(s)
                continue
            if s.pd_lost_logged:
                s.pd_lost_logged = False
                s.registry.inc("tikv_pd_reconnect_total", ("success",))
                self.log(
                    s.id,
                    "INFO",
                    "util.rs:639",
                    "connecting to PD endpoint",
                    [("endpoints", self._pd_endpoints())],
                    thread=1,
                )
            self._pd_heartbeat(s)

    def _pd_endpoints(self) -> str:
        return ",".join(f"{self.config.host}:{m.port}" for m in self.members)

    def _log_pd_lost(self, s: Store) -> None:
        endpoints = self._pd_endpoints()
        err = 'Grpc(RpcFailure(RpcStatus { code: 14-UNAVAILABLE, message: "failed to connect to all addresses", details: [] }))'
        self.log(
            s.id,
            "INFO",
            "util.rs:601",
            "PD failed to respond",
            [("err", err), ("endpoints", endpoints)],
            thread=1,
        )
        self.log(s.id, "WARN", "client.rs:655", "failed to send heartbeat", [("err", err)])

    def _pd_heartbeat(self, s: Store) -> None:
        s.last_hb_ns = self.now - _stable_int(s.id, self.now) % 900_000_000
        s.pd_seen = True
        s.pd_capacity = s.capacity
        s.pd_available = s.available_bytes()
        s.pd_used = s.used_bytes()
        s.pd_slow_score = max(1, int(s.slow_score))
        s.pd_start_s = s.start_ts_s
        s.registry.inc("tikv_pd_heartbeat_message_total", ("noop",))
        self._store_size_metrics(s)

    # ------------------------------------------------------------------ elections
    def _store_lost(self, s: Store) -> None:
        if s.lost_ns is None:
            s.lost_ns = self.now
        when = self.now + ELECTION_TIMEOUT_NS + (s.id * 131 % 1000) * 1_000_000
        self.elect_at = when if self.elect_at is None else min(self.elect_at, when)

    def _store_back(self, s: Store) -> None:
        s.lost_ns = None
        when = self.now + NS
        self.elect_at = when if self.elect_at is None else min(self.elect_at, when)

    def _elect_all(self) -> None:
        """Regions whose leader is unreachable elect a reachable voter if a quorum is reachable."""
        rt = self.regions
        logged: dict[int, int] = {}
        lost = {sid for sid, s in self.stores.items() if not s.reachable}
        missing = 0
        for i in range(len(rt)):
            lead = rt.leader_store(i)
            if lead and lead not in lost:
                continue
            base = i * PEER_SLOTS
            voters = [
                k
                for k in range(PEER_SLOTS)
                if rt.pstore[base + k] and rt.prole[base + k] == ROLE_VOTER
            ]
            live = [k for k in voters if rt.pstore[base + k] not in lost]
            if not live or len(live) * 2 <= len(voters):
                missing += 1
                continue
            slot = live[self.rng.randrange(len(live))]
            old_term = rt.term[i]
            rt.term[i] = old_term + 1
            self._set_leader(i, slot)
            new_sid = rt.pstore[base + slot]
            if logged.get(new_sid, 0) < 100:
                logged[new_sid] = logged.get(new_sid, 0) + 1
                self._log_election(i, slot, old_term, [k for k in live if k != slot])
        for s in self.stores.values():
            s.registry.set("tikv_raftstore_leader_missing", (), 0)
        if missing:
            for s in self.stores.values():
                if s.reachable:
                    s.registry.set("tikv_raftstore_leader_missing", (), missing)

    def _log_election(self, i: int, slot: int, old_term: int, followers: list[int]) -> None:
        rt = self.regions
        base = i * PEER_SLOTS
        rid = rt.ids[i]
        sid = rt.pstore[base + slot]
        pid = rt.pid[base + slot]
        term = rt.term[i]
        ctx: list[tuple[str, object]] = [("raft_id", pid), ("region_id", rid)]
        t = self.now
        others = [rt.pid[base + k] for k in range(PEER_SLOTS) if rt.pstore[base + k] and k != slot]
        self.log(
            sid, "INFO", "raft.rs:1556", "starting a new election", [("term", old_term), *ctx], t
        )
        self.log(
            sid,
            "INFO",
            "raft.rs:1201",
            f"became pre-candidate at term {old_term}",
            [("term", old_term), *ctx],
            t,
        )
        self.log(
            sid,
            "INFO",
            "raft.rs:1175",
            f"became candidate at term {term}",
            [("term", term), *ctx],
            t + 1_000_000,
        )
        self.log(
            sid,
            "INFO",
            "raft.rs:1321",
            "broadcasting vote request",
            [
                ("to", str(others)),
                ("log_index", 5 + term * 3),
                ("log_term", old_term),
                ("term", term),
                ("type", "MsgRequestVote"),
                *ctx,
            ],
            t + 1_000_000,
        )
        if followers:
            voter = rt.pid[base + followers[0]]
            self.log(
                sid,
                "INFO",
                "raft.rs:2240",
                "received votes response",
                [
                    ("term", term),
                    ("type", "MsgRequestVoteResponse"),
                    ("approvals", 2),
                    ("rejections", 0),
                    ("from", voter),
                    ("vote", True),
                    *ctx,
                ],
                t + 9_000_000,
            )
        self.log(
            sid,
            "INFO",
            "raft.rs:1259",
            f"became leader at term {term}",
            [("term", term), *ctx],
            t + 9_000_000,
        )
        self.log(
            sid,
            "INFO",
            "peer.rs:5357",
            "require updating max ts",
            [("initial_status", (term << 32) | 78), ("peer_id", pid), ("region_id", rid)],
            t + 9_000_000,
        )
        for k in followers:
            fsid, fpid = rt.pstore[base + k], rt.pid[base + k]
            fctx: list[tuple[str, object]] = [("raft_id", fpid), ("region_id", rid)]
            self.log(
                fsid,
                "INFO",
                "raft.rs:1386",
                f"received a message with higher term from {pid}",
                [
                    ("msg type", "MsgRequestPreVote"),
                    ("message_term", term),
                    ("term", old_term),
                    ("from", pid),
                    *fctx,
                ],
                t + 2_000_000,
            )
            self.log(
                fsid,
                "INFO",
                "raft.rs:1151",
                f"became follower at term {term}",
                [("term", term), *fctx],
                t + 2_000_000,
            )

    # ------------------------------------------------------------------ operators
    def op_string(self, op: Operator) -> str:
        kinds = ",".join(name for bit, name in KIND_NAMES if op.kind & bit)
        steps = ", ".join(f"{k}:{{{self._step_text(s)}}}" for k, s in enumerate(op.steps))
        created = self._go_time(op.created_ns)
        started = self._go_time(op.started_ns) if op.started_ns else "0001-01-01 00:00:00 +0000 UTC"
        text = (
            f"{op.desc} {{{op.brief}}} (kind:{kinds}, region:{op.region_id}({op.epoch[1]}, {op.epoch[0]}), "
            f"createAt:{created}, startAt:{started}, currentStep:{op.current}, size:{op.size_mb}, "
            f"steps:[{steps}], timeout:[{go_duration(op.timeout_ns)}])"
        )
        if op.status == ST_SUCCESS:
            text += " finished"
        elif op.status == ST_TIMEOUT:
            text += " timeout"
        return text

    def _go_time(self, ns: int) -> str:
        return go_time_string(ns, ns - self.mono0)

    @staticmethod
    def _step_text(s: Step) -> str:
        if s.kind == "transfer_leader":
            return f"transfer leader from store {s.store} to store {s.to_store}"
        if s.kind == "add_learner":
            return f"add learner peer {s.peer_id} on store {s.store}"
        if s.kind == "promote":
            return f"promote learner peer {s.peer_id} on store {s.store} to voter"
        if s.kind == "remove_peer":
            return f"remove peer on store {s.store}"
        return f"split region with policy {s.policy}"

    def op_object(self, op: Operator) -> dict[str, Any]:
        return {
            "desc": op.desc,
            "brief": op.brief,
            "region_id": op.region_id,
            "region_epoch": {"conf_ver": op.epoch[0], "version": op.epoch[1]},
            "kind": op.kind,
            "timeout": go_duration(op.timeout_ns),
            "status": op.status,
        }

    def _count_op(self, desc: str, event: str) -> None:
        key = (desc, event)
        self.op_counter[key] = self.op_counter.get(key, 0.0) + 1

    def add_operator(self, i: int, desc: str, brief: str, kind: int, steps: list[Step]) -> Operator:
        rt = self.regions
        rid = rt.ids[i]
        if rid in self.operators:
            self._count_op(desc, "already-have")
            raise SimError(
                500, "[PD:operator:ErrAddOperator]failed to add operator, maybe already have one"
            )
        size_mb = max(1, rt.size_kb[i] // 1024)
        timeout = 0
        for s in steps:
            if s.kind in ("add_learner",):
                timeout += max(600 * NS, int(6 * size_mb * NS))
            else:
                timeout += max(60 * NS, int(0.6 * size_mb * NS))
        op = Operator(
            rid,
            desc,
            brief,
            kind,
            steps,
            self.now,
            (rt.conf_ver[i], rt.version[i]),
            size_mb,
            timeout,
        )
        self.operators[rid] = op
        self._count_op(desc, "create")
        op.started_ns = self.now
        op.status = ST_STARTED
        self._count_op(desc, "start")
        self._schedule_step(op)
        return op

    def _schedule_step(self, op: Operator) -> None:
        s = op.steps[op.current]
        i = self.regions.by_id[op.region_id]
        if s.kind == "add_learner":
            secs = 1.0 + (self.regions.size_kb[i] / 1024) / 50.0
            dur = int(secs * NS)
        else:
            dur = NS
        op.due_ns = self.now + dur
        self.op_seq += 1
        heapq.heappush(self.op_events, (op.due_ns, self.op_seq, op.region_id))
        if s.kind == "add_learner":
            self._begin_snapshot(i, s)

    def _run_operators(self) -> None:
        while self.op_events and self.op_events[0][0] <= self.now:
            _, _, rid = heapq.heappop(self.op_events)
            op = self.operators.get(rid)
            if op is None:
                continue
            if op.due_ns > self.now:
                continue
            if self.now - op.started_ns > op.timeout_ns:
                self._finish(op, ST_TIMEOUT)
                continue
            if self._apply_step(op):
                op.current += 1
                if op.current >= len(op.steps):
                    self._finish(op, ST_SUCCESS)
                else:
                    self._schedule_step(op)
            else:
                op.due_ns = self.now + NS
                self.op_seq += 1
                heapq.heappush(self.op_events, (op.due_ns, self.op_seq, rid))

    def _finish(self, op: Operator, status: int) -> None:
        op.status = status
        op.finished_ns = self.now
        self.operators.pop(op.region_id, None)
        self.finished_ops[op.region_id] = op
        self._count_op(op.desc, "finish" if status == ST_SUCCESS else "timeout")
        i = self.regions.by_id.get(op.region_id)
        for s in op.steps:
            if s.kind == "add_learner" and i is not None:
                self.stores[s.store].receiving_snaps = max(
                    0, self.stores[s.store].receiving_snaps - 1
                )

    def cancel_operator(self, region_id: int) -> None:
        op = self.operators.get(region_id)
        if op is None:
            raise SimError(500, "[PD:operator:ErrOperatorNotFound]operator not found")
        self._finish(op, ST_CANCELED)

    def _expire_finished(self) -> None:
        if not self.finished_ops:
            return
        cutoff = self.now - 600 * NS
        for rid in [r for r, op in self.finished_ops.items() if op.finished_ns < cutoff]:
            del self.finished_ops[rid]

    def _apply_step(self, op: Operator) -> bool:
        rt = self.regions
        i = rt.by_id[op.region_id]
        s = op.steps[op.current]
        base = i * PEER_SLOTS
        if s.kind == "transfer_leader":
            slot = rt.slot_of_store(i, s.to_store)
            target = self.stores.get(s.to_store)
            if slot < 0 or target is None or not target.reachable:
                return False
            if rt.leader[i] >= 0 and not self.stores[rt.leader_store(i)].reachable:
                return False
            if rt.leader_store(i) != s.to_store:
                old_pid = rt.pid[base + rt.leader[i]] if rt.leader[i] >= 0 else 0
                old_sid = rt.leader_store(i)
                old_term = rt.term[i]
                rt.term[i] = old_term + 1
                self._set_leader(i, slot)
                self._log_transfer(i, slot, old_sid, old_pid, old_term)
            return True
        if s.kind == "add_learner":
            target = self.stores.get(s.store)
            lead = rt.leader_store(i)
            if (
                target is None
                or not target.reachable
                or not lead
                or not self.stores[lead].reachable
            ):
                return False
            if rt.slot_of_store(i, s.store) >= 0:
                return True
            slot = rt.free_slot(i)
            if slot < 0:
                return False
            self._add_peer(i, slot, s.store, s.peer_id, ROLE_LEARNER)
            rt.conf_ver[i] += 1
            self._end_snapshot(i, s)
            return True
        if s.kind == "promote":
            slot = rt.slot_of_store(i, s.store)
            if slot < 0:
                return False
            pos = base + slot
            if rt.prole[pos] == ROLE_LEARNER:
                rt.prole[pos] = ROLE_VOTER
                self.stores[s.store].learner_count -= 1
                rt.conf_ver[i] += 1
            return True
        if s.kind == "remove_peer":
            slot = rt.slot_of_store(i, s.store)
            if slot < 0:
                return True
            if rt.leader[i] == slot and not self._step_down(i, slot):
                return False
            lead = rt.leader_store(i)
            if not lead or not self.stores[lead].reachable:
                return False
            self._remove_peer(i, slot)
            rt.conf_ver[i] += 1
            self.log(
                lead,
                "INFO",
                "peer.rs:4801",
                "propose conf change peer",
                [
                    ("kind", "Simple"),
                    (
                        "changes",
                        f"[change_type: RemoveNode peer {{ id: {rt.pid[base + slot] or 0} store_id: {s.store} }}]",
                    ),
                    ("peer_id", rt.pid[base + rt.leader[i]]),
                    ("region_id", rt.ids[i]),
                ],
            )
            return True
        if s.kind == "split":
            lead = rt.leader_store(i)
            if not lead or not self.stores[lead].reachable:
                return False
            self._split(i, "admin")
            return True
        return False

    def _step_down(self, i: int, slot: int) -> bool:
        """Move leadership off ``slot`` to a reachable voter before that peer is removed."""
        rt = self.regions
        base = i * PEER_SLOTS
        for k in range(PEER_SLOTS):
            sid = rt.pstore[base + k]
            if (
                k != slot
                and sid
                and rt.prole[base + k] == ROLE_VOTER
                and self.stores[sid].reachable
            ):
                old_sid, old_pid, old_term = rt.pstore[base + slot], rt.pid[base + slot], rt.term[i]
                rt.term[i] = old_term + 1
                self._set_leader(i, k)
                self._log_transfer(i, k, old_sid, old_pid, old_term)
                return True
        return False

    def _log_transfer(self, i: int, slot: int, old_sid: int, old_pid: int, old_term: int) -> None:
        rt = self.regions
        base = i * PEER_SLOTS
        rid, sid, pid, term = rt.ids[i], rt.pstore[base + slot], rt.pid[base + slot], rt.term[i]
        ctx: list[tuple[str, object]] = [("raft_id", pid), ("region_id", rid)]
        self.log(
            sid,
            "INFO",
            "raft.rs:2300",
            f"[term {old_term}] received MsgTimeoutNow from {old_pid} and starts an election to get leadership.",
            [("from", old_pid), ("term", old_term), *ctx],
        )
        self.log(sid, "INFO", "raft.rs:1556", "starting a new election", [("term", old_term), *ctx])
        self.log(
            sid,
            "INFO",
            "raft.rs:1259",
            f"became leader at term {term}",
            [("term", term), *ctx],
            self.now + 3_000_000,
        )
        if old_sid:
            self.log(
                old_sid,
                "INFO",
                "raft.rs:1151",
                f"became follower at term {term}",
                [("term", term), ("raft_id", old_pid), ("region_id", rid)],
                self.now + 3_000_000,
            )

    def _begin_snapshot(self, i: int, s: Step) -> None:
        rt = self.regions
        lead = rt.leader_store(i)
        if not lead:
            return
        base = i * PEER_SLOTS
        lpid = rt.pid[base + rt.leader[i]]
        rid = rt.ids[i]
        self.stores[lead].sending_snaps += 1
        if s.store in self.stores:
            self.stores[s.store].receiving_snaps += 1
        self.log(
            lead,
            "INFO",
            "pd.rs:1648",
            "try to change peer",
            [
                (
                    "changes",
                    f"[peer {{ id: {s.peer_id} store_id: {s.store} role: Learner }} change_type: AddLearnerNode]",
                ),
                ("region_id", rid),
            ],
            thread=33,
        )
        self.log(
            lead,
            "INFO",
            "peer.rs:4801",
            "propose conf change peer",
            [
                ("kind", "Simple"),
                (
                    "changes",
                    f"[change_type: AddLearnerNode peer {{ id: {s.peer_id} store_id: {s.store} role: Learner }}]",
                ),
                ("peer_id", lpid),
                ("region_id", rid),
            ],
        )
        self.log(
            lead,
            "INFO",
            "peer_storage.rs:549",
            "requesting snapshot",
            [
                ("request_peer", s.peer_id),
                ("request_index", 0),
                ("peer_id", lpid),
                ("region_id", rid),
            ],
        )

    def _end_snapshot(self, i: int, s: Step) -> None:
        rt = self.regions
        lead = rt.leader_store(i)
        base = i * PEER_SLOTS
        rid = rt.ids[i]
        size = rt.size_kb[i] * KIB
        term = rt.term[i]
        snap_key = f"{rid}_{term}_{rt.conf_ver[i] + 10}"
        secs = 1.0 + (rt.size_kb[i] / 1024) / 50.0
        t0 = self.now - int(secs * NS)
        lpid = rt.pid[base + rt.leader[i]] if rt.leader[i] >= 0 else 0
        if lead:
            ls = self.stores[lead]
            ls.sending_snaps = max(0, ls.sending_snaps - 1)
            scan_ms = secs * 0.6 * 1000
            self.log(
                lead,
                "INFO",
                "snap.rs:1090",
                "scan snapshot",
                [
                    ("takes", f"{scan_ms:.6f}ms"),
                    ("size", size),
                    ("key_count", rt.keys[i]),
                    ("snapshot", f"/var/lib/tikv/snap/gen_{snap_key}_(default|lock|write).sst"),
                    ("region_id", rid),
                ],
                t0 + int(secs * 0.6 * NS),
            )
            self.log(
                lead,
                "INFO",
                "snap.rs:584",
                "sent snapshot",
                [
                    ("duration", f"{secs * 0.4 * 1000:.6f}ms"),
                    ("size", size),
                    ("snap_key", snap_key),
                    ("region_id", rid),
                ],
            )
            self.log(
                lead,
                "INFO",
                "peer.rs:2024",
                "report snapshot status",
                [
                    ("status", "Finish"),
                    ("to", f"id: {s.peer_id} store_id: {s.store} role: Learner"),
                    ("peer_id", lpid),
                    ("region_id", rid),
                ],
            )
            ls.registry.inc("tikv_raftstore_snapshot_total", ("generate", "all"))
            ls.registry.inc("tikv_raftstore_snapshot_total", ("generate", "success"))
            ls.registry.inc("tikv_raftstore_raft_sent_message_total", ("snapshot", "accept"))
        target = self.stores[s.store]
        target.receiving_snaps = max(0, target.receiving_snaps - 1)
        self.log(
            s.store,
            "INFO",
            "raft.rs:1151",
            "became follower at term 0",
            [("term", 0), ("raft_id", s.peer_id), ("region_id", rid)],
            t0,
        )
        self.log(
            s.store,
            "INFO",
            "snap.rs:342",
            "saving snapshot file",
            [
                ("file", f"/var/lib/tikv/snap/rev_{snap_key}_(default|lock|write).sst"),
                ("snap_key", snap_key),
            ],
        )
        self.log(
            s.store,
            "INFO",
            "snap.rs:350",
            "saving all snapshot files",
            [("takes", f"{secs * 0.3 * 1000:.6f}ms"), ("snap_key", snap_key)],
        )
        self.log(
            s.store,
            "INFO",
            "peer_storage.rs:607",
            "begin to apply snapshot",
            [("peer_id", s.peer_id), ("region_id", rid)],
        )
        self.log(
            s.store,
            "INFO",
            "region.rs:455",
            "begin apply snap data",
            [("peer_id", s.peer_id), ("region_id", rid)],
        )
        self.log(
            s.store,
            "INFO",
            "region.rs:367",
            "apply new data",
            [("time_takes", f"{secs * 0.2 * 1000:.6f}ms"), ("region_id", rid)],
            self.now + 5_000_000,
        )
        target.registry.inc("tikv_raftstore_snapshot_total", ("apply", "all"))
        target.registry.inc("tikv_raftstore_snapshot_total", ("apply", "success"))
        target.registry.inc("tikv_raftstore_admin_cmd_total", ("add_learner", "all"))
        target.registry.inc("tikv_raftstore_admin_cmd_total", ("add_learner", "success"))

    # ------------------------------------------------------------------ split
    def _split(self, i: int, why: str) -> int:
        rt = self.regions
        start, end = rt.start[i], rt.end[i]
        if end - start < 2:
            return -1
        mid = start + (end - start) // 2
        old_rid = rt.ids[i]
        lead = rt.leader_store(i)
        half_kb = rt.size_kb[i] // 2
        half_keys = rt.keys[i] // 2
        half_w = rt.weight[i] / 2
        base = i * PEER_SLOTS
        peers = [
            (k, rt.pstore[base + k], rt.prole[base + k])
            for k in range(PEER_SLOTS)
            if rt.pstore[base + k]
        ]
        # The left part keeps nothing of the old size it hands over.
        for _, sid, _ in peers:
            self.stores[sid].region_kb -= rt.size_kb[i] - half_kb
        if lead:
            self.stores[lead].leader_kb -= rt.size_kb[i] - half_kb
        rt.size_kb[i] = half_kb
        rt.keys[i] = half_keys
        self._reweight(i, half_w)
        rt.version[i] += 1
        new_rid = self.alloc_id()
        new_pids = [self.alloc_id() for _ in peers]
        # The new region takes the left half (TiKV keeps the old id on the right by default).
        rt.start[i] = mid
        j = rt.append(
            new_rid, start, mid, rt.conf_ver[i], rt.version[i], half_kb, half_keys, 0.0, 6
        )
        self._fix_key_order(i, start, mid)
        for (k, sid, role), pid in zip(peers, new_pids, strict=True):
            self._add_peer(j, k, sid, pid, role)
        self._reweight(j, half_w)
        if rt.leader[i] >= 0:
            self._set_leader(j, rt.leader[i])
        if i in self.hot:
            self.hot.append(j)
            self.hot_since[j] = self.hot_since.get(i, self.now)
            self.hot = sorted(self.hot, key=lambda x: -rt.weight[x])[:HOT_CANDIDATES]
        self._count_op("admin-split-region" if why == "admin" else "split-region", "finish")
        if lead:
            lpid = rt.pid[base + rt.leader[i]]
            region_text = (
                f"id: {old_rid} start_key: {key_hex(start)} end_key: {key_hex(end)} region_epoch "
                f"{{ conf_ver: {rt.conf_ver[i]} version: {rt.version[i] - 1} }}"
            )
            self.log(
                lead,
                "INFO",
                "peer.rs:6479",
                "on split",
                [
                    ("split_keys", f"key {key_hex(mid)}"),
                    ("source", "split_checker"),
                    ("peer_id", lpid),
                    ("region_id", old_rid),
                ],
            )
            self.log(
                lead,
                "INFO",
                "pd.rs:1394",
                "try to batch split region",
                [
                    ("task", "batch_split"),
                    ("region", region_text),
                    ("new_region_ids", f"[new_region_id: {new_rid} new_peer_ids: {new_pids}]"),
                    ("region_id", old_rid),
                ],
            )
            self.log(
                lead,
                "INFO",
                "apply.rs:2415",
                "split region",
                [
                    ("keys", f"key {key_hex(mid)}"),
                    ("region", region_text),
                    ("peer_id", lpid),
                    ("region_id", old_rid),
                ],
            )
            self.log(
                lead,
                "INFO",
                "peer.rs:3870",
                "notify pd with split",
                [("split_count", 2), ("peer_id", lpid), ("region_id", old_rid)],
            )
            for (_, sid, _), pid in zip(peers, new_pids, strict=True):
                self.log(
                    sid,
                    "INFO",
                    "peer.rs:262",
                    "create peer",
                    [("peer_id", pid), ("region_id", new_rid)],
                )
                self.stores[sid].registry.inc(
                    "tikv_raftstore_admin_cmd_total", ("batch-split", "all")
                )
                self.stores[sid].registry.inc(
                    "tikv_raftstore_admin_cmd_total", ("batch-split", "success")
                )
            new_lead_pid = rt.pid[j * PEER_SLOTS + rt.leader[j]]
            self.log(
                lead,
                "INFO",
                "raft.rs:1259",
                "became leader at term 6",
                [("term", 6), ("raft_id", new_lead_pid), ("region_id", new_rid)],
                self.now + 1_000_000,
            )
        return j

    def _fix_key_order(self, i: int, old_start: int, new_start: int) -> None:
        """After a split the old region starts at ``new_start``; ``append`` put the new one at ``old_start``."""
        rt = self.regions
        pos = bisect.bisect_left(rt.kstart, old_start)
        # Two entries now start at old_start: the old region's (stale) and the new one's.
        for k in (pos, pos + 1):
            if k < len(rt.korder) and rt.korder[k] == i:
                del rt.kstart[k]
                del rt.korder[k]
                break
        at = bisect.bisect_left(rt.kstart, new_start)
        rt.kstart.insert(at, new_start)
        rt.korder.insert(at, i)

    # ------------------------------------------------------------------ PD scheduling
    def _refill_tokens(self, dt: float) -> None:
        for s in self.stores.values():
            s.tokens_add = min(s.limit_add, s.tokens_add + s.limit_add / 60.0 * dt)

    def _running(self, bit: int) -> int:
        return sum(1 for op in self.operators.values() if op.kind & bit and not op.kind & OP_ADMIN)

    def _patrol(self, dt: float) -> None:
        rt = self.regions
        n = len(rt)
        if n == 0:
            return
        batch = n if n <= 20000 else max(2000, int(n * dt / 60) + 1)
        max_down = self.max_store_down_ns
        peer_down = min(MAX_PEER_DOWN_NS, max_down)
        info: dict[int, tuple[bool, bool, bool, bool]] = {}
        for sid, s in self.stores.items():
            down_for = self.store_down_ns(s)
            info[sid] = (
                (not s.reachable) and s.lost_ns is not None and self.now - s.lost_ns >= peer_down,
                (not s.reachable)
                and s.lost_ns is not None
                and self.now - s.lost_ns > DISCONNECT_NS,
                s.node_state not in (NODE_PREPARING, NODE_SERVING),
                down_for >= max_down and s.state == STATE_UP,
            )
        max_replicas = int(self.replication["max-replicas"])
        replica_budget = int(self.schedule["replica-schedule-limit"]) - self._running(OP_REPLICA)
        targets = self._target_stores()
        counts = self.check_counts
        undersize_mb = int(self.schedule["max-merge-region-size"])
        undersize_keys = int(self.schedule["max-merge-region-keys"])
        busy = self.operators
        for _ in range(min(batch, n)):
            i = self.patrol_cursor
            self.patrol_cursor = (i + 1) % n
            base = i * PEER_SLOTS
            flags = 0
            voters = 0
            need_fix = 0
            fix_slot = -1
            for k in range(PEER_SLOTS):
                sid = rt.pstore[base + k]
                if not sid:
                    continue
                down, pending, offline, store_down = info[sid]
                role = rt.prole[base + k]
                if role == ROLE_VOTER:
                    voters += 1
                else:
                    flags |= LEARNER_PEER | PENDING_PEER
                if down:
                    flags |= DOWN_PEER
                    if store_down and role == ROLE_VOTER:
                        need_fix, fix_slot = 1, k
                if pending:
                    flags |= PENDING_PEER
                if offline:
                    flags |= OFFLINE_PEER
                    if not need_fix and role == ROLE_VOTER:
                        need_fix, fix_slot = 2, k
            if voters < max_replicas:
                flags |= MISS_PEER
            elif voters > max_replicas:
                flags |= EXTRA_PEER
            size_mb = rt.size_kb[i] // 1024
            if size_mb <= 1:
                flags |= EMPTY_REGION
            if size_mb > REGION_MAX_SIZE_MB:
                flags |= OVERSIZED
            elif size_mb < undersize_mb and rt.keys[i] < undersize_keys:
                flags |= UNDERSIZED
            old = rt.flags[i]
            if old != flags:
                changed = old ^ flags
                for bit in counts:
                    if changed & bit:
                        counts[bit] += 1 if flags & bit else -1
                rt.flags[i] = flags
            if need_fix and replica_budget > 0 and rt.ids[i] not in busy:
                if self._replace_peer(
                    i,
                    fix_slot,
                    targets,
                    "replace-rule-down-peer" if need_fix == 1 else "replace-rule-offline-peer",
                ):
                    replica_budget -= 1
            elif flags & MISS_PEER and replica_budget > 0 and rt.ids[i] not in busy and voters > 0:
                if self._make_up(i, targets):
                    replica_budget -= 1

    def _target_stores(self) -> list[Store]:
        good = [s for s in self.stores.values() if self.pd_healthy(s)]
        good.sort(key=lambda s: (self.region_score(s), s.id))
        return good

    def _pick_target(self, i: int, targets: list[Store]) -> Store | None:
        have = set(self.regions.peer_stores(i))
        for s in targets:
            if s.id not in have and s.tokens_add >= 1:
                return s
        if any(s.id not in have for s in targets):
            return None
        self.checker_no_target += 1
        return None

    def _replace_peer(self, i: int, slot: int, targets: list[Store], desc: str) -> bool:
        rt = self.regions
        old_sid = rt.pstore[i * PEER_SLOTS + slot]
        target = self._pick_target(i, targets)
        if target is None:
            return False
        target.tokens_add -= 1
        pid = self.alloc_id()
        steps = [
            Step("add_learner", store=target.id, peer_id=pid),
            Step("promote", store=target.id, peer_id=pid),
        ]
        if rt.leader_store(i) == old_sid:
            steps.append(Step("transfer_leader", store=old_sid, to_store=target.id))
        steps.append(Step("remove_peer", store=old_sid))
        brief = f"mv peer: store [{old_sid}] to [{target.id}]"
        self.add_operator(i, desc, brief, OP_REPLICA | OP_REGION, steps)
        self._refresh_target(targets, target)
        return True

    def _make_up(self, i: int, targets: list[Store]) -> bool:
        target = self._pick_target(i, targets)
        if target is None:
            return False
        target.tokens_add -= 1
        pid = self.alloc_id()
        steps = [
            Step("add_learner", store=target.id, peer_id=pid),
            Step("promote", store=target.id, peer_id=pid),
        ]
        self.add_operator(
            i, "replica-make-up", f"add peer: store [{target.id}]", OP_REPLICA | OP_REGION, steps
        )
        self._refresh_target(targets, target)
        return True

    def _refresh_target(self, targets: list[Store], used: Store) -> None:
        if used.tokens_add < 1 and used in targets:
            targets.remove(used)
            targets.append(used)

    def _balance(self) -> None:
        """balance-leader, evict-slow-store and balance-region: sampled so they stay O(samples)."""
        rt = self.regions
        n = len(rt)
        if n == 0:
            return
        healthy = [s for s in self.stores.values() if self.pd_healthy(s)]
        if len(healthy) < 2:
            return
        leader_budget = int(self.schedule["leader-schedule-limit"]) - self._running(OP_LEADER)
        evict = {
            s.id
            for s in self.stores.values()
            if s.pd_slow_score >= EVICT_SLOW_SCORE and s.reachable
        }
        avg_leaders = sum(s.leader_count for s in healthy) / len(healthy)
        tolerance = max(1.0, avg_leaders * 0.05)
        healthy_ids = {s.id for s in healthy}
        balancing = any(op.desc == "balance-leader" for op in self.operators.values())
        tries = min(n, 64)
        for _ in range(tries):
            if leader_budget <= 0 or (balancing and not evict):
                break
            i = self.rng.randrange(n)
            if rt.ids[i] in self.operators or rt.leader[i] < 0:
                continue
            src = self.stores[rt.leader_store(i)]
            if not src.reachable:
                continue
            evicting = src.id in evict
            if not evicting and (balancing or src.leader_count <= avg_leaders + tolerance / 2):
                continue
            best: Store | None = None
            base = i * PEER_SLOTS
            for k in range(PEER_SLOTS):
                sid = rt.pstore[base + k]
                if (
                    not sid
                    or sid == src.id
                    or rt.prole[base + k] != ROLE_VOTER
                    or sid not in healthy_ids
                ):
                    continue
                cand = self.stores[sid]
                if best is None or cand.leader_count < best.leader_count:
                    best = cand
            if best is None:
                continue
            if not evicting and src.leader_count - best.leader_count <= tolerance:
                continue
            desc = "evict-slow-store" if evicting else "balance-leader"
            self.add_operator(
                i,
                desc,
                f"transfer leader: store {src.id} to {best.id}",
                OP_LEADER,
                [Step("transfer_leader", store=src.id, to_store=best.id)],
            )
            leader_budget -= 1
            balancing = balancing or not evicting
        self._balance_region(healthy)

    def _balance_region(self, healthy: list[Store]) -> None:
        rt = self.regions
        n = len(rt)
        if self._running(OP_REGION) - self._running(OP_REPLICA) >= min(
            4, int(self.schedule["region-schedule-limit"])
        ):
            return
        low = min(healthy, key=lambda s: (self.region_score(s), s.id))
        high = max(healthy, key=lambda s: (self.region_score(s), -s.id))
        if (
            high.region_count - low.region_count <= max(2, 0.05 * high.region_count)
            or low.tokens_add < 1
        ):
            return
        for _ in range(min(n, 32)):
            i = self.rng.randrange(n)
            if rt.ids[i] in self.operators:
                continue
            have = rt.peer_stores(i)
            if high.id not in have or low.id in have or rt.free_slot(i) < 0:
                continue
            low.tokens_add -= 1
            pid = self.alloc_id()
            steps = [
                Step("add_learner", store=low.id, peer_id=pid),
                Step("promote", store=low.id, peer_id=pid),
            ]
            if rt.leader_store(i) == high.id:
                steps.append(Step("transfer_leader", store=high.id, to_store=low.id))
            steps.append(Step("remove_peer", store=high.id))
            self.add_operator(
                i, "balance-region", f"mv peer: store [{high.id}] to [{low.id}]", OP_REGION, steps
            )
            return

    # ------------------------------------------------------------------ control
    def kill_store(self, sid: int) -> None:
        s = self.store_or_404(sid)
        if not s.alive:
            return
        s.alive = False
        s.paused = False
        self._store_lost(s)

    def start_store(self, sid: int) -> None:
        s = self.store_or_404(sid)
        if s.alive:
            return
        s.alive = True
        s.start_ts_s = self.now // NS
        s.registry = Registry(TIKV_FAMILIES)
        s.cpu_s = 0.0
        s.slow_score = 1.0 if s.slow_ms < 100 else s.slow_score
        s.next_hb_ns = self.now + NS
        s.pd_lost_logged = False
        self.log(s.id, "INFO", "lib.rs:75", "Welcome to TiKV", [], thread=1)
        self.log(
            s.id,
            "INFO",
            "util.rs:639",
            "connecting to PD endpoint",
            [("endpoints", self._pd_endpoints())],
            thread=1,
        )
        if s.reachable:
            self._store_back(s)
        self.log(s.id, "INFO", "store.rs:2456", "start store", [("store_id", s.id)], thread=1)

    def set_paused(self, sid: int, paused: bool) -> None:
        s = self.store_or_404(sid)
        if s.paused == paused:
            return
        was = s.reachable
        s.paused = paused
        self._reachability_changed(s, was)

    def set_partitioned(self, sid: int, partitioned: bool) -> None:
        s = self.store_or_404(sid)
        if s.partitioned == partitioned:
            return
        was = s.reachable
        s.partitioned = partitioned
        self._reachability_changed(s, was)

    def _reachability_changed(self, s: Store, was: bool) -> None:
        if was and not s.reachable:
            self._store_lost(s)
        elif not was and s.reachable:
            self._store_back(s)

    def store_or_404(self, sid: int) -> Store:
        s = self.stores.get(sid)
        if s is None:
            raise SimError(404, f"[PD:core:ErrStoreNotFound]store {sid} not found")
        return s

    def kill_pd_leader(self) -> int | None:
        if self.pd_leader is None:
            return None
        old = self.pd_leader
        self.members[old].alive = False
        self.pd_leader = None
        self.pd_elect_at = self.now + PD_ELECTION_NS
        return old

    def start_pd_member(self, idx: int) -> None:
        m = self.members[idx]
        if m.alive:
            return
        m.alive = True
        m.start_s = self.now // NS
        if self.pd_leader is None and self.pd_elect_at is None:
            self.pd_elect_at = self.now + PD_ELECTION_NS

    def add_fault(self, kind: str, store_id: int | None, params: dict[str, Any]) -> Fault:
        if kind not in FAULT_KINDS:
            raise SimError(400, f"unknown fault kind {kind!r} (known: {', '.join(FAULT_KINDS)})")
        if kind in STORE_FAULTS:
            if store_id is None:
                raise SimError(400, f"fault {kind} needs a store_id")
            self.store_or_404(store_id)
        params = dict(params)
        if kind == "kill_store":
            self.kill_store(store_id)  # type: ignore[arg-type]
        elif kind == "pause_store":
            self.set_paused(store_id, True)  # type: ignore[arg-type]
        elif kind == "partition_store":
            self.set_partitioned(store_id, True)  # type: ignore[arg-type]
        elif kind == "slow_disk":
            latency = float(params.setdefault("latency_ms", 1500.0))
            if latency <= 0:
                raise SimError(400, "latency_ms must be positive")
            self.stores[store_id].slow_ms = latency  # type: ignore[index]
        elif kind == "disk_pressure":
            s = self.stores[store_id]  # type: ignore[index]
            ratio = float(params.setdefault("target_available_ratio", 0.05))
            rate = float(params.setdefault("rate_bytes_per_s", round(s.capacity * 0.01)))
            if not 0 <= ratio < 1 or rate <= 0:
                raise SimError(
                    400, "target_available_ratio must be in [0, 1) and rate_bytes_per_s positive"
                )
            s.fill_floor = ratio
            s.fill_rate = rate
        elif kind == "hot_region":
            self._hot_fault(params)
        elif kind == "write_stall":
            self._stall_fault(self.stores[store_id], params)  # type: ignore[index]
        elif kind == "critical_error":
            typ = str(params.setdefault("type", "sst_corruption"))
            rate = float(params.setdefault("rate_per_s", 1.0))
            if rate <= 0:
                raise SimError(400, "rate_per_s must be positive")
            self.stores[store_id].critical[typ] = rate  # type: ignore[index]
        elif kind == "kill_pd_leader":
            old = self.kill_pd_leader()
            if old is None:
                raise SimError(503, "[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader")
            params["member"] = self.members[old].name
        self.fault_seq += 1
        fault = Fault(f"f{self.fault_seq}", kind, store_id, params, self.now)
        self.faults[fault.id] = fault
        return fault

    def _stall_fault(self, s: Store, params: dict[str, Any]) -> None:
        cause = params.setdefault("cause", "level0")
        if cause not in CAUSES:
            raise SimError(400, f"cause must be one of {', '.join(CAUSES)}")
        try:
            stall_ms = float(params.setdefault("stall_ms", 1200.0))
            duration = float(params.setdefault("duration_s", 0.0))
        except (TypeError, ValueError) as exc:
            raise SimError(400, "stall_ms and duration_s must be numbers") from exc
        if not 0 < stall_ms <= 60_000 or not 0 <= duration <= 86_400:
            raise SimError(400, "stall_ms must be in (0, 60000] and duration_s in [0, 86400]")
        if s.stall is not None:
            raise SimError(409, f"store {s.id} already has a write stall")
        params["stall_ms"], params["duration_s"] = stall_ms, duration
        s.stall = WriteStall(str(cause), stall_ms, self.now)
        if s.alive and not s.paused:
            self._log_stall(s)

    def _hot_fault(self, params: dict[str, Any]) -> None:
        rt = self.regions
        rid = params.get("region_id")
        if rid is None:
            key = params.get("key")
            if key is not None:
                pos = decode_hex(str(key))
                if pos is None:
                    raise SimError(400, f"bad key {key!r}")
                i = rt.locate(pos)
            else:
                i = rt.korder[len(rt) // 2]
            rid = rt.ids[i]
            params["region_id"] = rid
        i = rt.by_id.get(int(rid), -1)
        if i < 0:
            raise SimError(404, f"[PD:region:ErrRegionNotFound]region {rid} not found")
        share = float(params.setdefault("share", 0.5))
        if not 0 < share < 1:
            raise SimError(400, "share must be in (0, 1)")
        boost = self.total_w * share / (1 - share)
        self._reweight(i, rt.weight[i] + boost)
        self.hot_boost[f"f{self.fault_seq + 1}"] = (i, boost)
        if i not in self.hot:
            self.hot.insert(0, i)
            self.hot = self.hot[:HOT_CANDIDATES]
        self.hot_since.setdefault(i, self.now - 2 * REGION_HEARTBEAT_NS)

    def clear_fault(self, fid: str) -> Fault:
        fault = self.faults.pop(fid, None)
        if fault is None:
            raise SimError(404, f"fault {fid} not found")
        sid = fault.store_id
        if fault.kind == "kill_store" and not any(
            f.kind == "kill_store" and f.store_id == sid for f in self.faults.values()
        ):
            self.start_store(sid)  # type: ignore[arg-type]
        elif fault.kind == "pause_store":
            self.set_paused(sid, False)  # type: ignore[arg-type]
        elif fault.kind == "partition_store":
            self.set_partitioned(sid, False)  # type: ignore[arg-type]
        elif fault.kind == "slow_disk":
            self.stores[sid].slow_ms = 0.0  # type: ignore[index]
        elif fault.kind == "disk_pressure":
            s = self.stores[sid]  # type: ignore[index]
            s.fill_rate = 0.0
            s.fill_bytes = 0.0
            self._disk_state(s)
        elif fault.kind == "write_stall":
            self.stores[sid].stall = None  # type: ignore[index]
        elif fault.kind == "critical_error":
            self.stores[sid].critical.pop(str(fault.params.get("type")), None)  # type: ignore[index]
        elif fault.kind == "hot_region":
            hit = self.hot_boost.pop(fid, None)
            if hit is not None:
                i, boost = hit
                self._reweight(i, max(self.regions.weight[i] - boost, 1e-9))
        elif fault.kind == "kill_pd_leader":
            for idx, m in enumerate(self.members):
                if m.name == fault.params.get("member"):
                    self.start_pd_member(idx)
        return fault

    # ------------------------------------------------------------------ PD API mutations
    def remove_store(self, sid: int, force: bool) -> None:
        s = self.store_or_404(sid)
        if s.state == STATE_TOMBSTONE:
            raise SimError(410, f"[PD:core:ErrStoreRemoved]store {sid} has been removed")
        if s.state == STATE_OFFLINE:
            return
        if not force:
            up = sum(1 for x in self.stores.values() if x.state == STATE_UP and x.id != sid)
            need = int(self.replication["max-replicas"])
            if up < need:
                raise SimError(
                    400,
                    f"[PD:core:ErrStoresNotEnough]can not remove store {sid} since the number of up stores would be {up} while need {need}",
                )
        s.state = STATE_OFFLINE
        s.node_state = NODE_REMOVING
        s.physically_destroyed = force

    def up_store(self, sid: int) -> None:
        s = self.store_or_404(sid)
        if s.state == STATE_TOMBSTONE:
            raise SimError(410, f"[PD:core:ErrStoreRemoved]store {sid} has been removed")
        s.state = STATE_UP
        s.node_state = NODE_SERVING
        s.physically_destroyed = False

    def bury_drained(self) -> None:
        for s in self.stores.values():
            if s.state == STATE_OFFLINE and s.region_count == 0:
                s.state = STATE_TOMBSTONE
                s.node_state = NODE_REMOVED
                self.schedule["store-limit"].pop(str(s.id), None)

    def update_schedule(self, changes: dict[str, Any]) -> None:
        new = dict(self.schedule)
        for key, value in changes.items():
            if key not in new:
                continue
            if key in DURATION_KEYS:
                if not isinstance(value, str):
                    raise SimError(
                        400,
                        f"json: cannot unmarshal {_json_kind(value)} into Go struct field ScheduleConfig.{key} of type typeutil.Duration",
                    )
                try:
                    ns = parse_go_duration(value)
                except ValueError as exc:
                    raise SimError(400, str(exc)) from exc
                new[key] = go_duration(ns)
            elif key in BOOL_STRING_KEYS:
                if value not in ("true", "false"):
                    raise SimError(
                        400,
                        f"json: invalid use of ,string struct tag, trying to unmarshal {json.dumps(value)} into bool",
                    )
                new[key] = value
            elif key in FLOAT_KEYS:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise SimError(
                        400,
                        f"json: cannot unmarshal {_json_kind(value)} into Go struct field ScheduleConfig.{key} of type float64",
                    )
                new[key] = float(value)
            elif key in STRING_KEYS:
                if not isinstance(value, str):
                    raise SimError(
                        400,
                        f"json: cannot unmarshal {_json_kind(value)} into Go struct field ScheduleConfig.{key} of type string",
                    )
                new[key] = value
            elif key in ("store-limit", "schedulers-v2"):
                raise SimError(400, f"config item {key} is not updatable here")
            else:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise SimError(
                        400,
                        f"json: cannot unmarshal {_json_kind(value)} into Go struct field ScheduleConfig.{key} of type uint64",
                    )
                new[key] = value
        low, high = float(new["low-space-ratio"]), float(new["high-space-ratio"])
        if not (0 <= high <= 1 and 0 <= low <= 1) or low <= high:
            raise SimError(400, "low-space-ratio should be larger than high-space-ratio")
        if new["leader-schedule-policy"] not in ("count", "size"):
            raise SimError(
                400, f"leader-schedule-policy {new['leader-schedule-policy']} is invalid"
            )
        self.schedule = new

    # ------------------------------------------------------------------ region views
    def region_flow(self, i: int) -> tuple[int, int, int, int, int]:
        """written_bytes, read_bytes, written_keys, read_keys, cpu_usage over the last region heartbeat."""
        rt = self.regions
        lead = rt.leader_store(i)
        if not lead or not self.stores[lead].reachable:
            return (0, 0, 0, 0, 0)
        total_qps = self.config.qps_per_store * self.config.stores
        share = rt.weight[i] / (self.total_w or 1.0)
        epoch = (self.now - self.t0) // REGION_HEARTBEAT_NS
        j = jitter(rt.ids[i], epoch)
        secs = REGION_HEARTBEAT_NS // NS
        writes = total_qps * (1 - READ_RATIO) * share * secs * j
        reads = total_qps * READ_RATIO * share * secs * j
        cpu = int(total_qps * share * 0.012 * j)
        return (
            int(writes * VALUE_BYTES),
            int(reads * VALUE_BYTES),
            int(writes),
            int(reads * 1.5),
            cpu,
        )

    def region_dict(self, i: int) -> dict[str, Any]:
        rt = self.regions
        base = i * PEER_SLOTS
        peers = []
        down_peers = []
        pending = []
        leader: dict[str, Any] = {"role_name": ""}
        peer_down = min(MAX_PEER_DOWN_NS, self.max_store_down_ns)
        for k in range(PEER_SLOTS):
            sid = rt.pstore[base + k]
            if not sid:
                continue
            peer = _peer(rt.pid[base + k], sid, rt.prole[base + k])
            peers.append(peer)
            if rt.leader[i] == k:
                leader = peer
            s = self.stores[sid]
            lost_for = self.now - s.lost_ns if (s.lost_ns is not None and not s.reachable) else 0
            if lost_for >= peer_down:
                down_peers.append({"peer": peer, "down_seconds": lost_for // NS})
            if rt.prole[base + k] == ROLE_LEARNER or lost_for > DISCONNECT_NS:
                pending.append(peer)
        wb, rb, wk, rk, cpu = self.region_flow(i)
        out: dict[str, Any] = {
            "id": rt.ids[i],
            "start_key": key_hex(rt.start[i]),
            "end_key": key_hex(rt.end[i]),
        }
        epoch: dict[str, int] = {}
        if rt.conf_ver[i]:
            epoch["conf_ver"] = rt.conf_ver[i]
        if rt.version[i]:
            epoch["version"] = rt.version[i]
        out["epoch"] = epoch
        if peers:
            out["peers"] = peers
        out["leader"] = leader
        if down_peers:
            out["down_peers"] = down_peers
        if pending:
            out["pending_peers"] = pending
        size_mb = rt.size_kb[i] // 1024
        out.update(
            {
                "cpu_usage": cpu,
                "written_bytes": wb,
                "read_bytes": rb,
                "written_keys": wk,
                "read_keys": rk,
                "approximate_size": max(1, size_mb) if rt.size_kb[i] else 0,
                "approximate_keys": rt.keys[i],
            }
        )
        return out

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


def _peer(pid: int, sid: int, role: int) -> dict[str, Any]:
    if role == ROLE_LEARNER:
        return {"role_name": "Learner", "is_learner": True, "id": pid, "store_id": sid, "role": 1}
    return {"role_name": "Voter", "id": pid, "store_id": sid}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"
