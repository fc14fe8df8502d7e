"""Recommendations that know the cluster: each carries PD's current value and goes the way its rationale says.

A rationale says which way a figure must move ("re-create replicas faster" means more
concurrent replica operators). ``limit`` reads PD's current schedule limit from the
snapshot and proposes twice PD's default: the defaults (leader 4, region 2048, replica 64;
tikv/pd pkg/schedule/config/config.go) are what PD ships for a healthy cluster, and a
repair or a rebalance goes faster with more operators in flight. When PD already runs at
or above that, or its value was not read, nothing is proposed and the reason is listed
among the options: an action whose direction contradicts its rationale is never offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from operator_tikv.diagnosis.evidence import Evidence
from operator_tikv.figures import pd_figures
from operator_tui.core.diagnosis.findings import declared_action, option
from operator_tui.core.diagnosis.schema import OptionConsidered, RecommendedAction

Direction = Literal["raise", "lower"]


@dataclass(frozen=True, slots=True)
class Limit:
    figure: str
    key: str
    default: int


LIMITS = {
    "set_leader_schedule_limit": Limit("leader_schedule_limit", "leader-schedule-limit", 4),
    "set_region_schedule_limit": Limit("region_schedule_limit", "region-schedule-limit", 2048),
    "set_replica_schedule_limit": Limit("replica_schedule_limit", "replica-schedule-limit", 64),
}


def goes(direction: Direction, current: float, proposed: float) -> bool:
    """Whether ``current -> proposed`` moves the way ``direction`` says (a no-op does not)."""
    return proposed > current if direction == "raise" else proposed < current


@dataclass(slots=True)
class Proposal:
    """What a rule proposes: the actions, and the changes it considered but withheld."""

    actions: list[RecommendedAction]
    withheld: list[OptionConsidered]

    def add(self, action: RecommendedAction | None) -> None:
        if action is not None:
            self.actions.append(action)


def limit(
    ev: Evidence, action: str, rationale: str, risk: str, direction: Direction = "raise"
) -> tuple[RecommendedAction | None, OptionConsidered | None]:
    """A schedule-limit change from PD's current value, or why none is proposed."""
    spec = LIMITS[action]
    current = getattr(pd_figures(ev.ctx.cluster), spec.figure)
    verb = "Raise" if direction == "raise" else "Lower"
    if current is None:
        return None, option(
            f"{verb} PD's {spec.key}",
            "PD's current value was not read this tick, so the change cannot be checked against it",
        )
    proposed = spec.default * 2 if direction == "raise" else max(1, spec.default // 2)
    if not goes(direction, current, proposed):
        return None, option(
            f"{verb} PD's {spec.key} to {proposed}",
            f"PD already runs it at {current}: that would not move it the way the rationale needs",
        )
    return declared_action(
        ev.ctx, action, rationale, risk, current={"n": current}, n=proposed
    ), None


def evict_leader(ev: Evidence, sid: int, rationale: str) -> RecommendedAction | None:
    """PD's evict-leader scheduler for a store that still serves and still leads regions and
    that PD does not already evict (its persisted schedulers, when read)."""
    s = ev.ctx.store(sid)
    if s is None or ev.reachable(sid) is False or ev.is_down_state(sid):
        return None
    if s.leader_count <= 0:
        return None
    evicting = pd_figures(ev.ctx.cluster).evict_leader_stores
    if evicting is not None and sid in evicting:
        return None
    current: dict[str, object] = {"leaders": s.leader_count}
    if evicting is not None:
        current["evicting"] = False
    return declared_action(
        ev.ctx, "evict_leader", rationale, "medium", current=current, store_id=sid
    )
