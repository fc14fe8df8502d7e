"""Is PD itself well: member health, and a leader that just changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from operator_tikv.figures import pd_figures
from operator_tikv.invariants import names
from operator_tikv.invariants.check import ClusterTick, Report, cluster_check
from operator_tui.core.monitor import EPISODE
from operator_tui.core.types import Severity


@cluster_check(
    names.PD_MEMBER_UNHEALTHY,
    Severity.CRITICAL,
    "A PD member fails its health check (critical when a majority does).",
    grace="pd_member_grace_s",
)
def pd_member_unhealthy(t: ClusterTick, out: Report) -> None:
    """From PD's ``/health``; critical once no majority is healthy (PD's raft quorum is gone)."""
    c = pd_figures(t.snap.cluster)
    if names.PD_HEALTH in t.unmeasured:
        out.unmeasured()
    elif c.pd_members_total and c.pd_members_healthy < c.pd_members_total:
        bad = c.pd_members_total - c.pd_members_healthy
        unhealthy = t.snap.extra.get("pd_unhealthy_members", [])
        out.fire(
            f"{bad} of {c.pd_members_total} PD members unhealthy"
            + (f": {', '.join(unhealthy)}" if unhealthy else ""),
            severity=Severity.CRITICAL
            if c.pd_members_healthy * 2 <= c.pd_members_total
            else Severity.WARNING,
            unhealthy=unhealthy,
            healthy=c.pd_members_healthy,
            total=c.pd_members_total,
        )


@dataclass(slots=True)
class LeaderWatch:
    """The PD leader last seen, and the latest change while it is still reported."""

    leader: str | None = None
    change: tuple[str, str, datetime] | None = None


@cluster_check(
    names.PD_LEADER_CHANGED,
    Severity.WARNING,
    lambda s: (
        f"The PD leader changed (reported for {s.pd_leader_changed_hold_s:g} s after the change)."
    ),
    memory=LeaderWatch,
)
def pd_leader_changed(t: ClusterTick, out: Report) -> None:
    """Fires at once and holds for ``pd_leader_changed_hold_s``; a tick without PD's
    members is not taken as a change."""
    watch: LeaderWatch = out.memory
    leader = pd_figures(t.snap.cluster).pd_leader
    now = t.snap.taken_at
    if names.PD_MEMBERS not in t.unmeasured and leader:
        if watch.leader is not None and leader != watch.leader:
            watch.change = (watch.leader, leader, now)
        watch.leader = leader
    if watch.change is None:
        return
    old, new, at = watch.change
    if (now - at).total_seconds() < t.settings.pd_leader_changed_hold_s:
        out.fire(
            f"PD leader changed from {old} to {new}",
            previous=old,
            current=new,
            changed_at=at.isoformat(),
            **{EPISODE: f"{old}->{new}@{at.isoformat()}"},
        )
    else:
        watch.change = None
