"""PD's region patrol: statistics flags, and replica repair of down, offline or missing peers."""

from __future__ import annotations

from operator_tikv.sim.operators import (
    OP_REGION,
    OP_REPLICA,
    Operators,
    add_peer_steps,
    move_peer_steps,
)
from operator_tikv.sim.pd_view import DISCONNECT_NS, MAX_PEER_DOWN_NS, PdView
from operator_tikv.sim.regions import (
    DOWN_PEER,
    EMPTY_REGION,
    EXTRA_PEER,
    LEARNER_PEER,
    MISS_PEER,
    OFFLINE_PEER,
    OVERSIZED,
    PEER_SLOTS,
    PENDING_PEER,
    ROLE_VOTER,
    UNDERSIZED,
)
from operator_tikv.sim.split import REGION_MAX_SIZE_MB
from operator_tikv.sim.store import NODE_PREPARING, NODE_SERVING, STATE_UP, Store


class Checker(Operators, PdView):
    """The patrol over the region table, a batch per step, and the replica operators it creates."""

    def _refill_tokens(self, dt: float) -> None:
        for s in self.stores.values():
            s.tokens_add = min(s.limit_add, s.tokens_add + s.limit_add / 60.0 * dt)

    def _patrol(self, dt: float) -> None:
        rt = self.regions
        n = len(rt)
        if n == 0:
            return
        batch = n if n <= 20000 else max(2000, int(n * dt / 60) + 1)
        max_down = self.max_store_down_ns
        peer_down = min(MAX_PEER_DOWN_NS, max_down)
        info: dict[int, tuple[bool, bool, bool, bool]] = {}
        for sid, s in self.stores.items():
            down_for = self.store_down_ns(s)
            info[sid] = (
                (not s.reachable) and s.lost_ns is not None and self.now - s.lost_ns >= peer_down,
                (not s.reachable)
                and s.lost_ns is not None
                and self.now - s.lost_ns > DISCONNECT_NS,
                s.node_state not in (NODE_PREPARING, NODE_SERVING),
                down_for >= max_down and s.state == STATE_UP,
            )
        max_replicas = int(self.replication["max-replicas"])
        replica_budget = int(self.schedule["replica-schedule-limit"]) - self._running(OP_REPLICA)
        targets = self._target_stores()
        counts = self.check_counts
        undersize_mb = int(self.schedule["max-merge-region-size"])
        undersize_keys = int(self.schedule["max-merge-region-keys"])
        busy = self.operators
        checked = min(batch, n)
        undersized = 0
        for _ in range(checked):
            i = self.patrol_cursor
            self.patrol_cursor = (i + 1) % n
            base = i * PEER_SLOTS
            flags = 0
            voters = 0
            need_fix = 0
            fix_slot = -1
            for k in range(PEER_SLOTS):
                sid = rt.pstore[base + k]
                if not sid:
                    continue
                down, pending, offline, store_down = info[sid]
                role = rt.prole[base + k]
                if role == ROLE_VOTER:
                    voters += 1
                else:
                    flags |= LEARNER_PEER | PENDING_PEER
                if down:
                    flags |= DOWN_PEER
                    if store_down and role == ROLE_VOTER:
                        need_fix, fix_slot = 1, k
                if pending:
                    flags |= PENDING_PEER
                if offline:
                    flags |= OFFLINE_PEER
                    if not need_fix and role == ROLE_VOTER:
                        need_fix, fix_slot = 2, k
            if voters < max_replicas:
                flags |= MISS_PEER
            elif voters > max_replicas:
                flags |= EXTRA_PEER
            size_mb = rt.size_kb[i] // 1024
            if size_mb <= 1:
                flags |= EMPTY_REGION
            if size_mb > REGION_MAX_SIZE_MB:
                flags |= OVERSIZED
            elif size_mb < undersize_mb and rt.keys[i] < undersize_keys:
                flags |= UNDERSIZED
                undersized += 1
            old = rt.flags[i]
            if old != flags:
                changed = old ^ flags
                for bit in counts:
                    if changed & bit:
                        counts[bit] += 1 if flags & bit else -1
                rt.flags[i] = flags
            if need_fix and replica_budget > 0 and rt.ids[i] not in busy:
                if self._replace_peer(
                    i,
                    fix_slot,
                    targets,
                    "replace-rule-down-peer" if need_fix == 1 else "replace-rule-offline-peer",
                ):
                    replica_budget -= 1
            elif flags & MISS_PEER and replica_budget > 0 and rt.ids[i] not in busy and voters > 0:
                if self._make_up(i, targets):
                    replica_budget -= 1
        # Placement rules are on, so the rule checker (not the replica checker) patrols; merges
        # are not modelled, so the merge checker only finds regions that need none.
        counters = self.pd_counters
        counters.inc("pd_checker_event_count", ("rule_checker", "check"), checked)
        counters.inc("pd_checker_event_count", ("merge_checker", "check"), checked)
        counters.inc("pd_checker_event_count", ("merge_checker", "no-need"), checked - undersized)

    def _target_stores(self) -> list[Store]:
        good = [s for s in self.stores.values() if self.pd_healthy(s)]
        good.sort(key=lambda s: (self.region_score(s), s.id))
        return good

    def _pick_target(self, i: int, targets: list[Store]) -> Store | None:
        have = set(self.regions.peer_stores(i))
        for s in targets:
            if s.id not in have and s.tokens_add >= 1:
                return s
        if any(s.id not in have for s in targets):
            return None
        self.pd_counters.inc("pd_checker_event_count", ("rule_checker", "no-store-add"))
        return None

    def _replace_peer(self, i: int, slot: int, targets: list[Store], desc: str) -> bool:
        rt = self.regions
        old_sid = rt.pstore[i * PEER_SLOTS + slot]
        target = self._pick_target(i, targets)
        if target is None:
            return False
        target.tokens_add -= 1
        steps = move_peer_steps(rt.leader_store(i), old_sid, target.id, self.alloc_id())
        brief = f"mv peer: store [{old_sid}] to [{target.id}]"
        self.add_operator(i, desc, brief, OP_REPLICA | OP_REGION, steps)
        event = "replace-down" if desc == "replace-rule-down-peer" else "replace-offline"
        self.pd_counters.inc("pd_checker_event_count", ("rule_checker", event))
        self._refresh_target(targets, target)
        return True

    def _make_up(self, i: int, targets: list[Store]) -> bool:
        target = self._pick_target(i, targets)
        if target is None:
            return False
        target.tokens_add -= 1
        steps = add_peer_steps(target.id, self.alloc_id())
        self.add_operator(
            i, "replica-make-up", f"add peer: store [{target.id}]", OP_REPLICA | OP_REGION, steps
        )
        self.pd_counters.inc("pd_checker_event_count", ("rule_checker", "add-rule-peer"))
        self._refresh_target(targets, target)
        return True

    def _refresh_target(self, targets: list[Store], used: Store) -> None:
        if used.tokens_add < 1 and used in targets:
            targets.remove(used)
            targets.append(used)
