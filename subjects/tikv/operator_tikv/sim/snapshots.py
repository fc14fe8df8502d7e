"""Raft snapshots to a new learner: counters and logs on the sending and receiving stores."""

from __future__ import annotations

from typing import TYPE_CHECKING

from operator_tikv.sim.encode import NS
from operator_tikv.sim.raft_log import RaftLog, count_done
from operator_tikv.sim.regions import PEER_SLOTS
from operator_tikv.sim.store import KIB

if TYPE_CHECKING:
    from operator_tikv.sim.operators import Step


class Snapshots(RaftLog):
    """Snapshot traffic of an add-learner step."""

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
        self._log_conf_change(
            lead,
            f"[change_type: AddLearnerNode peer {{ id: {s.peer_id} store_id: {s.store} role: Learner }}]",
            lpid,
            rid,
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
        snap_index = rt.conf_ver[i] + 10
        snap_key = f"{rid}_{term}_{snap_index}"
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
                "peer_storage.rs:532",
                "start sending snapshot",
                [("request_peer", s.peer_id), ("peer_id", lpid), ("region_id", rid)],
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
            count_done(ls.registry, "tikv_raftstore_snapshot_total", "generate")
            ls.signals.add("snap_gen", 1, 1.0, secs * 0.6)
            ls.signals.add("snap_send", 1, 1.0, secs * 0.4)
            ls.signals.add("snap_size", 1, 1.0, float(size))
            ls.signals.add("conf_change", 1, 1.0)
            ls.registry.inc("tikv_raftstore_raft_sent_message_total", ("snapshot", "accept"))
        target = self.stores[s.store]
        target.receiving_snaps = max(0, target.receiving_snaps - 1)
        learner_ctx: list[tuple[str, object]] = [("raft_id", s.peer_id), ("region_id", rid)]
        self._log_became(s.store, "follower", 0, learner_ctx, t0)
        if lpid:
            self._log_higher_term(s.store, lpid, term, 0, "MsgHeartbeat", learner_ctx, t0)
            self._log_became(s.store, "follower", term, learner_ctx, t0)
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
        rctx: list[tuple[str, object]] = [("raft_id", s.peer_id), ("region_id", rid)]
        self.log(
            s.store,
            "INFO",
            "raft.rs:2701",
            "restored snapshot",
            [
                ("snapshot_term", term),
                ("snapshot_index", snap_index),
                ("last_term", term),
                ("last_index", snap_index),
                ("commit", snap_index),
                *rctx,
            ],
        )
        self.log(
            s.store,
            "INFO",
            "raft.rs:2582",
            f"[commit: {snap_index}, term: {term}] restored snapshot "
            f"[index: {snap_index}, term: {term}]",
            [
                ("snapshot_term", term),
                ("snapshot_index", snap_index),
                ("commit", snap_index),
                ("term", term),
                *rctx,
            ],
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
        count_done(target.registry, "tikv_raftstore_snapshot_total", "apply")
        target.signals.add("snap_apply", 1, 1.0, secs * 0.2)
        target.signals.add("peer_create", 1, 1.0, target.signals.median("kv_io", 0.00015))
        count_done(target.registry, "tikv_raftstore_admin_cmd_total", "add_learner")
