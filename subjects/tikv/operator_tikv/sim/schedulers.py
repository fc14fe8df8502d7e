"""PD's scheduler controller: which schedulers run, and evict-leader, the one added by hand.

Names, errors and the evict-leader behaviour follow PD v8.5.7:
pkg/schedule/types/type.go (``StringToSchedulerType``, ``DefaultSchedulers`` of v8.5.0),
pkg/schedule/schedulers/scheduler_controller.go (``AddScheduler``: ``ErrSchedulerExisted``
before ``PrepareConfig``), pkg/schedule/schedulers/evict_leader.go (one scheduler holding many
stores, batch 3, leader transfer paused on those stores, removed with its last store) and
pkg/core/store.go ``PauseLeaderTransfer`` (``ErrStoreNotFound``, ``ErrPauseLeaderTransfer``).
"""

from __future__ import annotations

import json

from operator_tikv.sim.errors import SimError
from operator_tikv.sim.operators import OP_LEADER, Operators, Step
from operator_tikv.sim.pd_view import PdView
from operator_tikv.sim.regions import PEER_SLOTS, ROLE_VOTER

BALANCE_LEADER = "balance-leader-scheduler"
BALANCE_REGION = "balance-region-scheduler"
BALANCE_HOT_REGION = "balance-hot-region-scheduler"
EVICT_SLOW_STORE = "evict-slow-store-scheduler"
EVICT_LEADER = "evict-leader-scheduler"
# v8.5.0's DefaultSchedulers, in the order of the persisted ``schedulers-v2``.
DEFAULT_SCHEDULERS = (BALANCE_REGION, BALANCE_LEADER, BALANCE_HOT_REGION, EVICT_SLOW_STORE)
# The short type names ``schedulers-v2`` stores (types.SchedulerTypeCompatibleMap).
SHORT_TYPES = {
    BALANCE_LEADER: "balance-leader",
    BALANCE_REGION: "balance-region",
    BALANCE_HOT_REGION: "hot-region",
    EVICT_SLOW_STORE: "evict-slow-store",
    EVICT_LEADER: "evict-leader",
}
EVICT_LEADER_BATCH = 3
EVICT_SLOW_SCORE = 100
# Regions looked at per step to find the leaders of evicted stores (RandLeaderRegions in PD).
EVICT_SCAN = 20000

SCHEDULER_EXISTED = "[PD:scheduler:ErrSchedulerExisted]scheduler existed"
SCHEDULER_NOT_FOUND = "[PD:scheduler:ErrSchedulerNotFound]scheduler not found"


class Schedulers(Operators, PdView):
    """The running schedulers by name, and the stores evict-leader empties of leaders."""

    def scheduler_names(self) -> list[str]:
        return list(self.schedulers)

    def scheduler_on(self, name: str) -> bool:
        return name in self.schedulers

    def evicted_leader_stores(self) -> list[int]:
        return list(self.schedulers.get(EVICT_LEADER, ()))

    def slow_evicted_stores(self) -> set[int]:
        """Stores evict-slow-store is emptying: slow score at the top and still reachable."""
        if EVICT_SLOW_STORE not in self.schedulers:
            return set()
        return {
            s.id
            for s in self.stores.values()
            if s.pd_slow_score >= EVICT_SLOW_SCORE and s.reachable
        }

    def leader_transfer_paused(self, sid: int) -> bool:
        """A store neither gives nor takes leaders by balance (``AllowLeaderTransfer`` false)."""
        return sid in self.schedulers.get(EVICT_LEADER, ()) or sid in self.slow_evicted_stores()

    def add_scheduler(self, name: str, store_id: int | None) -> str:
        """``POST /schedulers``; returns PD's success message or raises its error."""
        if name == EVICT_LEADER:
            if store_id is None:
                raise SimError(400, "missing store id")
            held = self.schedulers.get(EVICT_LEADER)
            if held is not None:
                if store_id not in held:
                    try:
                        self._pause_leader_transfer(store_id)
                    except SimError as exc:
                        # The update is proxied to the scheduler's config handler; its JSON body
                        # becomes the outer error text (apiutil.checkResponse).
                        raise SimError(500, json.dumps(exc.message) + "\n") from exc
                    held.append(store_id)
                return "The scheduler has been applied to the store."
            self._pause_leader_transfer(store_id)
            self.schedulers[EVICT_LEADER] = [store_id]
            self._persist_schedulers()
            return "The scheduler is created."
        if name not in SHORT_TYPES:
            raise SimError(400, "unknown scheduler")
        if name in self.schedulers:
            raise SimError(500, SCHEDULER_EXISTED)
        self.schedulers[name] = []
        self._persist_schedulers()
        return "The scheduler is created."

    def remove_scheduler(self, name: str) -> None:
        """``DELETE /schedulers/{name}`` for a whole scheduler."""
        if name not in self.schedulers:
            raise SimError(404, SCHEDULER_NOT_FOUND)
        del self.schedulers[name]
        self._persist_schedulers()

    def remove_evict_leader_store(self, sid: int) -> int:
        """``DELETE /schedulers/evict-leader-scheduler-{sid}``: PD answers only the proxied status."""
        held = self.schedulers.get(EVICT_LEADER)
        if held is None or sid not in held:
            return 404
        held.remove(sid)
        if not held:
            self.remove_scheduler(EVICT_LEADER)
        return 200

    def _pause_leader_transfer(self, sid: int) -> None:
        if sid not in self.stores:
            raise SimError(500, f"[PD:core:ErrStoreNotFound]store {sid} not found")
        if self.leader_transfer_paused(sid):
            raise SimError(
                500, f"[PD:core:ErrPauseLeaderTransfer]store {sid} is paused for leader transfer"
            )

    def _persist_schedulers(self) -> None:
        """``schedulers-v2`` as PD persists it: defaults marked disabled, added ones appended."""
        entries = [
            {
                "type": SHORT_TYPES[name],
                "args": None,
                "disable": name not in self.schedulers,
                "args-payload": "",
            }
            for name in DEFAULT_SCHEDULERS
        ]
        for name, stores in self.schedulers.items():
            if name not in DEFAULT_SCHEDULERS:
                args = [str(stores[0])] if stores else None
                entries.append(
                    {"type": SHORT_TYPES[name], "args": args, "disable": False, "args-payload": ""}
                )
        self.schedule = {**self.schedule, "schedulers-v2": entries}

    def _evict_leaders(self, budget: int) -> int:
        """Up to ``EVICT_LEADER_BATCH`` transfer-leader operators per evicted store; returns the rest of ``budget``."""
        held = self.schedulers.get(EVICT_LEADER)
        if not held or budget <= 0:
            return budget
        rt = self.regions
        n = len(rt)
        if n == 0:
            return budget
        wanted = {sid: EVICT_LEADER_BATCH for sid in held if sid in self.stores}
        start = self.evict_cursor % n
        for step in range(min(n, EVICT_SCAN)):
            if budget <= 0 or not any(wanted.values()):
                break
            i = (start + step) % n
            self.evict_cursor = i + 1
            if rt.leader[i] < 0 or rt.ids[i] in self.operators:
                continue
            src = rt.leader_store(i)
            if not wanted.get(src):
                continue
            target = self._evict_target(i, src)
            if target is None:
                self.pd_counters.inc("pd_scheduler_event_count", (EVICT_LEADER, "no-target-store"))
                continue
            self.add_operator(
                i,
                EVICT_LEADER,
                f"transfer leader: store {src} to {target}",
                OP_LEADER,
                [Step("transfer_leader", store=src, to_store=target)],
            )
            self.pd_counters.inc("pd_scheduler_event_count", (EVICT_LEADER, "new-operator"))
            wanted[src] -= 1
            budget -= 1
        return budget

    def _evict_target(self, i: int, src: int) -> int | None:
        """The follower voter on a healthy store that may take leaders, fewest leaders first."""
        rt = self.regions
        base = i * PEER_SLOTS
        best = None
        for k in range(PEER_SLOTS):
            sid = rt.pstore[base + k]
            if not sid or sid == src or rt.prole[base + k] != ROLE_VOTER:
                continue
            s = self.stores[sid]
            if not self.pd_healthy(s) or not s.reachable or self.leader_transfer_paused(sid):
                continue
            if best is None or s.leader_count < self.stores[best].leader_count:
                best = sid
        return best
