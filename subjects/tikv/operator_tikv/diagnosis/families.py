"""Which family of causes each TiKV invariant points at, by its exact declared name.

A family picks the rule that explains a ticket. Some families are consequences:
their invariant (latency, lag, load, imbalance, missing replicas, stalls) also
fires when a store is simply gone, so a dead store is looked for first.
"""

from __future__ import annotations

from operator_tikv.invariants import names
from operator_tui.core.monitor import UNREACHABLE

UNANSWERED = "unanswered"
PD = "pd"
PARTITION = "partition"
DOWN = "down"
SLOW = "slow"
DISK = "disk"
HOT = "hot"
STALL = "stall"
REPLICA = "replica"
BALANCE = "balance"
LATENCY = "latency"
LAG = "lag"
CRITICAL = "critical"

FAMILY: dict[str, str] = {
    UNREACHABLE: UNANSWERED,
    names.PD_MEMBER_UNHEALTHY: PD,
    names.PD_LEADER_CHANGED: PD,
    names.STORE_DISCONNECTED: PARTITION,
    names.STORE_DOWN: DOWN,
    names.SLOW_STORE: SLOW,
    names.LOW_DISK: DISK,
    names.HOT_WRITE_REGION: HOT,
    names.WRITE_STALL: STALL,
    names.UNDER_REPLICATED: REPLICA,
    names.LEADER_IMBALANCE: BALANCE,
    names.HIGH_WRITE_LATENCY: LATENCY,
    names.RAFT_LOG_LAG: LAG,
    names.CRITICAL_ERROR: CRITICAL,
}
# What a store gone elsewhere causes on the others: its leaders re-elected there (latency,
# lag while they catch up), its load moved there (imbalance), its replicas missing. A
# stall, a slow score, a full disk or a critical error is the store's own condition.
FOREIGN_EFFECTS = frozenset({LATENCY, LAG, BALANCE, REPLICA})
# Of those, the ones the dead store explains cluster-wide, whatever the ticket's store shows.
CLUSTER_EFFECTS = frozenset({BALANCE, REPLICA})


def family(invariant: str) -> str | None:
    return FAMILY.get(invariant)
