"""Region splits keeping key order, store totals and hot candidates consistent; TiKV's logs."""

from __future__ import annotations

import bisect

from operator_tikv.sim.keys import key_hex
from operator_tikv.sim.raft_log import RaftLog, count_done
from operator_tikv.sim.regions import PEER_SLOTS
from operator_tikv.sim.traffic import HOT_CANDIDATES

# TiKV v8.5 coprocessor defaults (components/raftstore/src/coprocessor/config.rs): SPLIT_SIZE is
# 256 MiB since v8.4 and region-max-size defaults to split size / 2 * 3.
REGION_SPLIT_SIZE_MB = 256
REGION_MAX_SIZE_MB = REGION_SPLIT_SIZE_MB // 2 * 3


class Split(RaftLog):
    """Splitting one region into two halves."""

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
        for _, sid, _ in peers:
            sig = self.stores[sid].signals
            sig.add("peer_create", 1, 1.0, sig.median("kv_io", 0.00015))
        if lead:
            self.stores[lead].signals.add("split", 1, 1.0)
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
                count_done(
                    self.stores[sid].registry, "tikv_raftstore_admin_cmd_total", "batch-split"
                )
            new_lead_pid = rt.pid[j * PEER_SLOTS + rt.leader[j]]
            new_ctx: list[tuple[str, object]] = [("raft_id", new_lead_pid), ("region_id", new_rid)]
            self._log_became(lead, "leader", 6, new_ctx, self.now + 1_000_000)
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
