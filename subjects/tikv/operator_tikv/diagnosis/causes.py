"""The root causes a TiKV diagnosis may name (``SubjectConfig.root_cause_classes``).

These names are a contract: the README's diagnosis section, the evaluation's
scenarios and every stored diagnosis use them.
"""

STORE_DOWN = "store_down"
NETWORK_PARTITION = "network_partition"
SLOW_DISK = "slow_disk"
DISK_FULL = "disk_full"
HOT_REGION = "hot_region"
PD_LEADER_LOST = "pd_leader_lost"
WRITE_STALL = "write_stall"
OVERLOAD = "overload"
UNKNOWN = "unknown"

ROOT_CAUSE_CLASSES: tuple[str, ...] = (
    STORE_DOWN,
    NETWORK_PARTITION,
    SLOW_DISK,
    DISK_FULL,
    HOT_REGION,
    PD_LEADER_LOST,
    WRITE_STALL,
    OVERLOAD,
    UNKNOWN,
)
