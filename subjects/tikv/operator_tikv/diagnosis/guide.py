"""What core's diagnosers are told about TiKV: the figures worth comparing, and notes for the model.

The floors are the smallest absolute move of a store's figure worth reporting
around a ticket (a relative move of 30% is asked as well); below them a figure
is noise on a healthy cluster.
"""

from operator_tui.core.subject import ComparedMetric

COMPARED_METRICS: tuple[ComparedMetric, ...] = (
    ComparedMetric("qps", 50.0),
    ComparedMetric("p99_latency_ms", 5.0),
    ComparedMetric("p99_write_latency_ms", 5.0),
    ComparedMetric("cpu_ratio", 0.15),
    ComparedMetric("raft_log_lag", 20.0),
    ComparedMetric("write_stall", 0.5),
    ComparedMetric("channel_full_per_s", 0.5),
    ComparedMetric("scheduler_busy_per_s", 0.5),
    ComparedMetric("slow_score", 10.0),
    ComparedMetric("leader_count", 3.0),
    ComparedMetric("region_count", 3.0),
    ComparedMetric("used_ratio", 0.05),
)

DIAGNOSIS_GUIDE = """\
- The cluster is TiKV scheduled by PD. The `cluster` block holds PD's view: its members and \
leader, regions missing or with down/pending/offline peers, and the schedule limits.
- A store's `state` is PD's word (Up, Disconnected, Down, Offline, Tombstone); PD keeps a killed \
store Up for about 20 s without heartbeats, so a store whose status port stopped answering \
(`reachable` false) is gone sooner than PD says.
- A store whose status port answers while PD reports it Disconnected is cut off from PD and its \
peers (network_partition), not down.
- `slow_score` (TiKV's, 1 to 100) near 1 is healthy and rises as the store's disk stalls. `write_stall`, \
`channel_full_per_s` and `scheduler_busy_per_s` above zero mean RocksDB or the scheduler is \
throttling writes. `write_stall_reasons_per_s` is why RocksDB stalls, by TiKV's name \
(`level0_file_limit_*`, `pending_compaction_bytes_*`, `memtable_count_limit_*`: flush and \
compaction debt). A filling disk does not stall RocksDB (TiKV rejects writes to a full disk \
at raftstore, DiskFull): a stall with a stated reason on a store whose disk also fills is two \
causes, not one.
- `hot_write_regions` lists PD's hottest write regions by leader store; one region carrying most \
of the flow is a hot spot that splitting or moving its leader relieves.
- PD members that stop answering together with timeouts (not refused connections) are electing \
a leader: pd_leader_lost."""
