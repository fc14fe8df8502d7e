"""Rules for a store that serves but badly: slow disk, full disk, write stall, hot spot, load.

Each takes the store the evidence points at (or ``None`` for the cluster) and
says why, what was weighed, and which declared action relieves it.
"""

from __future__ import annotations

from operator_tikv.diagnosis import causes
from operator_tikv.diagnosis.evidence import (
    DISK_USED,
    HIGH_CPU,
    SLOW_SCORE,
    STALL_REASONS,
    Evidence,
)
from operator_tikv.diagnosis.proposals import evict_leader, limit
from operator_tui.core.diagnosis.findings import (
    Finding,
    Target,
    declared_action,
    declared_actions,
    option,
)
from operator_tui.core.diagnosis.schema import RecommendedAction
from operator_tui.core.units import ms, per_s


def _voter_targets(ev: Evidence, region: int, sid: int) -> list[int]:
    """Stores holding a voter of the region, other than ``sid`` (PD refuses a transfer-leader
    to a store without one: "region has no voter in store N")."""
    peers = {
        p
        for h in ev.ctx.hot_regions
        if h.range_id == region
        for p in (h.peer_store_ids or [h.store_id])
    }
    return sorted(p for p in peers if p != sid)


def leader_moves(ev: Evidence, sid: int, why: str) -> list[RecommendedAction]:
    """Move the store's hottest leaders to the least loaded store holding a voter of each,
    else let PD's balancer do it (raising its leader limit from PD's current value)."""
    regions = [h for h in ev.ctx.hot_regions if h.primary and h.store_id == sid]
    out: list[RecommendedAction] = []
    for h in sorted(regions, key=lambda h: -h.flow_bytes)[:2]:
        voters = _voter_targets(ev, h.range_id, sid)
        to = ev.coolest_store(sid, among=voters or None)
        if to is None:
            continue
        a = declared_action(
            ev.ctx,
            "transfer_leader",
            why,
            "low",
            current={"to_store_id": sid},
            region_id=h.range_id,
            to_store_id=to,
        )
        if a is not None:
            out.append(a)
    if not out:
        a, _ = limit(ev, "set_leader_schedule_limit", why, "low")
        if a is not None:
            out.append(a)
    return out


def slow_disk(ev: Evidence, sid: int) -> Finding:
    """TiKV's slow score (1 to 100) rises as raftstore's inspected disk writes take long
    (components/health_controller slow_score.rs); PD calls a store slow at 80 and its own
    evict-slow-store scheduler takes its leaders at 100 (pkg/schedule/schedulers/
    evict_slow_store.go). Moving the leaders off is what an operator does first."""
    m = ev.ctx.metrics(sid)
    score = ev.slow_score(sid)
    evidence = [f"Store {sid}'s slow score is {score:g} (healthy stores sit near 1)."]
    if m and m.p99_write_latency_ms is not None:
        evidence.append(f"Its p99 write latency is {ms(m.p99_write_latency_ms)}.")
    slow_ops = ev.log_kinds(sid)["slow_operation"]
    if slow_ops:
        evidence.append(f"{slow_ops} slow-operation log events on store {sid}.")
    store = ev.ctx.store(sid)
    leads_nothing = store is not None and store.leader_count == 0
    if leads_nothing:
        actions: list[RecommendedAction] = []
        evidence.append(f"Store {sid} leads no region now.")
    else:
        actions = declared_actions(
            evict_leader(
                ev,
                sid,
                f"Have PD move every leader off store {sid} (evict-leader scheduler) so writes "
                "are no longer led from the slow disk; remove the scheduler once it recovers.",
            )
        ) or leader_moves(
            ev, sid, f"Move leaders off store {sid} so writes are no longer led from the slow disk."
        )
    return Finding(
        cause=causes.SLOW_DISK,
        target=sid,
        root_cause=f"Store {sid}'s disk is slow: raft log appends and applies take long, so writes led by it are slow.",
        evidence=evidence,
        options=[
            option(
                f"Drain store {sid}",
                "moves all its data onto the others; too heavy while the disk still works",
            ),
            option(
                "Add capacity or throttle clients",
                "the rest of the cluster is healthy; only one store's disk is slow",
            ),
            option("Split the hot regions", "splitting does not make a slow disk faster"),
            *(
                [
                    option(
                        f"Move leaders off store {sid}",
                        "it leads none now (PD's evict-slow-store scheduler takes a slow "
                        "store's leaders); replace or repair the disk",
                    )
                ]
                if leads_nothing
                else []
            ),
        ],
        actions=actions,
        confidence=0.85 if score >= SLOW_SCORE else 0.65,
    )


def disk_full(ev: Evidence, sid: int) -> Finding:
    """PD stops placing regions on a store past ``low-space-ratio`` (0.8) and moves them off
    it; more concurrent region operators move them sooner."""
    moving, withheld = limit(
        ev,
        "set_region_schedule_limit",
        f"Let PD move regions off store {sid} faster so it stops filling.",
        "medium",
    )
    used = ev.used_ratio(sid)
    s = ev.ctx.store(sid)
    evidence = [f"Store {sid} has used {used:.0%} of its capacity."]
    if s and s.capacity_bytes:
        evidence.append(
            f"Available {s.available_bytes / 2**30:.1f} GiB of {s.capacity_bytes / 2**30:.1f} GiB."
        )
    if ev.log_kinds(sid)["disk_space"]:
        evidence.append(f"Store {sid} logs low disk space.")
    return Finding(
        cause=causes.DISK_FULL,
        target=sid,
        root_cause=f"Store {sid} is running out of disk space; once below the low-space threshold PD stops placing data there and writes may stall.",
        evidence=evidence,
        options=[
            option(
                f"Drain store {sid}",
                "draining needs free space on the others and takes long; first slow the growth",
            ),
            option(
                "Raise the low-space threshold",
                "it only hides the condition; the disk still fills",
            ),
            option("Do nothing", "writes fail once the disk is full"),
            *([withheld] if withheld else []),
        ],
        actions=declared_actions(moving),
        confidence=0.9 if used >= DISK_USED else 0.7,
    )


def hot_region(ev: Evidence, sid: int | None) -> Finding:
    hottest = ev.hottest()
    if hottest is None:
        return Finding(
            cause=causes.HOT_REGION,
            target=sid if sid is not None else "cluster",
            root_cause="Write load is concentrated on a few regions.",
            options=[
                option(
                    "Add stores",
                    "the load is on a key range, not on the cluster's total capacity",
                ),
                option("Wait", "a hot spot persists while the workload keeps its key distribution"),
            ],
            confidence=0.6,
        )
    region, leader, share = hottest
    to = ev.coolest_store(leader, among=_voter_targets(ev, region, leader) or None)
    return Finding(
        cause=causes.HOT_REGION,
        target=sid if sid is not None else leader,
        root_cause=f"Region {region} carries {share:.0%} of the hot write flow and its leader sits on store {leader}, which takes the load.",
        evidence=[
            f"Hottest write region {region}, leader on store {leader}, {share:.0%} of hot write bytes."
        ],
        options=[
            option(
                "Add stores",
                "a single hot key range is not helped by more stores until it is split",
            ),
            option(f"Drain store {leader}", "moves everything when one region is the problem"),
            option(
                "Raise the leader schedule limit",
                "PD's balancer spreads leaders, not the load of one region",
            ),
        ],
        actions=declared_actions(
            declared_action(
                ev.ctx,
                "split_region",
                f"Split region {region} so its load can spread over two leaders.",
                "low",
                current={"hot_write_share": round(share, 2)},
                region_id=region,
            ),
            declared_action(
                ev.ctx,
                "transfer_leader",
                f"Move region {region}'s leader to the least loaded store {to}.",
                "low",
                current={"to_store_id": leader},
                region_id=region,
                to_store_id=to,
            )
            if to is not None
            else None,
        ),
        confidence=0.85 if share >= 0.3 else 0.7,
    )


def write_stall(ev: Evidence, sid: int) -> Finding:
    """RocksDB stalls writes when flushes and compactions fall behind (too many L0 files,
    memtables or pending compaction bytes); TiKV then reports ``tikv_engine_write_stall``
    and its scheduler and raftstore channels fill, and counts the condition met in
    ``tikv_engine_write_stall_reason``. Moving write leaders off the store lowers its write
    load while compaction catches up."""
    m = ev.ctx.metrics(sid)
    evidence = [
        f"Store {sid} reports write stall {m.write_stall if m and m.write_stall is not None else 'n/a'}."
    ]
    reasons = ev.stall_reasons(sid)
    reason = ev.stall_reason(sid)
    if reason is not None:
        evidence.append(
            "RocksDB's stall reason: "
            + ", ".join(
                f"{r} {reasons[r]:.3g}/s" for r in sorted(reasons, key=lambda r: -reasons[r])
            )
            + f" ({STALL_REASONS[reason]})."
        )
    if m and (m.channel_full_per_s or m.scheduler_busy_per_s):
        evidence.append(
            f"Channel full {per_s(m.channel_full_per_s or 0)}, scheduler too busy {per_s(m.scheduler_busy_per_s or 0)}."
        )
    used = ev.used_ratio(sid)
    if reason is not None and used >= DISK_USED:
        evidence.append(
            f"Its disk is also {used:.0%} full: a separate condition, not the stall's reason."
        )
    why = "compaction is behind" if reason is None else STALL_REASONS[reason]
    return Finding(
        cause=causes.WRITE_STALL,
        target=sid,
        root_cause=f"RocksDB on store {sid} is stalling writes ({why}), so TiKV throttles and rejects writes.",
        evidence=evidence,
        options=[
            option(
                f"Drain store {sid}",
                "the store is healthy apart from compaction debt; draining adds write load",
            ),
            option("Split regions", "more regions means more write amplification, not less"),
        ],
        actions=leader_moves(
            ev, sid, f"Move write leaders off store {sid} while its compaction catches up."
        ),
        confidence=0.8,
    )


def leader_imbalance(ev: Evidence, sid: int | None) -> Finding:
    return Finding(
        cause=causes.OVERLOAD,
        target=sid if sid is not None else "cluster",
        root_cause="Leaders are unevenly spread, so some stores carry more of the request load than the others.",
        evidence=[
            "Leader counts: "
            + ", ".join(f"store {s.id}: {s.leader_count}" for s in ev.ctx.stores)
            + "."
        ],
        options=[
            option(
                "Transfer leaders one by one",
                "PD's balancer does it with the schedule limit raised",
            ),
            option("Drain the busiest store", "the imbalance is in leadership, not in data"),
        ],
        actions=declared_actions(
            limit(ev, "set_leader_schedule_limit", "Let PD's balancer move leaders faster.", "low")[
                0
            ]
        ),
        confidence=0.6,
    )


def overload(ev: Evidence, sid: int | None) -> Finding:
    cpu = {s: ev.cpu(s) for s in ev.store_ids()}
    qps = ev.ctx.cluster.qps
    target: Target = sid if sid is not None else "cluster"
    evidence = [
        f"Cluster requests {per_s(qps)}; CPU "
        + ", ".join(f"store {s} {c:.0%}" for s, c in cpu.items())
        + "."
    ]
    rising = ev.ctx.shifts(metric="qps")
    if rising:
        evidence.append(
            "QPS rose: "
            + ", ".join(
                f"store {r.store_id} {per_s(r.baseline)} -> {per_s(r.value)}" for r in rising[:4]
            )
            + "."
        )
    all_busy = bool(cpu) and all(c >= HIGH_CPU for c in cpu.values())
    if all_busy:
        target = "cluster"
    hottest = ev.hottest()
    return Finding(
        cause=causes.OVERLOAD,
        target=target,
        root_cause=(
            "The workload exceeds what the cluster serves at its latency target: every store is busy."
            if all_busy
            else "Request load rose beyond what the store serves at its latency target."
        ),
        evidence=evidence,
        options=[
            option(
                "Treat it as a slow disk",
                "slow scores are normal and the latency follows the request rate",
            ),
            option("Drain a store", "less capacity under more load makes it worse"),
            option(
                "Add TiKV stores",
                "the right long-term fix, but not an action this operator can take",
            ),
        ],
        actions=declared_actions(
            declared_action(
                ev.ctx,
                "split_region",
                f"Split the hottest region {hottest[0]} so the load spreads.",
                "low",
                current={"hot_write_share": round(hottest[2], 2)},
                region_id=hottest[0],
            )
            if hottest is not None
            else None,
        ),
        confidence=0.7,
    )
