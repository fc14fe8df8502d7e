"""Which TiKV tickets share one cause: the causal chains core's incidents group by.

Each rule says why TiKV or PD turn one fault into several symptoms. A rule joins a
ticket to an open incident only when the incident holds the symptom that causes it
on the same store, or when the symptom is of the kind a cluster-wide cause produces
(a PD failover, a store lost to the cluster); a store's own symptom never joins a
fault on another store, so grouping never blames one store for another's fault.
Sources are named in each rule; timing figures are in /work/shared/reference
(``tikv-observability.md``, ``pd-http-api.md``).
"""

from __future__ import annotations

from operator_tikv.invariants import names
from operator_tui.core.incident import IncidentView, RuleSet, same_key
from operator_tui.core.monitor import UNREACHABLE
from operator_tui.core.ticket import Ticket

WRITE_PATH = frozenset(
    {names.SLOW_STORE, names.WRITE_STALL, names.HIGH_WRITE_LATENCY, names.RAFT_LOG_LAG}
)
STORE_LOST = frozenset({names.STORE_DOWN, names.STORE_DISCONNECTED})
PD_FAILOVER = frozenset({UNREACHABLE, names.PD_LEADER_CHANGED, names.PD_MEMBER_UNHEALTHY})
LOSS_EFFECTS = frozenset({names.UNDER_REPLICATED, names.LEADER_IMBALANCE})

CAUSES: dict[str, str] = {
    **dict.fromkeys(WRITE_PATH, "write_path"),
    **dict.fromkeys(STORE_LOST, "store_lost"),
    **dict.fromkeys(PD_FAILOVER, "pd"),
    names.CRITICAL_ERROR: "critical_error",
    names.UNDER_REPLICATED: "replicas",
    names.LEADER_IMBALANCE: "balance",
    names.LOW_DISK: "capacity",
    names.HOT_WRITE_REGION: "hotspot",
}

# TiKV's raft election timeout: raft-base-tick-interval 1 s x raft-election-timeout-ticks 10
# (components/raftstore/src/store/config.rs). Regions the failed member led elect anew within
# it, so the symptoms of one failover or store loss show within this long of each other.
SETTLE_S = 10.0


def cause(ticket: Ticket) -> str:
    """The family of a ticket's invariant; one TiKV does not name falls back to it."""
    return CAUSES.get(ticket.invariant, ticket.invariant)


def write_path_chain(ticket: Ticket, incident: IncidentView) -> bool:
    """A slow disk, a write stall, slow writes and a high slow score on one store are one chain.

    TiKV's raftstore probes its own disk I/O and raises the slow score (1 to 100) as the
    probes slow down (``tikv_raftstore_slow_score``, health_controller slow_score.rs); a
    slower disk flushes memtables and compacts level 0 more slowly, so RocksDB stalls writes
    (level-0 file and pending-compaction triggers) and the scheduler answers ServerIsBusy;
    followers append raft logs late (raft log lag); and the store's async write duration
    rises. Any of these on store S follows from the same fault as another on S.
    """
    return (
        ticket.invariant in WRITE_PATH
        and ticket.store_id is not None
        and incident.has(WRITE_PATH, ticket.store_id)
    )


def same_store_lost(ticket: Ticket, incident: IncidentView) -> bool:
    """A store cut off and the same store down are one loss, whichever PD says first.

    PD marks a store Disconnected after 20 s without a heartbeat and Down after
    ``max-store-down-time`` (pkg/core/store.go, pkg/schedule/config/config.go): a partitioned
    store that stays cut off turns from Disconnected into Down with nothing new gone wrong.
    """
    return (
        ticket.invariant in STORE_LOST
        and ticket.store_id is not None
        and incident.has(STORE_LOST, ticket.store_id)
    )


def crash_after_critical_error(ticket: Ticket, incident: IncidentView) -> bool:
    """A store that counted critical errors and then went down crashed of them.

    On an unexpected engine error TiKV counts ``tikv_critical_error_total`` and, with
    ``panic_when_unexpected_key_or_data``, sets its panic mark and panics
    (raftstore region_snapshot.rs ``handle_get_value_error``, engine_rocks iterators), so the
    process exits and its status port stops answering.
    """
    return (
        ticket.invariant == names.STORE_DOWN
        and ticket.store_id is not None
        and incident.has({names.CRITICAL_ERROR}, ticket.store_id)
    )


def pd_failover(ticket: Ticket, incident: IncidentView) -> bool:
    """An unanswered PD, a new PD leader and an unhealthy PD member are one failover.

    PD's members elect a leader through etcd; when the leader dies its lease (3 s) runs out
    before another member takes over, requests in between time out or are refused
    (``subject_unreachable``), PD's ``/health`` reports the dead member unhealthy, and the
    members list names a new leader. All three are cluster-wide and come from one member's loss.
    """
    return ticket.invariant in PD_FAILOVER and incident.has(PD_FAILOVER)


def store_loss_effects(ticket: Ticket, incident: IncidentView) -> bool:
    """Missing replicas and uneven leaders follow a store's loss.

    The regions a lost store led elect new leaders on the survivors within the election
    timeout, so PD's leader counts come out uneven until balance-leader evens them; their
    leaders report the lost peers as down and PD counts miss-peer/down-peer regions
    (``pd_regions_status``) until it re-creates the replicas after ``max-store-down-time``
    (pkg/schedule/checker/rule_checker.go). Both are cluster-wide effects of the store's loss.
    """
    return ticket.invariant in LOSS_EFFECTS and incident.has(STORE_LOST)


def slow_store_leader_eviction(ticket: Ticket, incident: IncidentView) -> bool:
    """Uneven leaders follow a slow store: PD evicts its leaders.

    PD's ``evict-slow-store-scheduler`` (on by default since PD 7.x) moves every leader off a
    store whose slow score reaches 100 (pkg/schedule/schedulers/evict_slow_store.go), which
    leaves leader counts uneven until the store recovers.
    """
    return ticket.invariant == names.LEADER_IMBALANCE and incident.has({names.SLOW_STORE})


RULES = RuleSet(
    cause_of=cause,
    rules=(
        write_path_chain,
        same_store_lost,
        crash_after_critical_error,
        pd_failover,
        store_loss_effects,
        slow_store_leader_eviction,
        same_key,
    ),
    settle_s=SETTLE_S,
)
