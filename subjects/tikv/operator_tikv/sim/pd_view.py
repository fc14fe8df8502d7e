"""Store heartbeats, PD's only source on a store, and how PD judges a store from them."""

from __future__ import annotations

import math

from operator_tikv.sim.encode import NS, parse_go_duration
from operator_tikv.sim.noise import stable_int
from operator_tikv.sim.pd_runtime import PdRuntime
from operator_tikv.sim.store import (
    GIB,
    NODE_PREPARING,
    NODE_SERVING,
    STATE_OFFLINE,
    STATE_TOMBSTONE,
    STATE_UP,
    Store,
)
from operator_tikv.sim.store_gauges import StoreGauges

STORE_HEARTBEAT_NS = 10 * NS
DISCONNECT_NS = 20 * NS
UNHEALTHY_NS = 600 * NS
MAX_PEER_DOWN_NS = 600 * NS
SLOW_STORE_THRESHOLD = 80


class PdView(StoreGauges, PdRuntime):
    """Store heartbeats and PD's judgement of stores: state, health, region score."""

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
            leader_url = self._pd_leader_url()
            if s.pd_lost_logged:
                s.pd_lost_logged = False
                s.registry.inc("tikv_pd_reconnect_total", ("success",))
                self._log_pd_connecting(s.id)
                self._log_pd_client_updated(s.id, s.pd_leader_url)
            elif s.pd_leader_url and s.pd_leader_url != leader_url:
                # The leader changed between two heartbeats: its TSO stream closed.
                self.log(s.id, "INFO", "client.rs:152", "TSO stream is closed, reconnect to PD", [])
                self._log_pd_client_updated(s.id, s.pd_leader_url)
            s.pd_leader_url = leader_url
            self._pd_heartbeat(s)

    def _log_pd_lost(self, s: Store) -> None:
        """What pd_client and the pd worker print when PD stops answering: without a leader
        the TSO stream closes first (components/pd_client/src/client.rs); a cut-off store's
        heartbeats fail (raftstore worker/pd.rs, pd_client client.rs) and the endpoints do
        not answer (pd_client util.rs ``validate_endpoints``)."""
        endpoints = self._pd_endpoints()
        err = 'Grpc(RpcFailure(RpcStatus { code: 14-UNAVAILABLE, message: "failed to connect to all addresses", details: [] }))'
        if self.pd_leader is None:
            self.log(s.id, "INFO", "client.rs:152", "TSO stream is closed, reconnect to PD", [])
            self.log(
                s.id,
                "WARN",
                "client.rs:154",
                "failed to update PD client",
                [("error", err)],
            )
        else:
            self.log(s.id, "ERROR", "pd.rs:1823", "store heartbeat failed", [("err", err)])
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
        s.last_hb_ns = self.now - stable_int(s.id, self.now) % 900_000_000
        s.pd_seen = True
        s.pd_capacity = s.capacity
        s.pd_available = s.available_bytes()
        s.pd_used = s.used_bytes()
        s.pd_slow_score = max(1, int(s.slow_score))
        s.pd_start_s = s.start_ts_s
        s.registry.inc("tikv_pd_heartbeat_message_total", ("noop",))
        self._count_store_heartbeat(s.address, s.id)
        self._store_size_metrics(s)

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
