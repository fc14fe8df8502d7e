"""The metric families a PD v8.5.7 process exports that the simulator serves.

Names, types, label names and help texts are PD's (the registering file is named beside each
group, under tikv/pd at v8.5.7); bucket layouts are the ``prometheus.*Buckets`` calls there.
Go runtime and process families are client_golang v1.20.5's (PD registers
``collectors.NewGoCollector(WithGoCollectorRuntimeMetrics(MetricsGC, MetricsMemory,
MetricsScheduler))`` in pkg/basicserver/metrics.go), with help texts from the Go runtime's
``runtime/metrics`` descriptions; etcd families are etcd v3.5.15's server metrics.
"""

from __future__ import annotations

from operator_tikv.sim.encode import exponential_buckets
from operator_tikv.sim.metrics import Family


def _exp(start: float, factor: float, count: int) -> tuple[float, ...]:
    return tuple(exponential_buckets(start, factor, count))


def _lin(start: float, width: float, count: int) -> tuple[float, ...]:
    return tuple(start + width * k for k in range(count))


_DEF_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_OP_SECONDS = (
    0.5,
    1,
    2,
    4,
    8,
    16,
    20,
    40,
    60,
    90,
    120,
    180,
    240,
    300,
    480,
    600,
    720,
    900,
    1200,
    1800,
    3600,
)
# client_golang re-buckets the runtime's histograms; these are the bounds a Go 1.23 process shows.
_GO_SIZE = (
    8.999999999999998,
    24.999999999999996,
    64.99999999999999,
    144.99999999999997,
    320.99999999999994,
    704.9999999999999,
    1536.9999999999998,
    3200.9999999999995,
    6528.999999999999,
    13568.999999999998,
    27264.999999999996,
)
_GO_SECONDS = (
    6.399999999999999e-08,
    6.399999999999999e-07,
    7.167999999999999e-06,
    8.191999999999999e-05,
    0.0009175039999999999,
    0.010485759999999998,
    0.11744051199999998,
)
_ETCD_DISK = _exp(0.001, 2, 14)


def _f(
    name: str,
    kind: str,
    help_text: str,
    labels: tuple[str, ...] = (),
    buckets: tuple[float, ...] = (),
) -> Family:
    return Family(name, kind, help_text, labels, tuple(float(b) for b in buckets))


_ALL = (
    # process collector (client_golang prometheus/process_collector.go)
    _f("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds."),
    _f("process_open_fds", "gauge", "Number of open file descriptors."),
    _f("process_max_fds", "gauge", "Maximum number of open file descriptors."),
    _f("process_resident_memory_bytes", "gauge", "Resident memory size in bytes."),
    _f("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes."),
    _f(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
    ),
    # Go collector (client_golang prometheus/go_collector.go, runtime/metrics descriptions)
    _f("go_goroutines", "gauge", "Number of goroutines that currently exist."),
    _f("go_threads", "gauge", "Number of OS threads created."),
    _f(
        "go_memstats_alloc_bytes_total",
        "counter",
        "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.",
    ),
    _f(
        "go_memstats_mallocs_total",
        "counter",
        "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.",
    ),
    _f(
        "go_memstats_frees_total",
        "counter",
        "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.",
    ),
    _f(
        "go_memstats_heap_alloc_bytes",
        "gauge",
        "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.",
    ),
    _f(
        "go_memstats_heap_sys_bytes",
        "gauge",
        "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.",
    ),
    _f(
        "go_memstats_heap_idle_bytes",
        "gauge",
        "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.",
    ),
    _f(
        "go_memstats_heap_inuse_bytes",
        "gauge",
        "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes",
    ),
    _f(
        "go_memstats_heap_released_bytes",
        "gauge",
        "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.",
    ),
    _f(
        "go_memstats_heap_objects",
        "gauge",
        "Number of currently allocated objects. Equals to /gc/heap/objects:objects.",
    ),
    _f(
        "go_memstats_next_gc_bytes",
        "gauge",
        "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.",
    ),
    _f(
        "go_memstats_last_gc_time_seconds",
        "gauge",
        "Number of seconds since 1970 of last garbage collection.",
    ),
    _f(
        "go_gc_cycles_automatic_gc_cycles_total",
        "counter",
        "Count of completed GC cycles generated by the Go runtime.",
    ),
    _f(
        "go_gc_cycles_forced_gc_cycles_total",
        "counter",
        "Count of completed GC cycles forced by the application.",
    ),
    _f("go_gc_cycles_total_gc_cycles_total", "counter", "Count of all completed GC cycles."),
    _f(
        "go_gc_gogc_percent",
        "gauge",
        "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function.",
    ),
    _f(
        "go_gc_gomemlimit_bytes",
        "gauge",
        "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function.",
    ),
    _f(
        "go_gc_limiter_last_enabled_gc_cycle",
        "gauge",
        "GC cycle the last time the GC CPU limiter was enabled. This metric is useful for diagnosing the root cause of an out-of-memory error, because the limiter trades memory for CPU time when the GC's CPU time gets too high. This is most likely to occur with use of SetMemoryLimit. The first GC cycle is cycle 1, so a value of 0 indicates that it was never enabled.",
    ),
    _f(
        "go_gc_heap_allocs_by_size_bytes",
        "histogram",
        "Distribution of heap allocations by approximate size. Bucket counts increase monotonically. Note that this does not include tiny objects as defined by /gc/heap/tiny/allocs:objects, only tiny blocks.",
        buckets=_GO_SIZE,
    ),
    _f(
        "go_gc_heap_allocs_bytes_total",
        "counter",
        "Cumulative sum of memory allocated to the heap by the application.",
    ),
    _f(
        "go_gc_heap_allocs_objects_total",
        "counter",
        "Cumulative count of heap allocations triggered by the application. Note that this does not include tiny objects as defined by /gc/heap/tiny/allocs:objects, only tiny blocks.",
    ),
    _f(
        "go_gc_heap_frees_by_size_bytes",
        "histogram",
        "Distribution of freed heap allocations by approximate size. Bucket counts increase monotonically. Note that this does not include tiny objects as defined by /gc/heap/tiny/allocs:objects, only tiny blocks.",
        buckets=_GO_SIZE,
    ),
    _f(
        "go_gc_heap_frees_bytes_total",
        "counter",
        "Cumulative sum of heap memory freed by the garbage collector.",
    ),
    _f(
        "go_gc_heap_frees_objects_total",
        "counter",
        "Cumulative count of heap allocations whose storage was freed by the garbage collector. Note that this does not include tiny objects as defined by /gc/heap/tiny/allocs:objects, only tiny blocks.",
    ),
    _f(
        "go_memory_classes_heap_free_bytes",
        "gauge",
        "Memory that is completely free and eligible to be returned to the underlying system, but has not been. This metric is the runtime's estimate of free address space that is backed by physical memory.",
    ),
    _f(
        "go_memory_classes_heap_objects_bytes",
        "gauge",
        "Memory occupied by live objects and dead objects that have not yet been marked free by the garbage collector.",
    ),
    _f(
        "go_memory_classes_heap_released_bytes",
        "gauge",
        "Memory that is completely free and has been returned to the underlying system. This metric is the runtime's estimate of free address space that is still mapped into the process, but is not backed by physical memory.",
    ),
    _f(
        "go_memory_classes_heap_stacks_bytes",
        "gauge",
        "Memory allocated from the heap that is reserved for stack space, whether or not it is currently in-use. Currently, this represents all stack memory for goroutines. It also includes all OS thread stacks in non-cgo programs. Note that stacks may be allocated differently in the future, and this may change.",
    ),
    _f(
        "go_memory_classes_heap_unused_bytes",
        "gauge",
        "Memory that is reserved for heap objects but is not currently used to hold heap objects.",
    ),
    _f(
        "go_memory_classes_metadata_mcache_free_bytes",
        "gauge",
        "Memory that is reserved for runtime mcache structures, but not in-use.",
    ),
    _f(
        "go_memory_classes_metadata_mcache_inuse_bytes",
        "gauge",
        "Memory that is occupied by runtime mcache structures that are currently being used.",
    ),
    _f(
        "go_memory_classes_metadata_mspan_free_bytes",
        "gauge",
        "Memory that is reserved for runtime mspan structures, but not in-use.",
    ),
    _f(
        "go_memory_classes_metadata_mspan_inuse_bytes",
        "gauge",
        "Memory that is occupied by runtime mspan structures that are currently being used.",
    ),
    _f(
        "go_memory_classes_metadata_other_bytes",
        "gauge",
        "Memory that is reserved for or used to hold runtime metadata.",
    ),
    _f(
        "go_memory_classes_os_stacks_bytes",
        "gauge",
        "Stack memory allocated by the underlying operating system. In non-cgo programs this metric is currently zero. This may change in the future.In cgo programs this metric includes OS thread stacks allocated directly from the OS. Currently, this only accounts for one stack in c-shared and c-archive build modes, and other sources of stacks from the OS are not measured. This too may change in the future.",
    ),
    _f(
        "go_memory_classes_other_bytes",
        "gauge",
        "Memory used by execution trace buffers, structures for debugging the runtime, finalizer and profiler specials, and more.",
    ),
    _f(
        "go_memory_classes_profiling_buckets_bytes",
        "gauge",
        "Memory that is used by the stack trace hash map used for profiling.",
    ),
    _f(
        "go_sched_latencies_seconds",
        "histogram",
        "Distribution of the time goroutines have spent in the scheduler in a runnable state before actually running. Bucket counts increase monotonically.",
        buckets=_GO_SECONDS,
    ),
    _f(
        "go_sched_pauses_stopping_gc_seconds",
        "histogram",
        "Distribution of individual GC-related stop-the-world stopping latencies. This is the time it takes from deciding to stop the world until all Ps are stopped. This is a subset of the total GC-related stop-the-world time (/sched/pauses/total/gc:seconds). During this time, some threads may be executing. Bucket counts increase monotonically.",
        buckets=_GO_SECONDS,
    ),
    _f(
        "go_sched_pauses_stopping_other_seconds",
        "histogram",
        "Distribution of individual non-GC-related stop-the-world stopping latencies. This is the time it takes from deciding to stop the world until all Ps are stopped. This is a subset of the total non-GC-related stop-the-world time (/sched/pauses/total/other:seconds). During this time, some threads may be executing. Bucket counts increase monotonically.",
        buckets=_GO_SECONDS,
    ),
    _f(
        "go_sched_pauses_total_gc_seconds",
        "histogram",
        "Distribution of individual GC-related stop-the-world pause latencies. This is the time from deciding to stop the world until the world is started again. Some of this time is spent getting all threads to stop (this is measured directly in /sched/pauses/stopping/gc:seconds), during which some threads may still be running. Bucket counts increase monotonically.",
        buckets=_GO_SECONDS,
    ),
    _f(
        "go_sched_pauses_total_other_seconds",
        "histogram",
        "Distribution of individual non-GC-related stop-the-world pause latencies. This is the time from deciding to stop the world until the world is started again. Some of this time is spent getting all threads to stop (measured directly in /sched/pauses/stopping/other:seconds). Bucket counts increase monotonically.",
        buckets=_GO_SECONDS,
    ),
    # etcd v3.5 server (embedded in every PD member)
    _f(
        "etcd_server_has_leader",
        "gauge",
        "Whether or not a leader exists. 1 is existence, 0 is not.",
    ),
    _f(
        "etcd_server_is_leader",
        "gauge",
        "Whether or not this member is a leader. 1 if is, 0 otherwise.",
    ),
    _f(
        "etcd_mvcc_db_total_size_in_bytes",
        "gauge",
        "Total size of the underlying database physically allocated in bytes.",
    ),
    _f(
        "etcd_mvcc_db_total_size_in_use_in_bytes",
        "gauge",
        "Total size of the underlying database logically in use in bytes.",
    ),
    _f(
        "etcd_disk_wal_fsync_duration_seconds",
        "histogram",
        "The latency distributions of fsync called by WAL.",
        buckets=_ETCD_DISK,
    ),
    _f(
        "etcd_disk_backend_commit_duration_seconds",
        "histogram",
        "The latency distributions of commit called by backend.",
        buckets=_ETCD_DISK,
    ),
    _f(
        "etcd_network_peer_round_trip_time_seconds",
        "histogram",
        "Round-Trip-Time histogram between peers",
        ("To",),
        _exp(0.0001, 2, 16),
    ),
    # go-grpc-prometheus v1.2.0 (handling-time histogram enabled by PD's server)
    _f(
        "grpc_server_handling_seconds",
        "histogram",
        "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
        ("grpc_method", "grpc_service", "grpc_type"),
        _DEF_BUCKETS,
    ),
    # pkg/basicserver/metrics.go, pkg/member/metrics.go, server/metrics.go
    _f("pd_service_maxprocs", "gauge", "The value of GOMAXPROCS."),
    _f("pd_service_memory_quota_bytes", "gauge", "The value of memory quota bytes."),
    _f("service_member_role", "gauge", "The leader/primary of services", ("service",)),
    _f("pd_server_etcd_state", "gauge", "Etcd raft states.", ("type",)),
    _f("pd_cluster_metadata", "gauge", "Record critical metadata.", ("type",)),
    _f("pd_server_api_concurrency", "gauge", "Concurrency number of the api.", ("kind", "api")),
    _f(
        "pd_service_audit_handling_seconds",
        "histogram",
        "PD server service handling performance metrics",
        ("service", "method"),
        _DEF_BUCKETS,
    ),
    _f(
        "pd_server_handle_tso_duration_seconds",
        "histogram",
        "Bucketed histogram of processing time (s) of handled tso requests.",
        buckets=_exp(0.0005, 2, 13),
    ),
    _f(
        "pd_server_query_region_duration_seconds",
        "histogram",
        "Bucketed histogram of processing time (s) of region query requests.",
        buckets=_exp(0.0005, 2, 13),
    ),
    _f(
        "pd_scheduler_region_heartbeat",
        "counter",
        "Counter of region heartbeat.",
        ("address", "store", "type", "status"),
    ),
    _f(
        "pd_scheduler_handle_region_heartbeat_duration_seconds",
        "histogram",
        "Bucketed histogram of processing time (s) of handled region heartbeat requests.",
        ("address", "store"),
        _exp(0.0001, 2, 29),
    ),
    _f(
        "pd_scheduler_handle_store_heartbeat_duration_seconds",
        "histogram",
        "Bucketed histogram of processing time (s) of handled store heartbeat requests.",
        ("address", "store"),
        _exp(0.0001, 2, 29),
    ),
    # pkg/storage/kv/metrics.go, pkg/utils/etcdutil/metrics.go, pkg/id/metrics.go, pkg/syncer/metrics.go
    _f(
        "pd_txn_handle_txns_duration_seconds",
        "histogram",
        "Bucketed histogram of processing time (s) of handled txns.",
        ("result",),
        _exp(0.001, 2, 17),
    ),
    _f("pd_server_etcd_client", "gauge", "Etcd client states.", ("source", "type")),
    _f(
        "pd_server_etcd_endpoint_latency_seconds",
        "histogram",
        "Bucketed histogram of latency of health check.",
        ("source", "endpoint"),
        (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    ),
    _f("pd_cluster_id", "gauge", "Record of id allocator.", ("type",)),
    _f("pd_region_syncer_status", "gauge", "Inner status of the region syncer.", ("type",)),
    # pkg/tso/metrics.go
    _f("pd_tso_events", "counter", "Counter of tso events", ("type", "group", "dc")),
    _f("pd_cluster_tso", "gauge", "Record of tso metadata.", ("type", "group", "dc")),
    _f(
        "pd_cluster_tso_gap_millionseconds",
        "gauge",
        "The minimal (non-zero) TSO gap for each DC.",
        ("group", "dc"),
    ),
    _f(
        "pd_tso_role",
        "gauge",
        "Indicate the PD server role info, whether it's a TSO allocator.",
        ("group", "dc"),
    ),
    # server/cluster/metrics.go, pkg/core/metrics.go
    _f("pd_cluster_health_status", "gauge", "Status of the cluster.", ("name",)),
    _f("pd_cluster_region_event", "counter", "Counter of the region event", ("event",)),
    _f(
        "pd_core_query_region_duration_seconds",
        "histogram",
        "Bucketed histogram of processing time (s) of region query.",
        ("type",),
        _exp(0.0005, 2, 13),
    ),
    _f("pd_core_query_region_count", "counter", "The number of region query types.", ("type",)),
    # pkg/statistics/metrics.go, store_collection.go
    _f("pd_cluster_status", "gauge", "Status of the cluster.", ("type", "engine", "store")),
    _f("pd_regions_status", "gauge", "Status of the regions.", ("type",)),
    _f(
        "pd_regions_label_level",
        "gauge",
        "Number of regions in the different label level.",
        ("type",),
    ),
    _f(
        "pd_cluster_placement_status",
        "gauge",
        "Status of the cluster placement.",
        ("type", "name", "store"),
    ),
    _f("pd_config_status", "gauge", "Status of the scheduling configurations.", ("type",)),
    _f("pd_cluster_store_limit", "gauge", "Status of the store limit.", ("store", "type")),
    _f(
        "pd_scheduler_store_status",
        "gauge",
        "Store status for schedule",
        ("address", "store", "type"),
    ),
    _f(
        "pd_scheduler_hot_peers_summary",
        "gauge",
        "Hot peers summary for each store",
        ("type", "store"),
    ),
    _f("pd_hotcache_status", "gauge", "Status of the hotspot.", ("name", "store", "type")),
    _f(
        "pd_scheduler_read_byte_hist",
        "histogram",
        "The distribution of region read bytes",
        buckets=_exp(1, 8, 12),
    ),
    _f(
        "pd_scheduler_write_byte_hist",
        "histogram",
        "The distribution of region write bytes",
        buckets=_exp(1, 8, 12),
    ),
    _f(
        "pd_scheduler_read_key_hist",
        "histogram",
        "The distribution of region read keys",
        buckets=_exp(1, 2, 18),
    ),
    _f(
        "pd_scheduler_write_key_hist",
        "histogram",
        "The distribution of region write keys",
        buckets=_exp(1, 2, 18),
    ),
    _f(
        "pd_scheduler_region_heartbeat_interval_hist",
        "histogram",
        "Bucketed histogram of the batch size of handled requests.",
        buckets=_lin(0, 30, 20),
    ),
    _f(
        "pd_scheduler_store_heartbeat_interval_hist",
        "histogram",
        "Bucketed histogram of the batch size of handled requests.",
        buckets=_lin(0, 5, 12),
    ),
    # pkg/schedule/metrics.go, pkg/schedule/schedulers/metrics.go
    _f("pd_scheduler_hot_region", "counter", "Counter of hot region scheduler.", ("type", "store")),
    _f("pd_hotspot_status", "gauge", "Status of the hotspot.", ("address", "store", "type")),
    _f("pd_scheduler_status", "gauge", "Status of the scheduler.", ("kind", "type")),
    _f("pd_scheduler_event_count", "counter", "Counter of scheduler events.", ("type", "name")),
    _f(
        "pd_scheduler_balance_direction",
        "counter",
        "Counter of direction of balance related schedulers.",
        ("type", "store", "direction"),
    ),
    _f(
        "pd_scheduler_evicted_slow_store_status",
        "gauge",
        "Store evicted status due to slow",
        ("store", "slow_type"),
    ),
    _f("pd_rule_manager_status", "gauge", "Status of the rule.", ("type",)),
    # pkg/schedule/operator/metrics.go, pkg/schedule/checker/metrics.go, server/config/metrics.go
    _f(
        "pd_schedule_operators_count",
        "counter",
        "Counter of schedule operators.",
        ("type", "event"),
    ),
    _f(
        "pd_schedule_finish_operators_duration_seconds",
        "histogram",
        "Bucketed histogram of processing time (s) of finished operator.",
        ("type",),
        _OP_SECONDS,
    ),
    _f(
        "pd_schedule_finish_operator_steps_duration_seconds",
        "histogram",
        "Bucketed histogram of processing time (s) of finished operator step.",
        ("type",),
        _OP_SECONDS,
    ),
    _f(
        "pd_schedule_operator_region_size",
        "histogram",
        "Bucketed histogram of the operator region size.",
        ("type",),
        _exp(1, 2, 20),
    ),
    _f(
        "pd_hbstream_region_message",
        "counter",
        "Counter of message hbstream sent.",
        ("address", "store", "type", "status"),
    ),
    _f(
        "pd_schedule_operator_limit",
        "counter",
        "Counter of operator meeting limit",
        ("type", "name"),
    ),
    _f("pd_checker_event_count", "counter", "Counter of checker events.", ("type", "name")),
    _f("pd_checker_patrol_regions_time", "gauge", "Time spent of patrol checks region."),
    _f(
        "pd_scheduling_allowance_status",
        "gauge",
        "Status of the scheduling allowance.",
        ("kind",),
    ),
)

PD_FAMILIES: dict[str, Family] = {f.name: f for f in _ALL}
