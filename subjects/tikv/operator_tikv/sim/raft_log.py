"""Raft role-change and conf-change log lines, written one way wherever they happen."""

from __future__ import annotations

from operator_tikv.sim.metrics import Registry
from operator_tikv.sim.state import ClusterState

# Where raft-rs logs each role change (``become_*`` in raft.rs).
BECAME_SOURCE = {
    "leader": "raft.rs:1259",
    "follower": "raft.rs:1151",
    "candidate": "raft.rs:1175",
    "pre-candidate": "raft.rs:1201",
}


def count_done(reg: Registry, family: str, what: str) -> None:
    """One finished command or snapshot: TiKV counts it under ``all`` and under ``success``."""
    reg.inc(family, (what, "all"))
    reg.inc(family, (what, "success"))


class RaftLog(ClusterState):
    """Log helpers shared by elections, leader transfers, snapshots and splits."""

    def _log_became(
        self,
        sid: int,
        role: str,
        term: int,
        ctx: list[tuple[str, object]],
        at_ns: int | None = None,
    ) -> None:
        self.log(
            sid,
            "INFO",
            BECAME_SOURCE[role],
            f"became {role} at term {term}",
            [("term", term), *ctx],
            at_ns,
        )

    def _log_higher_term(
        self,
        sid: int,
        sender: int,
        term: int,
        old_term: int,
        msg_type: str,
        ctx: list[tuple[str, object]],
        at_ns: int | None = None,
    ) -> None:
        """raft-rs ``step``: a message from a later term (not a pre-vote) makes the peer follow."""
        self.log(
            sid,
            "INFO",
            "raft.rs:1386",
            f"received a message with higher term from {sender}",
            [
                ("msg type", msg_type),
                ("message_term", term),
                ("term", old_term),
                ("from", sender),
                *ctx,
            ],
            at_ns,
        )

    def _log_campaign(
        self, sid: int, term: int, ctx: list[tuple[str, object]], at_ns: int | None = None
    ) -> None:
        """A peer's election timeout fires and it pre-votes (pre-vote keeps the term)."""
        self.log(
            sid, "INFO", "raft.rs:1556", "starting a new election", [("term", term), *ctx], at_ns
        )
        self._log_became(sid, "pre-candidate", term, ctx, at_ns)

    def _log_conf_change(self, sid: int, change: str, peer_id: int, region_id: int) -> None:
        self.log(
            sid,
            "INFO",
            "peer.rs:4801",
            "propose conf change peer",
            [
                ("kind", "Simple"),
                ("changes", change),
                ("peer_id", peer_id),
                ("region_id", region_id),
            ],
        )
