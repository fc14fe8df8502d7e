"""Every invariant's name, and the signals a snapshot may mark as not measured.

Names are the first half of a violation key (``store_down:store-3``): tickets,
the offline diagnosis and the evaluation match on them, so they never change.
"""

STORE_DOWN = "store_down"
STORE_DISCONNECTED = "store_disconnected"
HIGH_WRITE_LATENCY = "high_write_latency"
LOW_DISK = "low_disk"
UNDER_REPLICATED = "under_replicated"
LEADER_IMBALANCE = "leader_imbalance"
HOT_WRITE_REGION = "hot_write_region"
RAFT_LOG_LAG = "raft_log_lag"
WRITE_STALL = "write_stall"
SLOW_STORE = "slow_store"
CRITICAL_ERROR = "critical_error"
PD_MEMBER_UNHEALTHY = "pd_member_unhealthy"
PD_LEADER_CHANGED = "pd_leader_changed"

# Signals the subject may report as not measured this tick, in ``Snapshot.extra["unmeasured"]``.
REGION_CHECKS = "region_checks"
HOT_WRITE = "hot_write"
PD_HEALTH = "pd_health"
PD_MEMBERS = "pd_members"
