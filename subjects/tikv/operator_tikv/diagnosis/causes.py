"""The root causes a TiKV diagnosis may name (``SubjectConfig.root_cause_classes``).

These names are a contract: the README's diagnosis section, the evaluation's
scenarios and every stored diagnosis use them.

``critical_error``: the store counts ``tikv_critical_error_total`` (SST corruption, a disk
that fails fast, ...; components/tikv_util/src/metrics/mod.rs) or logged a panic (TiKV's
panic hook logs at FATAL before the process exits; tikv_util/src/lib.rs
``set_panic_hook``). Neither is a slow disk nor a store that was merely stopped.
"""

STORE_DOWN = "store_down"
NETWORK_PARTITION = "network_partition"
SLOW_DISK = "slow_disk"
DISK_FULL = "disk_full"
HOT_REGION = "hot_region"
PD_LEADER_LOST = "pd_leader_lost"
WRITE_STALL = "write_stall"
OVERLOAD = "overload"
CRITICAL_ERROR = "critical_error"
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
    CRITICAL_ERROR,
    UNKNOWN,
)
