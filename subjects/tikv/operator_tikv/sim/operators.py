"""PD operators: steps, timeouts and statuses, advanced one step at a time as time passes."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from operator_tikv.sim.elections import Elections
from operator_tikv.sim.encode import NS, go_duration, go_time_string
from operator_tikv.sim.errors import SimError
from operator_tikv.sim.regions import PEER_SLOTS, ROLE_LEARNER, ROLE_VOTER
from operator_tikv.sim.snapshots import Snapshots
from operator_tikv.sim.split import Split

# Operator kind bits (pkg/schedule/operator/kind.go) and status values.
OP_ADMIN, OP_MERGE, OP_RANGE, OP_REPLICA, OP_SPLIT, OP_HOT, OP_REGION, OP_LEADER = (
    1,
    2,
    4,
    8,
    16,
    32,
    64,
    128,
)
KIND_NAMES = (
    (OP_ADMIN, "admin"),
    (OP_MERGE, "merge"),
    (OP_RANGE, "range"),
    (OP_REPLICA, "replica"),
    (OP_SPLIT, "split"),
    (OP_HOT, "hot-region"),
    (OP_REGION, "region"),
    (OP_LEADER, "leader"),
)
# The Go type of each step, the ``type`` of pd_schedule_finish_operator_steps_duration_seconds.
STEP_TYPES = {
    "transfer_leader": "TransferLeader",
    "add_learner": "AddLearner",
    "promote": "PromoteLearner",
    "remove_peer": "RemovePeer",
    "split": "SplitRegion",
}
ST_CREATED, ST_STARTED, ST_SUCCESS, ST_CANCELED, ST_REPLACED, ST_EXPIRED, ST_TIMEOUT = range(7)
STATUS_WORDS = {
    ST_CREATED: "RUNNING",
    ST_STARTED: "RUNNING",
    ST_SUCCESS: "SUCCESS",
    ST_CANCELED: "CANCEL",
    ST_REPLACED: "REPLACE",
    ST_EXPIRED: "TIMEOUT",
    ST_TIMEOUT: "TIMEOUT",
}


@dataclass(slots=True)
class Step:
    kind: str  # transfer_leader | add_learner | promote | remove_peer | split
    store: int = 0
    to_store: int = 0
    peer_id: int = 0
    policy: str = "APPROXIMATE"


@dataclass(slots=True)
class Operator:
    region_id: int
    desc: str
    brief: str
    kind: int
    steps: list[Step]
    created_ns: int
    epoch: tuple[int, int]
    size_mb: int
    timeout_ns: int
    started_ns: int = 0
    current: int = 0
    status: int = ST_CREATED
    finished_ns: int = 0
    due_ns: int = 0
    step_ns: int = 0


def add_peer_steps(store: int, peer_id: int) -> list[Step]:
    """A new voter joins as a learner, catches up from a snapshot, then is promoted."""
    return [
        Step("add_learner", store=store, peer_id=peer_id),
        Step("promote", store=store, peer_id=peer_id),
    ]


def move_peer_steps(leader_store: int, src: int, dst: int, peer_id: int) -> list[Step]:
    """Add the new peer, hand leadership over if the old peer holds it, then remove the old one."""
    steps = add_peer_steps(dst, peer_id)
    if leader_store == src:
        steps.append(Step("transfer_leader", store=src, to_store=dst))
    steps.append(Step("remove_peer", store=src))
    return steps


class Operators(Elections, Snapshots, Split):
    """Creating, running, finishing and rendering operators."""

    def op_string(self, op: Operator) -> str:
        kinds = ",".join(name for bit, name in KIND_NAMES if op.kind & bit)
        steps = ", ".join(f"{k}:{{{self._step_text(s)}}}" for k, s in enumerate(op.steps))
        created = self._go_time(op.created_ns)
        started = self._go_time(op.started_ns) if op.started_ns else "0001-01-01 00:00:00 +0000 UTC"
        text = (
            f"{op.desc} {{{op.brief}}} (kind:{kinds}, region:{op.region_id}({op.epoch[1]}, {op.epoch[0]}), "
            f"createAt:{created}, startAt:{started}, currentStep:{op.current}, size:{op.size_mb}, "
            f"steps:[{steps}], timeout:[{go_duration(op.timeout_ns)}])"
        )
        if op.status == ST_SUCCESS:
            text += " finished"
        elif op.status == ST_TIMEOUT:
            text += " timeout"
        return text

    def _go_time(self, ns: int) -> str:
        return go_time_string(ns, ns - self.mono0)

    @staticmethod
    def _step_text(s: Step) -> str:
        if s.kind == "transfer_leader":
            return f"transfer leader from store {s.store} to store {s.to_store}"
        if s.kind == "add_learner":
            return f"add learner peer {s.peer_id} on store {s.store}"
        if s.kind == "promote":
            return f"promote learner peer {s.peer_id} on store {s.store} to voter"
        if s.kind == "remove_peer":
            return f"remove peer on store {s.store}"
        return f"split region with policy {s.policy}"

    def op_object(self, op: Operator) -> dict[str, Any]:
        return {
            "desc": op.desc,
            "brief": op.brief,
            "region_id": op.region_id,
            "region_epoch": {"conf_ver": op.epoch[0], "version": op.epoch[1]},
            "kind": op.kind,
            "timeout": go_duration(op.timeout_ns),
            "status": op.status,
        }

    def add_operator(self, i: int, desc: str, brief: str, kind: int, steps: list[Step]) -> Operator:
        rt = self.regions
        rid = rt.ids[i]
        if rid in self.operators:
            self._count_op(desc, "already-have")
            raise SimError(
                500, "[PD:operator:ErrAddOperator]failed to add operator, maybe already have one"
            )
        size_mb = max(1, rt.size_kb[i] // 1024)
        timeout = 0
        for s in steps:
            if s.kind in ("add_learner",):
                timeout += max(600 * NS, int(6 * size_mb * NS))
            else:
                timeout += max(60 * NS, int(0.6 * size_mb * NS))
        op = Operator(
            rid,
            desc,
            brief,
            kind,
            steps,
            self.now,
            (rt.conf_ver[i], rt.version[i]),
            size_mb,
            timeout,
        )
        self.operators[rid] = op
        self._count_op(desc, "create")
        self.pd_counters.observe(
            "pd_schedule_operator_region_size", (desc,), 1, float(size_mb), 0.1
        )
        op.started_ns = self.now
        op.status = ST_STARTED
        self._count_op(desc, "start")
        self._schedule_step(op)
        return op

    def _schedule_step(self, op: Operator) -> None:
        s = op.steps[op.current]
        i = self.regions.by_id[op.region_id]
        if s.kind == "add_learner":
            secs = 1.0 + (self.regions.size_kb[i] / 1024) / 50.0
            dur = int(secs * NS)
        else:
            dur = NS
        op.due_ns = self.now + dur
        op.step_ns = self.now
        lead = self.regions.leader_store(i)
        if lead:
            self.pd_counters.inc(
                "pd_hbstream_region_message", (self.stores[lead].address, str(lead), "push", "ok")
            )
        self.op_seq += 1
        heapq.heappush(self.op_events, (op.due_ns, self.op_seq, op.region_id))
        if s.kind == "add_learner":
            self._begin_snapshot(i, s)

    def _run_operators(self) -> None:
        while self.op_events and self.op_events[0][0] <= self.now:
            _, _, rid = heapq.heappop(self.op_events)
            op = self.operators.get(rid)
            if op is None:
                continue
            if op.due_ns > self.now:
                continue
            if self.now - op.started_ns > op.timeout_ns:
                self._finish(op, ST_TIMEOUT)
                continue
            self._count_op(op.desc, "check")
            if self._apply_step(op):
                step_s = max(self.now - op.step_ns, 1) / NS
                self.pd_counters.observe(
                    "pd_schedule_finish_operator_steps_duration_seconds",
                    (STEP_TYPES[op.steps[op.current].kind],),
                    1,
                    step_s,
                    0.2,
                )
                op.current += 1
                if op.current >= len(op.steps):
                    self._finish(op, ST_SUCCESS)
                else:
                    self._schedule_step(op)
            else:
                op.due_ns = self.now + NS
                self.op_seq += 1
                heapq.heappush(self.op_events, (op.due_ns, self.op_seq, rid))

    def _finish(self, op: Operator, status: int) -> None:
        op.status = status
        op.finished_ns = self.now
        self.operators.pop(op.region_id, None)
        self.finished_ops[op.region_id] = op
        event = {ST_SUCCESS: "finish", ST_CANCELED: "cancel"}.get(status, "timeout")
        self._count_op(op.desc, event)
        if status == ST_SUCCESS:
            self.pd_counters.observe(
                "pd_schedule_finish_operators_duration_seconds",
                (op.desc,),
                1,
                max(self.now - op.created_ns, 1) / NS,
                0.2,
            )
        i = self.regions.by_id.get(op.region_id)
        for s in op.steps:
            if s.kind == "add_learner" and i is not None:
                self.stores[s.store].receiving_snaps = max(
                    0, self.stores[s.store].receiving_snaps - 1
                )

    def cancel_operator(self, region_id: int) -> None:
        op = self.operators.get(region_id)
        if op is None:
            raise SimError(500, "[PD:operator:ErrOperatorNotFound]operator not found")
        self._finish(op, ST_CANCELED)

    def _expire_finished(self) -> None:
        if not self.finished_ops:
            return
        cutoff = self.now - 600 * NS
        for rid in [r for r, op in self.finished_ops.items() if op.finished_ns < cutoff]:
            del self.finished_ops[rid]

    def _apply_step(self, op: Operator) -> bool:
        rt = self.regions
        i = rt.by_id[op.region_id]
        s = op.steps[op.current]
        base = i * PEER_SLOTS
        if s.kind == "transfer_leader":
            slot = rt.slot_of_store(i, s.to_store)
            target = self.stores.get(s.to_store)
            if slot < 0 or target is None or not target.reachable:
                return False
            if rt.leader[i] >= 0 and not self.stores[rt.leader_store(i)].reachable:
                return False
            if rt.leader_store(i) != s.to_store:
                old_pid = rt.pid[base + rt.leader[i]] if rt.leader[i] >= 0 else 0
                old_sid = rt.leader_store(i)
                old_term = rt.term[i]
                rt.term[i] = old_term + 1
                self._set_leader(i, slot)
                self._log_transfer(i, slot, old_sid, old_pid, old_term)
            return True
        if s.kind == "add_learner":
            target = self.stores.get(s.store)
            lead = rt.leader_store(i)
            if (
                target is None
                or not target.reachable
                or not lead
                or not self.stores[lead].reachable
            ):
                return False
            if rt.slot_of_store(i, s.store) >= 0:
                return True
            slot = rt.free_slot(i)
            if slot < 0:
                return False
            self._add_peer(i, slot, s.store, s.peer_id, ROLE_LEARNER)
            rt.conf_ver[i] += 1
            self._end_snapshot(i, s)
            return True
        if s.kind == "promote":
            slot = rt.slot_of_store(i, s.store)
            if slot < 0:
                return False
            pos = base + slot
            if rt.prole[pos] == ROLE_LEARNER:
                rt.prole[pos] = ROLE_VOTER
                self.stores[s.store].learner_count -= 1
                rt.conf_ver[i] += 1
            return True
        if s.kind == "remove_peer":
            slot = rt.slot_of_store(i, s.store)
            if slot < 0:
                return True
            if rt.leader[i] == slot and not self._step_down(i, slot):
                return False
            lead = rt.leader_store(i)
            if not lead or not self.stores[lead].reachable:
                return False
            self._remove_peer(i, slot)
            rt.conf_ver[i] += 1
            self._log_conf_change(
                lead,
                f"[change_type: RemoveNode peer {{ id: {rt.pid[base + slot] or 0} store_id: {s.store} }}]",
                rt.pid[base + rt.leader[i]],
                rt.ids[i],
            )
            return True
        if s.kind == "split":
            lead = rt.leader_store(i)
            if not lead or not self.stores[lead].reachable:
                return False
            self._split(i, "admin")
            return True
        return False

    def _running(self, bit: int) -> int:
        return sum(1 for op in self.operators.values() if op.kind & bit and not op.kind & OP_ADMIN)
