"""Raft leadership: re-elections after a store is lost, leader transfers, futile campaigns."""

from __future__ import annotations

from operator_tikv.sim.encode import NS
from operator_tikv.sim.raft_log import RaftLog
from operator_tikv.sim.regions import PEER_SLOTS, ROLE_VOTER
from operator_tikv.sim.store import Store

ELECTION_TIMEOUT_NS = 10 * NS


class Elections(RaftLog):
    """Raft elections and leader transfers, with the log lines TiKV writes for them."""

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
            self.stores[new_sid].signals.add("campaign", 1, 1.0)
            for k in live:
                if k != slot:
                    self.stores[rt.pstore[base + k]].signals.add("voted", 1, 1.0)
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
        self._log_campaign(sid, old_term, ctx, t)
        self._log_became(sid, "candidate", term, ctx, t + 1_000_000)
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
        self._log_became(sid, "leader", term, ctx, t + 9_000_000)
        self.log(
            sid,
            "INFO",
            "peer.rs:5357",
            "require updating max ts",
            [("initial_status", (term << 32) | 78), ("peer_id", pid), ("region_id", rid)],
            t + 9_000_000,
        )
        log_index = 5 + term * 3
        for k in followers:
            fsid, fpid = rt.pstore[base + k], rt.pid[base + k]
            fctx: list[tuple[str, object]] = [("raft_id", fpid), ("region_id", rid)]
            # A pre-vote request never moves a term (raft-rs ``step``); the vote request does.
            self._log_higher_term(fsid, pid, term, old_term, "MsgRequestVote", fctx, t + 2_000_000)
            self._log_became(fsid, "follower", term, fctx, t + 2_000_000)
            self.log(
                fsid,
                "INFO",
                "raft.rs:1620",
                f"[logterm: {old_term}, index: {log_index}, vote: 0] cast vote for {pid} "
                f"[logterm: {old_term}, index: {log_index}] at term {term}",
                [
                    ("msg type", "MsgRequestVote"),
                    ("term", term),
                    ("msg_index", log_index),
                    ("msg_term", old_term),
                    ("from", pid),
                    ("vote", 0),
                    ("log_index", log_index),
                    ("log_term", old_term),
                    *fctx,
                ],
                t + 2_000_000,
            )

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
            self._log_campaign(s.id, term, ctx)
            s.registry.inc("tikv_raftstore_raft_sent_message_total", ("prevote", "accept"), 2)
            logged += 1
            if logged == 2:
                return

    def _log_transfer(self, i: int, slot: int, old_sid: int, old_pid: int, old_term: int) -> None:
        rt = self.regions
        base = i * PEER_SLOTS
        rid, sid, pid, term = rt.ids[i], rt.pstore[base + slot], rt.pid[base + slot], rt.term[i]
        ctx: list[tuple[str, object]] = [("raft_id", pid), ("region_id", rid)]
        if old_sid:
            old_ctx: list[tuple[str, object]] = [("raft_id", old_pid), ("region_id", rid)]
            self.log(
                old_sid,
                "INFO",
                "peer.rs:4055",
                "transfer leader",
                [
                    ("peer", f"id: {pid} store_id: {sid}"),
                    ("peer_id", old_pid),
                    ("region_id", rid),
                ],
            )
            self.log(
                old_sid,
                "INFO",
                "raft.rs:1959",
                f"[term {old_term}] starts to transfer leadership to {pid}",
                [("lead_transferee", pid), ("term", old_term), *old_ctx],
            )
            self.log(
                old_sid,
                "INFO",
                "raft.rs:1972",
                f"sends MsgTimeoutNow to {pid} immediately as {pid} already has up-to-date log",
                [("lead_transferee", pid), *old_ctx],
            )
        self.log(
            sid,
            "INFO",
            "raft.rs:2300",
            f"[term {old_term}] received MsgTimeoutNow from {old_pid} and starts an election to get leadership.",
            [("from", old_pid), ("term", old_term), *ctx],
        )
        self.log(sid, "INFO", "raft.rs:1556", "starting a new election", [("term", old_term), *ctx])
        # A transfer campaigns without pre-vote (raft-rs ``hup(true)``).
        self._log_became(sid, "candidate", term, ctx)
        self._log_became(sid, "leader", term, ctx, self.now + 3_000_000)
        if old_sid:
            self._log_higher_term(
                old_sid, pid, term, old_term, "MsgRequestVote", old_ctx, self.now + 2_000_000
            )
            self._log_became(old_sid, "follower", term, old_ctx, self.now + 3_000_000)

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
                self.stores[old_sid].signals.add("transfer_leader", 1, 1.0)
                self._log_transfer(i, k, old_sid, old_pid, old_term)
                return True
        return False
