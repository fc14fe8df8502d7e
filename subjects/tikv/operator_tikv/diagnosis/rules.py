"""The TiKV rulebook: the invariant that fired picks the candidates, the evidence settles the cause.

For a store's symptom the store's own evidence comes first (``weighing.own``); a store
gone elsewhere competes only for the symptoms it causes there (``weighing.foreign``).
An invariant with no rule, or a rule with nothing to point at, falls back to the
strongest evidence in the cluster.
"""

from __future__ import annotations

from collections.abc import Callable

from operator_tikv.diagnosis import causes, families
from operator_tikv.diagnosis.availability import (
    down_candidates,
    no_answer,
    pd_leader_lost,
    store_gone,
)
from operator_tikv.diagnosis.candidates import Candidate, chosen_only, decide
from operator_tikv.diagnosis.errors import critical_error
from operator_tikv.diagnosis.evidence import DISK_USED, HOT_STORE_SHARE, SLOW_SCORE, Evidence
from operator_tikv.diagnosis.performance import (
    disk_full,
    hot_region,
    leader_imbalance,
    overload,
    slow_disk,
    write_stall,
)
from operator_tikv.diagnosis.weighing import ALL_BUSY, HOT, LOAD, foreign, own
from operator_tikv.figures import pd_figures
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.findings import Finding, option

Rule = Callable[[Evidence, int | None], Finding]


def diagnose(ctx: DiagnosisContext) -> Finding:
    ev = Evidence(ctx)
    fam = families.family(ctx.ticket.invariant)
    rule = RULES.get(fam or "")
    if rule is None:
        return chosen_only(scan(ev, ctx.ticket.store_id))
    return rule(ev, ctx.ticket.store_id)


def _family(ev: Evidence) -> str | None:
    return families.family(ev.ctx.ticket.invariant)


def down_or_partition(ev: Evidence, sid: int | None) -> Finding:
    """Killed or cut off, read from the store itself (its status port, its own reports of
    peers it cannot reach), never from how long PD has missed it."""
    if sid is None:
        dead = ev.dead_stores()
        if not dead:
            return chosen_only(scan(ev, sid))
        sid = dead[0]
    cut_off = _family(ev) == families.PARTITION
    return decide(
        down_candidates(ev, sid, cut_off)
        + [c for c in own(ev, sid, families.CRITICAL) if c.cause == causes.CRITICAL_ERROR],
        lambda: store_gone(ev, sid),
    )


def _worst(ev: Evidence, sid: int | None, measure: Callable[[int], float]) -> int | None:
    return sid if sid is not None else max(ev.store_ids(), key=measure, default=None)


def on_store(natural: Callable[[Evidence, int], Finding], measure_name: str) -> Rule:
    """A store's own condition (slow score, stall, full disk, critical error): its own
    evidence is weighed; stores gone elsewhere are listed, and cannot explain it."""

    def rule(ev: Evidence, sid: int | None) -> Finding:
        target = _worst(ev, sid, getattr(ev, measure_name))
        if target is None:
            return chosen_only(scan(ev, None))
        fam = _family(ev)
        return decide(
            own(ev, target, fam) + foreign(ev, target, fam, ev.ctx.ticket.invariant),
            lambda: natural(ev, target),
        )

    return rule


def replica(ev: Evidence, sid: int | None) -> Finding:
    """Missing replicas come from a store gone (PD re-creates them elsewhere)."""
    candidates = foreign(ev, None, families.REPLICA, ev.ctx.ticket.invariant)
    return decide(candidates, lambda: scan(ev, sid))


def balance(ev: Evidence, sid: int | None) -> Finding:
    """Uneven leaders: a store gone moved its leaders to the others; a hot spot pulls load to
    its leader's store; otherwise PD's balancer is behind."""
    candidates = foreign(ev, None, families.BALANCE, ev.ctx.ticket.invariant)
    share = ev.hot_store_share()
    if share and share[1] >= HOT_STORE_SHARE:
        candidates.append(
            Candidate(
                causes.HOT_REGION,
                share[0],
                HOT,
                lambda: hot_region(ev, share[0]),
                [f"Store {share[0]} leads {share[1]:.0%} of the hot write flow."],
            )
        )
    candidates.append(
        Candidate(
            causes.OVERLOAD,
            sid if sid is not None else "cluster",
            LOAD,
            lambda: leader_imbalance(ev, sid),
            ["Leader counts differ between stores."],
        )
    )
    return decide(candidates, lambda: leader_imbalance(ev, sid))


def latency(ev: Evidence, sid: int | None) -> Finding:
    """Slow requests or lagging logs: the store's own slow disk, stall, full disk, critical
    error or hot spot first; then a store gone elsewhere (its leaders and load came here);
    then load."""
    fam = _family(ev)
    ids = [sid] if sid is not None else ev.store_ids()
    candidates: list[Candidate] = []
    for store in ids:
        mine = own(ev, store, fam)
        candidates += mine if sid is not None else [c for c in mine if c.strength > 0]
    candidates += foreign(ev, sid, fam, ev.ctx.ticket.invariant)
    busy = ev.all_busy()
    candidates.append(
        Candidate(
            causes.OVERLOAD,
            "cluster" if busy or sid is None else sid,
            ALL_BUSY if busy else LOAD,
            lambda: overload(ev, sid),
            ev.load_rises(sid) if sid is not None else [],
            [] if busy else ["Not every store is busy."],
        )
    )
    return decide(candidates, lambda: overload(ev, sid))


def scan(ev: Evidence, sid: int | None) -> Finding:
    """No rule for the invariant: follow the strongest evidence in the cluster.

    A store gone, PD's quorum, a critical error, a slow disk; then a write stall RocksDB
    names a reason for (flush or compaction debt slowing every write now) before a disk
    past PD's ``low-space-ratio``, which stops PD placing regions there but leaves writes
    alone until TiKV's ``reserve-space`` (raftstore then rejects them, DiskFull); a stall
    with no reason named comes after the full disk, which may be what throttles it.
    """
    dead = ev.dead_stores()
    if dead:
        return store_gone(ev, dead[0])
    pd = pd_figures(ev.ctx.cluster)
    if pd.pd_members_total and pd.pd_members_healthy < pd.pd_members_total:
        return pd_leader_lost(ev)
    ids = ev.store_ids()
    if ids:
        broken = max(ids, key=lambda s: (ev.critical_errors(s), ev.panics(s)))
        if ev.critical_errors(broken) > 0 or ev.panics(broken):
            return critical_error(ev, broken)
        worst = max(ids, key=ev.slow_score)
        if ev.slow_score(worst) >= SLOW_SCORE:
            return slow_disk(ev, worst)
        stalled = max(ids, key=ev.write_stall)
        named = [s for s in ids if ev.write_stall(s) > 0 and ev.stall_reason(s) is not None]
        if named:
            return write_stall(ev, max(named, key=ev.write_stall))
        full = max(ids, key=ev.used_ratio)
        if ev.used_ratio(full) >= DISK_USED:
            return disk_full(ev, full)
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
    families.UNANSWERED: lambda ev, _sid: chosen_only(no_answer(ev)),
    families.PD: lambda ev, _sid: chosen_only(pd_leader_lost(ev)),
    families.PARTITION: down_or_partition,
    families.DOWN: down_or_partition,
    families.SLOW: on_store(slow_disk, "slow_score"),
    families.DISK: on_store(disk_full, "used_ratio"),
    families.HOT: lambda ev, sid: chosen_only(hot_region(ev, sid)),
    families.STALL: on_store(write_stall, "write_stall"),
    families.CRITICAL: on_store(critical_error, "critical_errors"),
    families.REPLICA: replica,
    families.BALANCE: balance,
    families.LATENCY: latency,
    families.LAG: latency,
}
