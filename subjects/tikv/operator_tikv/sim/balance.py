"""PD's balancers (balance-leader, evict-slow-store, balance-region), sampled to stay cheap."""

from __future__ import annotations

from operator_tikv.sim.operators import (
    OP_LEADER,
    OP_REGION,
    OP_REPLICA,
    Step,
    move_peer_steps,
)
from operator_tikv.sim.regions import PEER_SLOTS, ROLE_VOTER
from operator_tikv.sim.schedulers import (
    BALANCE_LEADER,
    BALANCE_REGION,
    Schedulers,
)
from operator_tikv.sim.store import Store


class Balance(Schedulers):
    """Leader and region balance over the healthy stores, as far as their schedulers run."""

    def _balance(self) -> None:
        """evict-leader, balance-leader, evict-slow-store and balance-region, sampled to stay cheap."""
        rt = self.regions
        n = len(rt)
        if n == 0:
            return
        leader_budget = int(self.schedule["leader-schedule-limit"]) - self._running(OP_LEADER)
        leader_budget = self._evict_leaders(leader_budget)
        paused = self.evicted_leader_stores()
        healthy = [s for s in self.stores.values() if self.pd_healthy(s) and s.id not in paused]
        evict = self.slow_evicted_stores()
        # evict-slow-store asks for one slow store and somewhere to put its leaders, not for
        # two healthy stores (scheduleDiskSlowStore in pkg/schedule/schedulers/
        # evict_slow_store.go): with a store lost and another slow, the one left takes them.
        if not healthy or (len(healthy) < 2 and not evict):
            return
        counters = self.pd_counters
        if self.scheduler_on(BALANCE_LEADER):
            counters.inc("pd_scheduler_event_count", (BALANCE_LEADER, "schedule"))
            if leader_budget <= 0:
                counters.inc("pd_schedule_operator_limit", (BALANCE_LEADER, "leader"))
        elif not evict:
            leader_budget = 0
        avg_leaders = sum(s.leader_count for s in healthy) / len(healthy)
        tolerance = max(1.0, avg_leaders * 0.05)
        healthy_ids = {s.id for s in healthy}
        balancing = any(op.desc == "balance-leader" for op in self.operators.values())
        tries = min(n, 64)
        for _ in range(tries):
            if leader_budget <= 0 or (balancing and not evict):
                break
            i = self.rng.randrange(n)
            if rt.ids[i] in self.operators or rt.leader[i] < 0:
                continue
            src = self.stores[rt.leader_store(i)]
            if not src.reachable:
                continue
            evicting = src.id in evict
            if not evicting and (
                balancing
                or not self.scheduler_on(BALANCE_LEADER)
                or src.id in paused
                or src.leader_count <= avg_leaders + tolerance / 2
            ):
                continue
            best: Store | None = None
            base = i * PEER_SLOTS
            for k in range(PEER_SLOTS):
                sid = rt.pstore[base + k]
                if (
                    not sid
                    or sid == src.id
                    or rt.prole[base + k] != ROLE_VOTER
                    or sid not in healthy_ids
                    or sid in evict
                ):
                    continue
                cand = self.stores[sid]
                if best is None or cand.leader_count < best.leader_count:
                    best = cand
            if best is None:
                continue
            if not evicting and src.leader_count - best.leader_count <= tolerance:
                continue
            desc = "evict-slow-store" if evicting else "balance-leader"
            if not evicting:
                counters.inc("pd_scheduler_event_count", (BALANCE_LEADER, "new-operator"))
                counters.inc("pd_scheduler_balance_direction", (BALANCE_LEADER, str(src.id), "out"))
                counters.inc("pd_scheduler_balance_direction", (BALANCE_LEADER, str(best.id), "in"))
            self.add_operator(
                i,
                desc,
                f"transfer leader: store {src.id} to {best.id}",
                OP_LEADER,
                [Step("transfer_leader", store=src.id, to_store=best.id)],
            )
            leader_budget -= 1
            balancing = balancing or not evicting
        if self.scheduler_on(BALANCE_REGION):
            counters.inc("pd_scheduler_event_count", (BALANCE_REGION, "schedule"))
            self._balance_region(healthy)

    def _balance_region(self, healthy: list[Store]) -> None:
        rt = self.regions
        n = len(rt)
        if self._running(OP_REGION) - self._running(OP_REPLICA) >= min(
            4, int(self.schedule["region-schedule-limit"])
        ):
            self.pd_counters.inc("pd_schedule_operator_limit", (BALANCE_REGION, "region"))
            return
        low = min(healthy, key=lambda s: (self.region_score(s), s.id))
        high = max(healthy, key=lambda s: (self.region_score(s), -s.id))
        if (
            high.region_count - low.region_count <= max(2, 0.05 * high.region_count)
            or low.tokens_add < 1
        ):
            return
        for _ in range(min(n, 32)):
            i = self.rng.randrange(n)
            if rt.ids[i] in self.operators:
                continue
            have = rt.peer_stores(i)
            if high.id not in have or low.id in have or rt.free_slot(i) < 0:
                continue
            low.tokens_add -= 1
            counters = self.pd_counters
            counters.inc("pd_scheduler_event_count", (BALANCE_REGION, "new-operator"))
            counters.inc("pd_scheduler_balance_direction", (BALANCE_REGION, str(high.id), "out"))
            counters.inc("pd_scheduler_balance_direction", (BALANCE_REGION, str(low.id), "in"))
            steps = move_peer_steps(rt.leader_store(i), high.id, low.id, self.alloc_id())
            self.add_operator(
                i, "balance-region", f"mv peer: store [{high.id}] to [{low.id}]", OP_REGION, steps
            )
            return
