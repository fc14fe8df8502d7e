"""Every TiKV check in the order ``specs()`` lists them, and the checker that runs them each tick."""

from __future__ import annotations

from typing import Any

from operator_tikv.invariants import capacity, latency, pd, regions, stores
from operator_tikv.invariants.check import Check, ClusterTick, Report, StoreTick
from operator_tikv.invariants.reachability import cut_off_stores, reachability
from operator_tikv.invariants.settings import InvariantSettings
from operator_tikv.states import GONE
from operator_tui.core.invariants import Findings, GraceTracker
from operator_tui.core.subject import InvariantSpec
from operator_tui.core.types import Snapshot, Violation

CHECKS: tuple[Check, ...] = (
    stores.store_down,
    stores.store_disconnected,
    latency.high_write_latency,
    capacity.low_disk,
    regions.under_replicated,
    regions.leader_imbalance,
    regions.hot_write_region,
    latency.raft_log_lag,
    latency.write_stall,
    stores.slow_store,
    stores.critical_error,
    pd.pd_member_unhealthy,
    pd.pd_leader_changed,
)


def specs(settings: InvariantSettings) -> tuple[InvariantSpec, ...]:
    return tuple(check.spec(settings) for check in CHECKS)


class InvariantChecker:
    """Runs ``CHECKS`` over each snapshot; ``GraceTracker`` decides what is due."""

    def __init__(self, settings: InvariantSettings | None = None) -> None:
        self.settings = settings or InvariantSettings()
        per_store = [c for c in CHECKS if c.scope == "store"]
        self._store_checks = sorted(per_store, key=lambda c: not c.exclusive)
        self._cluster_checks = [c for c in CHECKS if c.scope == "cluster"]
        self._grace = GraceTracker()
        self._memory: dict[str, Any] = {}
        self.reset()

    def reset(self) -> None:
        self._grace.reset()
        self._memory = {c.name: c.memory() for c in CHECKS if c.memory is not None}

    def evaluate(self, snap: Snapshot) -> list[Violation]:
        s = self.settings
        found = Findings()
        cut = cut_off_stores(snap, s.unreachable_report_min_per_s, s.unreachable_reporters_min)
        # One report per check, retargeted store by store: at 1000 stores a report per
        # (check, store) was 8,000 objects a tick.
        reports = [(check, self._report(check, found, None)) for check in self._store_checks]
        for store in snap.stores:
            if store.state in GONE:
                continue
            m = snap.store_metrics.get(store.id)
            tick = StoreTick(store, m, reachability(m), cut.get(store.id), snap.taken_at, s)
            for check, report in reports:
                report.store_id = store.id
                report.fired = False
                check.run(tick, report)
                if check.exclusive and report.fired:
                    break
        cluster = ClusterTick(snap, s, frozenset(snap.extra.get("unmeasured", ())))
        for check in self._cluster_checks:
            check.run(cluster, self._report(check, found, None))
        return self._grace.settle(found, snap.taken_at)

    def _report(self, check: Check, found: Findings, store_id: int | None) -> Report:
        return Report(check, found, self.settings, store_id, self._memory.get(check.name))
