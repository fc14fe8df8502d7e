"""One TiKV store as the model keeps it: liveness, load, disk, counters, what PD last heard."""

from __future__ import annotations

from dataclasses import dataclass, field

from operator_tikv.sim import logs as L
from operator_tikv.sim.metrics import TIKV_FAMILIES, Registry
from operator_tikv.sim.signals import Signals
from operator_tikv.sim.stall import WriteStall

GIB = 1 << 30
MIB = 1 << 20
KIB = 1 << 10
CPU_CORES = 8
MEMORY_QUOTA = 16 * GIB
TIKV_VERSION = "8.5.0"
TIKV_GIT_HASH = "8e9da6f8a0b6a5b7c1f6f0a7d5c3b2e1a4f9d8c7"
STATE_UP, STATE_OFFLINE, STATE_TOMBSTONE = 0, 1, 2
NODE_PREPARING, NODE_SERVING, NODE_REMOVING, NODE_REMOVED = 0, 1, 2, 3


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
    unified_read_pool: bool = True
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
    pd_leader_url: str = ""
    registry: Registry = field(default_factory=lambda: Registry(TIKV_FAMILIES))
    signals: Signals = field(default_factory=Signals)
    page_cache: tuple[tuple[int, int, int, bool], str] | None = None
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
