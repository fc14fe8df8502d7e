"""Rules for a store or PD that stopped serving: down, cut off, or PD without a leader.

PD's timings in the narrative (20 s without heartbeats before Disconnected,
``max-store-down-time`` before replicas are replaced) are PD's store lifecycle
(``operator_tikv.states``).
"""

from __future__ import annotations

from operator_tikv.diagnosis import causes
from operator_tikv.diagnosis.evidence import Evidence
from operator_tikv.figures import pd_figures
from operator_tikv.states import RUNNING, StoreState
from operator_tui.core.diagnosis.findings import Finding, declared_action, declared_actions, option


def no_answer(ev: Evidence) -> Finding:
    """Nothing answered this tick: PD electing a leader, or an outage we cannot see into."""
    ctx = ev.ctx
    pd = pd_figures(ctx.cluster)
    if pd.pd_members_total and pd.pd_members_healthy < pd.pd_members_total:
        return pd_leader_lost(ev)
    message = ctx.ticket.message.lower()
    electing = "leader election" in message
    stalled = "within" in message and "refused" not in message
    if pd.pd_members_total >= 2 and (electing or stalled):
        # A PD group that was whole a tick ago and now times out on every member is
        # electing a leader: followers cannot serve without one.
        finding = pd_leader_lost(ev)
        finding.evidence.insert(
            0,
            "Every PD member stopped serving at once (timeouts, not refused connections) "
            f"right after a tick that saw {pd.pd_members_total} members and leader {pd.pd_leader or '?'}.",
        )
        finding.confidence = 0.8 if electing else 0.65
        return finding
    return Finding(
        cause=causes.UNKNOWN,
        target="cluster",
        root_cause="No endpoint of the cluster answered this tick, so nothing can be observed.",
        evidence=[f"The subject reported: {ctx.ticket.message}"],
        options=[
            option(
                "Treat it as a full cluster outage",
                "one unanswered tick cannot tell an outage from a network problem between the operator and the cluster",
            ),
            option(
                "Act on the stores",
                "no action can be verified while the cluster cannot be observed",
            ),
        ],
        confidence=0.3,
    )


def pd_leader_lost(ev: Evidence) -> Finding:
    pd = pd_figures(ev.ctx.cluster)
    return Finding(
        cause=causes.PD_LEADER_LOST,
        target="cluster",
        root_cause=(
            "The PD leader was lost; the remaining PD members elect a new leader and scheduling "
            "pauses until they do."
        ),
        evidence=[
            f"PD members healthy {pd.pd_members_healthy}/{pd.pd_members_total}, current leader {pd.pd_leader or 'none'}."
        ],
        options=[
            option(
                "Restart the PD leader by hand",
                "PD's raft group elects a new leader on its own within seconds; a manual restart adds churn",
            ),
            option(
                "Drain or move data off TiKV stores",
                "the stores are healthy; the fault is in the placement driver, not in the data path",
            ),
            option(
                "Lower the schedule limits",
                "scheduling is already paused during the election and resumes with the new leader",
            ),
        ],
        confidence=0.85,
    )


def store_gone(ev: Evidence, sid: int) -> Finding:
    return store_down(ev, sid) if ev.is_killed(sid) else partition(ev, sid)


_PD_SAYS = {
    StoreState.DOWN: "PD has declared it Down and is replacing its replicas on the other stores.",
    StoreState.DISCONNECTED: "PD lost its heartbeats and marks it Disconnected; replicas are "
    "replaced once max-store-down-time passes.",
}


def store_down(ev: Evidence, sid: int) -> Finding:
    ctx = ev.ctx
    state = ev.state(sid)
    survivors = [s for s in ev.store_ids() if s != sid]
    elections = sum(ev.log_kinds(s)["became_leader"] for s in survivors)
    evidence = [
        f"Store {sid}'s status port does not answer; PD reports it {state or 'unknown'}.",
    ]
    if elections:
        evidence.append(
            f"{elections} leader elections on the surviving stores took over its regions."
        )
    moved = [
        s
        for s in ctx.correlated
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
    return Finding(
        cause=causes.STORE_DOWN,
        target=sid,
        root_cause=f"TiKV store {sid} is down: its process is gone (status port refuses connections). "
        + _PD_SAYS.get(
            state,  # type: ignore[arg-type]
            "PD still lists it as Up because it waits 20 s without heartbeats before saying so.",
        ),
        evidence=evidence,
        options=[
            option(
                f"Drain store {sid} (remove it)",
                "draining moves every replica by snapshot and is irreversible; a restarted store rejoins with its data",
            ),
            option(
                "Wait without acting",
                "regions stay under-replicated until the store returns or PD's max-store-down-time passes",
            ),
            option(
                "Transfer leaders away",
                "its leaders were already re-elected on the survivors by Raft",
            ),
        ],
        actions=declared_actions(
            declared_action(
                ctx,
                "set_replica_schedule_limit",
                "Let PD re-create the missing replicas on the survivors faster while the store is away; "
                "bring the store's process back first if it can be restarted.",
                "medium",
                n=16,
            ),
        ),
        confidence=0.9 if ev.reachable(sid) is False else 0.75,
    )


def partition(ev: Evidence, sid: int) -> Finding:
    state = ev.state(sid)
    return Finding(
        cause=causes.NETWORK_PARTITION,
        target=sid,
        root_cause=(
            f"Store {sid} is cut off from PD and its peers: its process is alive (status port answers) "
            + (
                "but its peers report it unreachable; PD still says Up because it waits 20 s "
                "without heartbeats before marking a store Disconnected."
                if state in RUNNING
                else f"but PD reports it {state or 'unknown'} because its heartbeats do not arrive."
            )
        ),
        evidence=[
            f"Store {sid}'s status port answers while PD reports it {state or 'unknown'}.",
        ],
        options=[
            option(
                f"Restart store {sid}",
                "the process is healthy; a restart does not mend the network path",
            ),
            option(
                f"Drain store {sid}",
                "its data is intact; draining would copy every replica for a fault that heals when the network does",
            ),
            option(
                "Wait for PD to replace the replicas",
                "only after max-store-down-time, and the partition may heal first",
            ),
        ],
        actions=declared_actions(
            declared_action(
                ev.ctx,
                "set_replica_schedule_limit",
                "Keep replica repair going if the partition outlasts max-store-down-time; fix the network path first.",
                "medium",
                n=8,
            ),
        ),
        confidence=0.85,
    )
