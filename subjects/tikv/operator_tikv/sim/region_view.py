"""A region as PD reports it: peers, leader, down and pending peers, recent flow."""

from __future__ import annotations

from typing import Any

from operator_tikv.sim.encode import NS
from operator_tikv.sim.keys import key_hex
from operator_tikv.sim.noise import jitter
from operator_tikv.sim.pd_view import DISCONNECT_NS, MAX_PEER_DOWN_NS, PdView
from operator_tikv.sim.regions import PEER_SLOTS, ROLE_LEARNER
from operator_tikv.sim.traffic import READ_RATIO, REGION_HEARTBEAT_NS, VALUE_BYTES


class RegionView(PdView):
    """Region bodies for PD's region routes."""

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


def _peer(pid: int, sid: int, role: int) -> dict[str, Any]:
    if role == ROLE_LEARNER:
        return {"role_name": "Learner", "is_learner": True, "id": pid, "store_id": sid, "role": 1}
    return {"role_name": "Voter", "id": pid, "store_id": sid}
