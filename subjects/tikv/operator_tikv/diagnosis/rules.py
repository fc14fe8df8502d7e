"""The TiKV rulebook: the invariant that fired picks a rule, the evidence settles the cause.

A consequence (latency, lag, imbalance, missing replicas, stall) with a store
gone elsewhere is explained by that store. An invariant with no rule, or a rule
with nothing to point at, falls back to the strongest evidence in the cluster.
"""

from __future__ import annotations

from collections.abc import Callable

from operator_tikv.diagnosis import causes, families
from operator_tikv.diagnosis.availability import (
    no_answer,
    partition,
    pd_leader_lost,
    store_down,
    store_gone,
)
from operator_tikv.diagnosis.evidence import DISK_USED, SLOW_SCORE, Evidence
from operator_tikv.diagnosis.performance import (
    disk_full,
    hot_region,
    leader_imbalance,
    overload,
    slow_disk,
    write_stall,
)
from operator_tikv.figures import pd_figures
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.findings import Finding, option

HOT_STORE_SHARE = 0.6

Rule = Callable[[Evidence, int | None], Finding]


def diagnose(ctx: DiagnosisContext) -> Finding:
    ev = Evidence(ctx)
    ticket = ctx.ticket
    fam = families.family(ticket.invariant)
    sid = ticket.store_id
    if fam in families.CONSEQUENCES:
        dead = [d for d in ev.dead_stores() if d != sid]
        if dead:
            finding = store_gone(ev, dead[0])
            finding.evidence.insert(
                0,
                f"`{ticket.invariant}` on {ticket.target} follows from store {dead[0]} being gone.",
            )
            finding.confidence = min(finding.confidence, 0.75)
            return finding
    return RULES.get(fam or "", scan)(ev, sid)


def down_or_partition(ev: Evidence, sid: int | None) -> Finding:
    if sid is None:
        dead = ev.dead_stores()
        if not dead:
            return scan(ev, sid)
        sid = dead[0]
    cut_off = families.family(ev.ctx.ticket.invariant) == families.PARTITION
    reachable = ev.reachable(sid)
    if reachable is True and (cut_off or ev.is_down_state(sid)):
        return partition(ev, sid)
    if reachable is None and cut_off:
        return partition(ev, sid)
    return store_down(ev, sid)


def _worst(ev: Evidence, sid: int | None, measure: Callable[[int], float]) -> int | None:
    return sid if sid is not None else max(ev.store_ids(), key=measure, default=None)


def slow(ev: Evidence, sid: int | None) -> Finding:
    sid = _worst(ev, sid, ev.slow_score)
    return scan(ev, None) if sid is None else slow_disk(ev, sid)


def disk(ev: Evidence, sid: int | None) -> Finding:
    sid = _worst(ev, sid, ev.used_ratio)
    return scan(ev, None) if sid is None else disk_full(ev, sid)


def stall(ev: Evidence, sid: int | None) -> Finding:
    sid = _worst(ev, sid, ev.write_stall)
    return scan(ev, None) if sid is None else write_stall(ev, sid)


def replica(ev: Evidence, sid: int | None) -> Finding:
    dead = ev.dead_stores()
    return store_gone(ev, dead[0]) if dead else scan(ev, sid)


def balance(ev: Evidence, sid: int | None) -> Finding:
    share = ev.hot_store_share()
    if share and share[1] >= HOT_STORE_SHARE:
        return hot_region(ev, share[0])
    return leader_imbalance(ev, sid)


def latency(ev: Evidence, sid: int | None) -> Finding:
    """Slow requests: a slow disk, a stall or a hot spot explains them before load does."""
    ids = [sid] if sid is not None else ev.store_ids()
    worst = max(ids, key=ev.slow_score, default=None)
    if worst is not None and ev.slow_score(worst) >= SLOW_SCORE:
        return slow_disk(ev, worst)
    stalled = max(ids, key=ev.write_stall, default=None)
    if stalled is not None and ev.write_stall(stalled) > 0:
        return write_stall(ev, stalled)
    share = ev.hot_store_share()
    if share and share[1] >= HOT_STORE_SHARE and (sid is None or share[0] == sid):
        return hot_region(ev, share[0])
    return overload(ev, sid)


def scan(ev: Evidence, sid: int | None) -> Finding:
    """No rule for the invariant: follow the strongest evidence in the cluster."""
    dead = ev.dead_stores()
    if dead:
        return store_gone(ev, dead[0])
    pd = pd_figures(ev.ctx.cluster)
    if pd.pd_members_total and pd.pd_members_healthy < pd.pd_members_total:
        return pd_leader_lost(ev)
    ids = ev.store_ids()
    if ids:
        worst = max(ids, key=ev.slow_score)
        if ev.slow_score(worst) >= SLOW_SCORE:
            return slow_disk(ev, worst)
        full = max(ids, key=ev.used_ratio)
        if ev.used_ratio(full) >= DISK_USED:
            return disk_full(ev, full)
        stalled = max(ids, key=ev.write_stall)
        if ev.write_stall(stalled) > 0:
            return write_stall(ev, stalled)
    share = ev.hot_store_share()
    if share and share[1] >= HOT_STORE_SHARE:
        return hot_region(ev, share[0])
    return Finding(
        cause=causes.UNKNOWN,
        target=sid if sid is not None else "cluster",
        root_cause=f"The rules found no cause for `{ev.ctx.ticket.invariant}` in the current telemetry.",
        options=[
            option("Act on the ticket's store", "no evidence points at a fault there"),
            option(
                "Ignore the ticket",
                "the invariant did fire; keep watching and re-run the diagnosis",
            ),
        ],
        confidence=0.3,
    )


RULES: dict[str, Rule] = {
    families.UNANSWERED: lambda ev, _sid: no_answer(ev),
    families.PD: lambda ev, _sid: pd_leader_lost(ev),
    families.PARTITION: down_or_partition,
    families.DOWN: down_or_partition,
    families.SLOW: slow,
    families.DISK: disk,
    families.HOT: hot_region,
    families.STALL: stall,
    families.REPLICA: replica,
    families.BALANCE: balance,
    families.LATENCY: latency,
    families.LAG: latency,
}
