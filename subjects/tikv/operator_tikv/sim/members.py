"""The three PD members: who leads, the election after the leader is lost, TSO saves."""

from __future__ import annotations

from dataclasses import dataclass, field

from operator_tikv.sim.encode import NS
from operator_tikv.sim.pd_families import PD_FAMILIES
from operator_tikv.sim.pd_registry import PdRegistry
from operator_tikv.sim.state import ClusterState

PD_VERSION = "v8.5.0"
PD_GIT_HASH = "d190c0e9082de46128b756f93b1291768dda645a"
PD_ELECTION_NS = 3 * NS


@dataclass(slots=True)
class Member:
    name: str
    member_id: int
    port: int = 0
    alive: bool = True
    start_s: int = 0
    tso_saves: int = 0
    was_leader: bool = False
    # What the process has counted since it started (Go runtime, etcd, gRPC, TSO).
    registry: PdRegistry = field(default_factory=lambda: PdRegistry(PD_FAMILIES))


class PdMembers(ClusterState):
    """PD leadership: who leads, losing the leader, and electing the next."""

    def _pd_election(self) -> None:
        if self.pd_leader is not None and (self.now // NS) % 3 == 0:
            self.members[self.pd_leader].tso_saves += 1
        if self.pd_leader is None and self.pd_elect_at is not None and self.now >= self.pd_elect_at:
            alive = [i for i, m in enumerate(self.members) if m.alive]
            if alive:
                self.pd_leader = alive[self.rng.randrange(len(alive))]
                self.pd_elect_at = None
                self.pd_term += 1
                self.members[self.pd_leader].was_leader = True

    def _pd_endpoints(self) -> str:
        return ",".join(f"{self.config.host}:{m.port}" for m in self.members)

    def _pd_leader_url(self) -> str:
        if self.pd_leader is None:
            return ""
        return f"http://{self.config.host}:{self.members[self.pd_leader].port}"

    def _log_pd_connecting(self, sid: int) -> None:
        """A store (re)connecting to PD, at start-up or once PD answers again."""
        self.log(
            sid,
            "INFO",
            "util.rs:639",
            "connecting to PD endpoint",
            [("endpoints", self._pd_endpoints())],
            thread=1,
        )

    def _log_pd_client_updated(self, sid: int, prev_leader: str) -> None:
        """pd_client's reconnect found the leader (components/pd_client/src/util.rs:
        ``try_connect``, ``update_client``, ``reconnect``); fields come out in reverse."""
        leader = self._pd_leader_url()
        self.log(sid, "INFO", "util.rs:809", "connected to PD member", [("endpoints", leader)])
        self.log(
            sid,
            "INFO",
            "util.rs:303",
            "update pd client",
            [("via", ""), ("leader", leader), ("prev_via", ""), ("prev_leader", prev_leader)],
        )
        spend = 1.2 + (sid * 37 % 100) / 40
        self.log(
            sid,
            "INFO",
            "util.rs:435",
            "trying to update PD client done",
            [("spend", f"{spend:.6f}ms")],
        )

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
        m.tso_saves = 0
        m.was_leader = False
        m.registry = PdRegistry(PD_FAMILIES)
        if self.pd_leader is None and self.pd_elect_at is None:
            self.pd_elect_at = self.now + PD_ELECTION_NS
