"""Rules for a store or PD that stopped serving: down, cut off, or PD without a leader.

PD's timings in the narrative (20 s without heartbeats before Disconnected,
``max-store-down-time`` before replicas are replaced) are PD's store lifecycle
(``operator_tikv.states``).
"""

from __future__ import annotations

from operator_tikv.diagnosis import causes
from operator_tikv.diagnosis.candidates import Candidate
from operator_tikv.diagnosis.evidence import Evidence
from operator_tikv.diagnosis.proposals import limit
from operator_tikv.figures import pd_figures
from operator_tikv.states import RUNNING, StoreState
from operator_tui.core.diagnosis.findings import Finding, declared_actions, option

KILLED = 3.5
WAIT = "Wait without acting"
CUT_OFF = 3.5
UNSEEN = 3.0


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
    repair, withheld = limit(
        ev,
        "set_replica_schedule_limit",
        "Let PD re-create the missing replicas on the survivors faster while the store is away; "
        "bring the store's process back first if it can be restarted.",
        "medium",
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
                WAIT,
                "regions stay under-replicated until the store returns or PD's max-store-down-time passes",
            ),
            option(
                "Transfer leaders away",
                "its leaders were already re-elected on the survivors by Raft",
            ),
            *([withheld] if withheld else []),
        ],
        actions=declared_actions(repair),
        confidence=0.9 if ev.reachable(sid) is False else 0.75,
    )


def partition(ev: Evidence, sid: int) -> Finding:
    """Raft keeps the majority side serving (its leaders are re-elected there); PD marks the
    store Disconnected after 20 s and Down after ``max-store-down-time``, and neither makes
    the process any less alive."""
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
            f"Store {sid}'s status port answers while PD reports it {state or 'unknown'}."
            if ev.reachable(sid) is True
            else f"Store {sid}'s process was last seen alive; PD reports it {state or 'unknown'}.",
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
            option(
                "Raise the replica schedule limit",
                "copying a cut-off store's replicas faster is wasted once the network heals; "
                "mend the network path first",
            ),
        ],
        confidence=0.85,
    )


def down_candidates(ev: Evidence, sid: int, cut_off: bool) -> list[Candidate]:
    """Killed or cut off, from the store itself.

    A killed process refuses its status port at once. A cut-off one keeps answering it and
    counts the messages it cannot deliver to its peers (``tikv_server_report_failure_msg_total``,
    as its peers do for it). PD's word moves from Up to Disconnected (20 s) to Down
    (``max-store-down-time``) either way, so PD's Down alone never turns a partition into a
    dead store.
    """
    reachable = ev.reachable(sid)
    state = ev.state(sid) or "unknown"
    reported_by, reports = ev.cuts(sid)
    last = ev.last_answer(sid)
    alive, dead = [], []
    if reachable is True:
        alive.append(
            f"Store {sid}'s status port answers while PD says {state}: the process is alive."
        )
    elif reachable is False:
        m = ev.ctx.metrics(sid)
        why = f" ({m.error})" if m and m.error else ""
        dead.append(f"Store {sid}'s status port does not answer{why}.")
    elif last is not None:
        (alive if last else dead).append(
            f"Its status port {'answered' if last else 'did not answer'} at the last reading held."
        )
    if reports:
        alive.append(
            f"Store {sid} reports stores {reports} unreachable: alive, but cut off from them."
        )
    if reported_by:
        alive.append(f"Stores {reported_by} report store {sid} unreachable.")
    if cut_off:
        alive.append("The ticket is PD's lost heartbeat while nothing says the process stopped.")
    if reachable is False:
        killed, partitioned = KILLED, 0.0
    elif reachable is True:
        killed, partitioned = 0.0, CUT_OFF
    elif alive:
        killed, partitioned = 0.0, UNSEEN
    else:
        killed, partitioned = UNSEEN, 0.0
    return [
        Candidate(
            causes.NETWORK_PARTITION,
            sid,
            partitioned,
            lambda: partition(ev, sid),
            alive,
            dead,
        ),
        Candidate(
            causes.STORE_DOWN,
            sid,
            killed,
            lambda: store_down(ev, sid),
            dead + ([f"PD says {state}."] if state in ("Disconnected", "Down") else []),
            alive[:1],
        ),
    ]
