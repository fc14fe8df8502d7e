"""Injected faults: kinds, parameters and validation, per-step evolution, and clearing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from operator_tikv.sim.control import Control
from operator_tikv.sim.encode import NS
from operator_tikv.sim.errors import SimError
from operator_tikv.sim.keys import decode_hex
from operator_tikv.sim.stall import CAUSES, WriteStall
from operator_tikv.sim.store import KIB, Store
from operator_tikv.sim.store_load import StoreLoad
from operator_tikv.sim.traffic import HOT_CANDIDATES, REGION_HEARTBEAT_NS


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
STORE_FAULTS = set(FAULT_KINDS) - {"hot_region", "kill_pd_leader"}


class Faults(Control, StoreLoad):
    """Adding, evolving and clearing faults."""

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
            # components/server/src/server.rs: the two usages are DiskUsage states, not bytes;
            # with the raft engine on the kv disk its own state stays Normal (common.rs inspect).
            self.log(
                s.id,
                "WARN",
                "server.rs:1537",
                f"disk usage {prev}->{new} (raft engine usage: Normal, kv engine usage: {new}), "
                f"seperated raft mount=false, kv available={s.available_bytes()}, snap=0, kv={s.region_kb * KIB}, "
                f"raft={s.raft_bytes()}, capacity={s.capacity}",
                [],
            )

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
