"""The offline diagnoser: deterministic rules over the diagnosis context, no network.

It reads the invariant that fired and then checks the evidence (is the store's
status port answering, what PD says of it, slow score, disk use, write stall,
hot regions, PD membership) to name the cause, the faulty store, the options
weighed and an action from the subject's declared list. It reads log events
only by kind and counts, never their text, so nothing inside telemetry can
steer it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from operator_tui.core.diagnosis.base import DiagnosisOutcome, TextSink
from operator_tui.core.diagnosis.context import DiagnosisContext, metric_value
from operator_tui.core.diagnosis.schema import (
    CorrelatedMetric,
    Diagnosis,
    OptionConsidered,
    RecommendedAction,
    RootCauseClass,
)

SLOW_SCORE = 50.0
DISK_USED = 0.8
HIGH_CPU = 0.8

# Ordered: the first family whose words appear in the invariant name wins.
FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("unreachable", ("unreachable",)),
    ("pd", ("pd_", "pd-", "pd.")),
    ("partition", ("partition", "disconnect", "heartbeat", "isolat")),
    ("down", ("down", "dead", "offline", "tombstone")),
    ("slow", ("slow",)),
    ("disk", ("disk", "space", "capacity")),
    ("hot", ("hot",)),
    ("stall", ("stall", "channel", "busy", "scheduler")),
    ("replica", ("replica", "peer")),
    ("balance", ("balance", "imbalance", "leader")),
    ("latency", ("latency", "p99", "duration")),
    ("lag", ("lag", "raft")),
    ("load", ("cpu", "qps", "load")),
)
CONSEQUENCES = {"latency", "lag", "load", "balance", "replica", "stall"}
DOWN_STATES = {"Disconnected", "Down"}

Target = int | Literal["cluster"]


@dataclass(slots=True)
class Finding:
    cause: RootCauseClass
    target: Target
    root_cause: str
    evidence: list[str] = field(default_factory=list)
    options: list[OptionConsidered] = field(default_factory=list)
    actions: list[RecommendedAction] = field(default_factory=list)
    confidence: float = 0.5


def family(invariant: str) -> str | None:
    name = invariant.lower()
    for fam, words in FAMILIES:
        if any(w in name for w in words):
            return fam
    return None


class Evidence:
    """Small readers over the context, shared by the rules."""

    def __init__(self, ctx: DiagnosisContext) -> None:
        self.ctx = ctx

    def reachable(self, sid: int) -> bool | None:
        m = self.ctx.metrics(sid)
        return None if m is None else m.reachable

    def state(self, sid: int) -> str | None:
        s = self.ctx.store(sid)
        return None if s is None else s.state

    def slow_score(self, sid: int) -> float:
        m = self.ctx.metrics(sid)
        s = self.ctx.store(sid)
        values = [
            v
            for v in ((m.slow_score if m else None), (s.slow_score if s else None))
            if v is not None
        ]
        return max(values, default=0.0)

    def used_ratio(self, sid: int) -> float:
        s = self.ctx.store(sid)
        m = self.ctx.metrics(sid)
        ratios = [s.used_ratio] if s and s.capacity_bytes else []
        if m is not None and (r := metric_value(m, "used_ratio")) is not None:
            ratios.append(r)
        return max(ratios, default=0.0)

    def write_stall(self, sid: int) -> float:
        m = self.ctx.metrics(sid)
        if m is None or not m.reachable:
            return 0.0
        return max(
            m.write_stall or 0.0,
            (m.channel_full_per_s or 0.0) / 10,
            (m.scheduler_busy_per_s or 0.0) / 10,
        )

    def cpu(self, sid: int) -> float:
        m = self.ctx.metrics(sid)
        return (m.cpu_ratio or 0.0) if m and m.reachable else 0.0

    def store_ids(self) -> list[int]:
        return sorted({s.id for s in self.ctx.stores} | set(self.ctx.store_metrics))

    def dead_stores(self) -> list[int]:
        """Stores whose status port does not answer, or that PD marks Disconnected/Down."""
        return [
            sid
            for sid in self.store_ids()
            if self.reachable(sid) is False or self.state(sid) in DOWN_STATES
        ]

    def is_killed(self, sid: int) -> bool:
        """Gone rather than cut off: the status port refuses (or PD says so and we cannot tell)."""
        return self.reachable(sid) is not True

    def hottest(self) -> tuple[int, int, float] | None:
        """(region id, leader store, share of the cluster's hot write flow) of the hottest region."""
        leaders = [h for h in self.ctx.hot_regions if h.is_leader] or self.ctx.hot_regions
        if not leaders:
            return None
        total = sum(h.flow_bytes for h in leaders) or 1.0
        top = max(leaders, key=lambda h: h.flow_bytes)
        return top.region_id, top.store_id, top.flow_bytes / total

    def hot_store_share(self) -> tuple[int, float] | None:
        leaders = [h for h in self.ctx.hot_regions if h.is_leader]
        if not leaders:
            return None
        per: Counter[int] = Counter()
        for h in leaders:
            per[h.store_id] += h.flow_bytes
        total = sum(per.values()) or 1.0
        sid, flow = per.most_common(1)[0]
        return sid, flow / total

    def coolest_store(self, exclude: int | None) -> int | None:
        live = [
            sid
            for sid in self.store_ids()
            if sid != exclude
            and self.reachable(sid) is not False
            and self.state(sid) not in DOWN_STATES
        ]
        if not live:
            return None

        def load(sid: int) -> tuple[float, float]:
            s = self.ctx.store(sid)
            return (self.cpu(sid), float(s.leader_count if s else 0))

        return min(live, key=load)

    def log_kinds(self, sid: int | None = None) -> Counter[str]:
        return Counter(e.kind for e in self.ctx.log_events if sid is None or e.store_id == sid)


def _opt(option: str, because: str) -> OptionConsidered:
    return OptionConsidered(option=option, rejected_because=because)


def _action(
    ctx: DiagnosisContext, name: str, rationale: str, risk: str, **args: Any
) -> RecommendedAction | None:
    """A recommendation only if the subject declares the action; args renamed to its declared names."""
    declared = next((a for a in ctx.actions if a.name == name), None)
    if declared is None:
        return None
    names = [a.name for a in declared.args]
    if names and set(args) - set(names):
        args = dict(zip(names, args.values(), strict=False))
    return RecommendedAction(action=name, args=args, rationale=rationale, risk=risk)  # type: ignore[arg-type]


class Rules:
    def __init__(self, ctx: DiagnosisContext) -> None:
        self.ctx = ctx
        self.ev = Evidence(ctx)

    def diagnose(self) -> Finding:
        ticket = self.ctx.ticket
        fam = family(ticket.invariant)
        sid = ticket.store_id
        if fam in CONSEQUENCES:
            dead = (
                [d for d in self.ev.dead_stores() if d != sid]
                if sid is not None
                else self.ev.dead_stores()
            )
            if dead:
                finding = self._store_gone(dead[0])
                finding.evidence.insert(
                    0,
                    f"`{ticket.invariant}` on {ticket.target} follows from store {dead[0]} being gone.",
                )
                finding.confidence = min(finding.confidence, 0.75)
                return finding
        rule = {
            "unreachable": self._unreachable,
            "pd": self._pd,
            "partition": self._down_or_partition,
            "down": self._down_or_partition,
            "slow": self._slow,
            "disk": self._disk,
            "hot": self._hot,
            "stall": self._stall,
            "replica": self._replica,
            "balance": self._balance,
            "latency": self._latency,
            "lag": self._latency,
            "load": self._latency,
        }.get(fam or "", self._scan)
        return rule(sid)

    # --- rules, one per family --------------------------------------------------------

    def _unreachable(self, sid: int | None) -> Finding:
        pd = self.ctx.cluster
        if pd.pd_members_total and pd.pd_members_healthy < pd.pd_members_total:
            return self._pd(None)
        message = self.ctx.ticket.message.lower()
        electing = "leader election" in message
        stalled = "within" in message and "refused" not in message
        if pd.pd_members_total >= 2 and (electing or stalled):
            # A PD group that was whole a tick ago and now times out on every member is
            # electing a leader: followers cannot serve without one.
            finding = self._pd(None)
            finding.evidence.insert(
                0,
                "Every PD member stopped serving at once (timeouts, not refused connections) "
                f"right after a tick that saw {pd.pd_members_total} members and leader {pd.pd_leader or '?'}.",
            )
            finding.confidence = 0.8 if electing else 0.65
            return finding
        return Finding(
            cause="unknown",
            target="cluster",
            root_cause="No endpoint of the cluster answered this tick, so nothing can be observed.",
            evidence=[f"The subject reported: {self.ctx.ticket.message}"],
            options=[
                _opt(
                    "Treat it as a full cluster outage",
                    "one unanswered tick cannot tell an outage from a network problem between the operator and the cluster",
                ),
                _opt(
                    "Act on the stores",
                    "no action can be verified while the cluster cannot be observed",
                ),
            ],
            confidence=0.3,
        )

    def _pd(self, sid: int | None) -> Finding:
        pd = self.ctx.cluster
        return Finding(
            cause="pd_leader_lost",
            target="cluster",
            root_cause=(
                "The PD leader was lost; the remaining PD members elect a new leader and scheduling "
                "pauses until they do."
            ),
            evidence=[
                f"PD members healthy {pd.pd_members_healthy}/{pd.pd_members_total}, current leader {pd.pd_leader or 'none'}."
            ],
            options=[
                _opt(
                    "Restart the PD leader by hand",
                    "PD's raft group elects a new leader on its own within seconds; a manual restart adds churn",
                ),
                _opt(
                    "Drain or move data off TiKV stores",
                    "the stores are healthy; the fault is in the placement driver, not in the data path",
                ),
                _opt(
                    "Lower the schedule limits",
                    "scheduling is already paused during the election and resumes with the new leader",
                ),
            ],
            confidence=0.85,
        )

    def _store_gone(self, sid: int) -> Finding:
        if self.ev.is_killed(sid):
            return self._store_down(sid)
        return self._partition(sid)

    def _down_or_partition(self, sid: int | None) -> Finding:
        if sid is None:
            dead = self.ev.dead_stores()
            if not dead:
                return self._scan(sid)
            sid = dead[0]
        fam = family(self.ctx.ticket.invariant)
        if self.ev.reachable(sid) is True and (
            fam == "partition" or self.ev.state(sid) in DOWN_STATES
        ):
            return self._partition(sid)
        if self.ev.reachable(sid) is None and fam == "partition":
            return self._partition(sid)
        return self._store_down(sid)

    def _store_down(self, sid: int) -> Finding:
        state = self.ev.state(sid)
        survivors = [s for s in self.ev.store_ids() if s != sid]
        elections = sum(self.ev.log_kinds(s)["became_leader"] for s in survivors)
        evidence = [
            f"Store {sid}'s status port does not answer; PD reports it {state or 'unknown'}.",
        ]
        if elections:
            evidence.append(
                f"{elections} leader elections on the surviving stores took over its regions."
            )
        moved = [
            s
            for s in self.ctx.correlated
            if s.store_id != sid and s.metric in ("qps", "leader_count", "cpu_ratio")
        ]
        if moved:
            evidence.append(
                "On the surviving stores: "
                + ", ".join(
                    f"{m.metric} on store {m.store_id} "
                    f"{'rose' if (m.value or 0) > (m.baseline or 0) else 'fell'} "
                    f"{m.baseline:.4g} -> {m.value:.4g}"
                    for m in moved[:4]
                )
                + "."
            )
        actions = [
            a
            for a in (
                _action(
                    self.ctx,
                    "set_replica_schedule_limit",
                    "Let PD re-create the missing replicas on the survivors faster while the store is away; "
                    "bring the store's process back first if it can be restarted.",
                    "medium",
                    n=16,
                ),
            )
            if a is not None
        ]
        return Finding(
            cause="store_down",
            target=sid,
            root_cause=f"TiKV store {sid} is down: its process is gone (status port refuses connections). "
            + {
                "Down": "PD has declared it Down and is replacing its replicas on the other stores.",
                "Disconnected": "PD lost its heartbeats and marks it Disconnected; replicas are "
                "replaced once max-store-down-time passes.",
            }.get(
                state,  # type: ignore[arg-type]
                "PD still lists it as Up because it waits 20 s without heartbeats before saying so.",
            ),
            evidence=evidence,
            options=[
                _opt(
                    f"Drain store {sid} (remove it)",
                    "draining moves every replica by snapshot and is irreversible; a restarted store rejoins with its data",
                ),
                _opt(
                    "Wait without acting",
                    "regions stay under-replicated until the store returns or PD's max-store-down-time passes",
                ),
                _opt(
                    "Transfer leaders away",
                    "its leaders were already re-elected on the survivors by Raft",
                ),
            ],
            actions=actions,
            confidence=0.9 if self.ev.reachable(sid) is False else 0.75,
        )

    def _partition(self, sid: int) -> Finding:
        state = self.ev.state(sid)
        return Finding(
            cause="network_partition",
            target=sid,
            root_cause=(
                f"Store {sid} is cut off from PD and its peers: its process is alive (status port answers) "
                + (
                    "but its peers report it unreachable; PD still says Up because it waits 20 s "
                    "without heartbeats before marking a store Disconnected."
                    if state in ("Up", "Serving")
                    else f"but PD reports it {state or 'unknown'} because its "
                    "heartbeats do not arrive."
                )
            ),
            evidence=[
                f"Store {sid}'s status port answers while PD reports it {state or 'unknown'}.",
            ],
            options=[
                _opt(
                    f"Restart store {sid}",
                    "the process is healthy; a restart does not mend the network path",
                ),
                _opt(
                    f"Drain store {sid}",
                    "its data is intact; draining would copy every replica for a fault that heals when the network does",
                ),
                _opt(
                    "Wait for PD to replace the replicas",
                    "only after max-store-down-time, and the partition may heal first",
                ),
            ],
            actions=[
                a
                for a in (
                    _action(
                        self.ctx,
                        "set_replica_schedule_limit",
                        "Keep replica repair going if the partition outlasts max-store-down-time; fix the network path first.",
                        "medium",
                        n=8,
                    ),
                )
                if a is not None
            ],
            confidence=0.85,
        )

    def _leader_moves(self, sid: int, why: str) -> list[RecommendedAction]:
        to = self.ev.coolest_store(sid)
        regions = [h for h in self.ctx.hot_regions if h.is_leader and h.store_id == sid]
        out: list[RecommendedAction] = []
        if to is not None:
            for h in sorted(regions, key=lambda h: -h.flow_bytes)[:2]:
                a = _action(
                    self.ctx, "transfer_leader", why, "low", region_id=h.region_id, to_store_id=to
                )
                if a is not None:
                    out.append(a)
        if not out:
            a = _action(self.ctx, "set_leader_schedule_limit", why, "low", n=8)
            if a is not None:
                out.append(a)
        return out

    def _slow(self, sid: int | None) -> Finding:
        if sid is None:
            sid = max(self.ev.store_ids(), key=self.ev.slow_score, default=None)
            if sid is None:
                return self._scan(None)
        m = self.ctx.metrics(sid)
        score = self.ev.slow_score(sid)
        evidence = [f"Store {sid}'s slow score is {score:g} (healthy stores sit near 1)."]
        if m and m.p99_write_latency_ms is not None:
            evidence.append(f"Its p99 write latency is {m.p99_write_latency_ms:g} ms.")
        slow_ops = self.ev.log_kinds(sid)["slow_operation"]
        if slow_ops:
            evidence.append(f"{slow_ops} slow-operation log events on store {sid}.")
        return Finding(
            cause="slow_disk",
            target=sid,
            root_cause=f"Store {sid}'s disk is slow: raft log appends and applies take long, so writes led by it are slow.",
            evidence=evidence,
            options=[
                _opt(
                    f"Drain store {sid}",
                    "moves all its data onto the others; too heavy while the disk still works",
                ),
                _opt(
                    "Add capacity or throttle clients",
                    "the rest of the cluster is healthy; only one store's disk is slow",
                ),
                _opt("Split the hot regions", "splitting does not make a slow disk faster"),
            ],
            actions=self._leader_moves(
                sid, f"Move leaders off store {sid} so writes are no longer led from the slow disk."
            ),
            confidence=0.85 if score >= SLOW_SCORE else 0.65,
        )

    def _disk(self, sid: int | None) -> Finding:
        if sid is None:
            sid = max(self.ev.store_ids(), key=self.ev.used_ratio, default=None)
            if sid is None:
                return self._scan(None)
        used = self.ev.used_ratio(sid)
        s = self.ctx.store(sid)
        evidence = [f"Store {sid} has used {used:.0%} of its capacity."]
        if s and s.capacity_bytes:
            evidence.append(
                f"Available {s.available_bytes / 2**30:.1f} GiB of {s.capacity_bytes / 2**30:.1f} GiB."
            )
        if self.ev.log_kinds(sid)["disk_space"]:
            evidence.append(f"Store {sid} logs low disk space.")
        actions = [
            a
            for a in (
                _action(
                    self.ctx,
                    "set_region_schedule_limit",
                    f"Let PD move regions off store {sid} faster so it stops filling.",
                    "medium",
                    n=16,
                ),
            )
            if a is not None
        ]
        return Finding(
            cause="disk_full",
            target=sid,
            root_cause=f"Store {sid} is running out of disk space; once below the low-space threshold PD stops placing data there and writes may stall.",
            evidence=evidence,
            options=[
                _opt(
                    f"Drain store {sid}",
                    "draining needs free space on the others and takes long; first slow the growth",
                ),
                _opt(
                    "Raise the low-space threshold",
                    "it only hides the condition; the disk still fills",
                ),
                _opt("Do nothing", "writes fail once the disk is full"),
            ],
            actions=actions,
            confidence=0.9 if used >= DISK_USED else 0.7,
        )

    def _hot(self, sid: int | None) -> Finding:
        hottest = self.ev.hottest()
        if hottest is None:
            target: Target = sid if sid is not None else "cluster"
            return Finding(
                cause="hot_region",
                target=target,
                root_cause="Write load is concentrated on a few regions.",
                options=[
                    _opt(
                        "Add stores",
                        "the load is on a key range, not on the cluster's total capacity",
                    ),
                    _opt(
                        "Wait", "a hot spot persists while the workload keeps its key distribution"
                    ),
                ],
                confidence=0.6,
            )
        region, leader, share = hottest
        target = sid if sid is not None else leader
        to = self.ev.coolest_store(leader)
        actions = [
            a
            for a in (
                _action(
                    self.ctx,
                    "split_region",
                    f"Split region {region} so its load can spread over two leaders.",
                    "low",
                    region_id=region,
                ),
                _action(
                    self.ctx,
                    "transfer_leader",
                    f"Move region {region}'s leader to the least loaded store {to}.",
                    "low",
                    region_id=region,
                    to_store_id=to,
                )
                if to is not None
                else None,
            )
            if a is not None
        ]
        return Finding(
            cause="hot_region",
            target=target,
            root_cause=f"Region {region} carries {share:.0%} of the hot write flow and its leader sits on store {leader}, which takes the load.",
            evidence=[
                f"Hottest write region {region}, leader on store {leader}, {share:.0%} of hot write bytes."
            ],
            options=[
                _opt(
                    "Add stores",
                    "a single hot key range is not helped by more stores until it is split",
                ),
                _opt(f"Drain store {leader}", "moves everything when one region is the problem"),
                _opt(
                    "Raise the leader schedule limit",
                    "PD's balancer spreads leaders, not the load of one region",
                ),
            ],
            actions=actions,
            confidence=0.85 if share >= 0.3 else 0.7,
        )

    def _stall(self, sid: int | None) -> Finding:
        if sid is None:
            sid = max(self.ev.store_ids(), key=self.ev.write_stall, default=None)
            if sid is None:
                return self._scan(None)
        m = self.ctx.metrics(sid)
        evidence = [
            f"Store {sid} reports write stall {m.write_stall if m and m.write_stall is not None else 'n/a'}."
        ]
        if m and (m.channel_full_per_s or m.scheduler_busy_per_s):
            evidence.append(
                f"Channel full {m.channel_full_per_s or 0:g}/s, scheduler too busy {m.scheduler_busy_per_s or 0:g}/s."
            )
        return Finding(
            cause="write_stall",
            target=sid,
            root_cause=f"RocksDB on store {sid} is stalling writes: compaction is behind, so TiKV throttles and rejects writes.",
            evidence=evidence,
            options=[
                _opt(
                    f"Drain store {sid}",
                    "the store is healthy apart from compaction debt; draining adds write load",
                ),
                _opt("Split regions", "more regions means more write amplification, not less"),
            ],
            actions=self._leader_moves(
                sid, f"Move write leaders off store {sid} while its compaction catches up."
            ),
            confidence=0.8,
        )

    def _replica(self, sid: int | None) -> Finding:
        dead = self.ev.dead_stores()
        if dead:
            return self._store_gone(dead[0])
        return self._scan(sid)

    def _balance(self, sid: int | None) -> Finding:
        share = self.ev.hot_store_share()
        if share and share[1] >= 0.6:
            return self._hot(share[0])
        target: Target = sid if sid is not None else "cluster"
        actions = [
            a
            for a in (
                _action(
                    self.ctx,
                    "set_leader_schedule_limit",
                    "Let PD's balancer move leaders faster.",
                    "low",
                    n=8,
                ),
            )
            if a is not None
        ]
        return Finding(
            cause="overload",
            target=target,
            root_cause="Leaders are unevenly spread, so some stores carry more of the request load than the others.",
            evidence=[
                "Leader counts: "
                + ", ".join(f"store {s.id}: {s.leader_count}" for s in self.ctx.stores)
                + "."
            ],
            options=[
                _opt(
                    "Transfer leaders one by one",
                    "PD's balancer does it with the schedule limit raised",
                ),
                _opt("Drain the busiest store", "the imbalance is in leadership, not in data"),
            ],
            actions=actions,
            confidence=0.6,
        )

    def _latency(self, sid: int | None) -> Finding:
        ids = [sid] if sid is not None else self.ev.store_ids()
        slow = max(ids, key=self.ev.slow_score, default=None)
        if slow is not None and self.ev.slow_score(slow) >= SLOW_SCORE:
            return self._slow(slow)
        stalled = max(ids, key=self.ev.write_stall, default=None)
        if stalled is not None and self.ev.write_stall(stalled) > 0:
            return self._stall(stalled)
        share = self.ev.hot_store_share()
        if share and share[1] >= 0.6 and (sid is None or share[0] == sid):
            return self._hot(share[0])
        return self._overload(sid)

    def _overload(self, sid: int | None) -> Finding:
        cpu = {s: self.ev.cpu(s) for s in self.ev.store_ids()}
        qps = self.ctx.cluster.qps
        target: Target = sid if sid is not None else "cluster"
        evidence = [
            f"Cluster QPS {qps:g}; CPU "
            + ", ".join(f"store {s} {c:.0%}" for s, c in cpu.items())
            + "."
        ]
        rising = self.ctx.shifts(metric="qps")
        if rising:
            evidence.append(
                "QPS rose: "
                + ", ".join(f"store {r.store_id} {r.baseline:g} -> {r.value:g}" for r in rising[:4])
                + "."
            )
        all_busy = bool(cpu) and all(c >= HIGH_CPU for c in cpu.values())
        if all_busy:
            target = "cluster"
        actions: list[RecommendedAction] = []
        hottest = self.ev.hottest()
        if hottest is not None:
            a = _action(
                self.ctx,
                "split_region",
                f"Split the hottest region {hottest[0]} so the load spreads.",
                "low",
                region_id=hottest[0],
            )
            if a is not None:
                actions.append(a)
        return Finding(
            cause="overload",
            target=target,
            root_cause=(
                "The workload exceeds what the cluster serves at its latency target: every store is busy."
                if all_busy
                else "Request load rose beyond what the store serves at its latency target."
            ),
            evidence=evidence,
            options=[
                _opt(
                    "Treat it as a slow disk",
                    "slow scores are normal and the latency follows the request rate",
                ),
                _opt("Drain a store", "less capacity under more load makes it worse"),
                _opt(
                    "Add TiKV stores",
                    "the right long-term fix, but not an action this operator can take",
                ),
            ],
            actions=actions,
            confidence=0.7,
        )

    def _scan(self, sid: int | None) -> Finding:
        """No rule for the invariant: follow the strongest evidence in the cluster."""
        dead = self.ev.dead_stores()
        if dead:
            return self._store_gone(dead[0])
        pd = self.ctx.cluster
        if pd.pd_members_total and pd.pd_members_healthy < pd.pd_members_total:
            return self._pd(None)
        ids = self.ev.store_ids()
        if ids:
            slow = max(ids, key=self.ev.slow_score)
            if self.ev.slow_score(slow) >= SLOW_SCORE:
                return self._slow(slow)
            full = max(ids, key=self.ev.used_ratio)
            if self.ev.used_ratio(full) >= DISK_USED:
                return self._disk(full)
            stalled = max(ids, key=self.ev.write_stall)
            if self.ev.write_stall(stalled) > 0:
                return self._stall(stalled)
        share = self.ev.hot_store_share()
        if share and share[1] >= 0.6:
            return self._hot(share[0])
        target: Target = sid if sid is not None else "cluster"
        return Finding(
            cause="unknown",
            target=target,
            root_cause=f"The rules found no cause for `{self.ctx.ticket.invariant}` in the current telemetry.",
            options=[
                _opt("Act on the ticket's store", "no evidence points at a fault there"),
                _opt(
                    "Ignore the ticket",
                    "the invariant did fire; keep watching and re-run the diagnosis",
                ),
            ],
            confidence=0.3,
        )


def render_markdown(ctx: DiagnosisContext, finding: Finding, diagnosis: Diagnosis) -> list[str]:
    """The narrative, as the chunks it is streamed in."""
    t = ctx.ticket
    chunks = [f"## Observation\n\n{diagnosis.observation}\n\n"]
    lines = [f"- {e}" for e in finding.evidence]
    lines += [
        f"- `{m.metric}` on store {m.store_id}: {m.value:.4g} (baseline {m.baseline:.4g})"
        for m in diagnosis.correlated_metrics
        if m.value is not None and m.baseline is not None
    ]
    kinds = Evidence(ctx).log_kinds()
    if kinds:
        lines.append("- Log events: " + ", ".join(f"{k} x{n}" for k, n in kinds.most_common(6)))
    chunks.append("## Evidence\n\n" + ("\n".join(lines) if lines else "- (none)") + "\n\n")
    target = "the cluster" if diagnosis.target == "cluster" else f"store {diagnosis.target}"
    chunks.append(
        f"## Root cause\n\n**{diagnosis.root_cause_class}** on {target}: {diagnosis.root_cause}\n\n"
    )
    chunks.append(
        "## Options considered\n\n"
        + "\n".join(
            f"- **{o.option}**: not chosen because {o.rejected_because}."
            for o in diagnosis.options_considered
        )
        + "\n\n"
    )
    if diagnosis.recommended_actions:
        acts = "\n".join(
            f"- `{a.action}({', '.join(f'{k}={v}' for k, v in a.args.items())})`, risk {a.risk}: {a.rationale}"
            for a in diagnosis.recommended_actions
        )
    else:
        acts = "- No declared action helps here; watch the ticket."
    chunks.append(f"## Recommended action\n\n{acts}\n\n")
    chunks.append(
        f"Confidence {diagnosis.confidence:.0%}, severity {diagnosis.severity} (ticket #{t.id}).\n"
    )
    return chunks


def diagnose_context(ctx: DiagnosisContext) -> tuple[Finding, Diagnosis]:
    finding = Rules(ctx).diagnose()
    t = ctx.ticket
    diagnosis = Diagnosis(
        observation=f"`{t.invariant}` fired on {t.target} ({t.severity.value}), seen {t.occurrences} time(s) since {t.first_seen:%H:%M:%S} UTC.",
        root_cause=finding.root_cause,
        root_cause_class=finding.cause,
        target=finding.target,
        correlated_metrics=[
            CorrelatedMetric(
                metric=s.metric, store_id=s.store_id, value=s.value, baseline=s.baseline
            )
            for s in ctx.correlated[:8]
        ],
        options_considered=finding.options,
        recommended_actions=finding.actions,
        confidence=finding.confidence,
        severity=t.severity.value,  # type: ignore[arg-type]
    )
    return finding, diagnosis


class OfflineDiagnoser:
    """Deterministic, local, instant; the default when no API key is set."""

    backend = "offline"
    model: str | None = None

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        finding, diagnosis = diagnose_context(context)
        text = []
        for chunk in render_markdown(context, finding, diagnosis):
            text.append(chunk)
            await on_text(chunk)
            await asyncio.sleep(0)
        return DiagnosisOutcome(diagnosis=diagnosis, text="".join(text))
