"""The cluster's shared fields and the peer, leader and log bookkeeping every concern uses."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from operator_tikv.sim import logs as L
from operator_tikv.sim.config import SimConfig
from operator_tikv.sim.errors import SimError
from operator_tikv.sim.regions import PEER_SLOTS, ROLE_LEARNER, RegionTable
from operator_tikv.sim.store import Store

if TYPE_CHECKING:
    from operator_tikv.sim.faults import Fault
    from operator_tikv.sim.members import Member
    from operator_tikv.sim.metrics import Registry
    from operator_tikv.sim.operators import Operator


class ClusterState:
    """Fields set by ``Cluster.__init__``; each concern is a subclass that reads and changes them."""

    config: SimConfig
    rng: random.Random
    t0: int
    now: int
    mono0: int
    next_id: int
    cluster_id: int
    bootstrap_ns: int
    _down_text: str
    _down_ns: int
    schedule: dict[str, Any]
    replication: dict[str, Any]
    members: list[Member]
    pd_leader: int | None
    pd_elect_at: int | None
    stores: dict[int, Store]
    regions: RegionTable
    total_w: float
    hot: list[int]
    hot_since: dict[int, int]
    hot_boost: dict[str, tuple[int, float]]
    operators: dict[int, Operator]
    finished_ops: dict[int, Operator]
    op_events: list[tuple[int, int, int]]
    op_seq: int
    elect_at: int | None
    patrol_cursor: int
    check_counts: dict[int, int]
    faults: dict[str, Fault]
    fault_seq: int
    op_counter: dict[tuple[str, str], float]
    schedulers: dict[str, list[int]]
    evict_cursor: int
    pd_counters: Registry
    pd_term: int
    etcd_index: float
    log_dir: Path | None

    def alloc_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

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
        s.signals.add("peer_destroy", 1, 1.0, s.signals.median("kv_io", 0.00015) * 2)
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

    def _count_op(self, desc: str, event: str) -> None:
        key = (desc, event)
        self.op_counter[key] = self.op_counter.get(key, 0.0) + 1

    def store_or_404(self, sid: int) -> Store:
        s = self.stores.get(sid)
        if s is None:
            raise SimError(404, f"[PD:core:ErrStoreNotFound]store {sid} not found")
        return s
