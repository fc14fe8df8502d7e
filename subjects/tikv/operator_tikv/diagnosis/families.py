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
}
# critical_error has no family: the rules follow the strongest evidence in the cluster.
CONSEQUENCES = frozenset({LATENCY, LAG, BALANCE, REPLICA, STALL})


def family(invariant: str) -> str | None:
    return FAMILY.get(invariant)
