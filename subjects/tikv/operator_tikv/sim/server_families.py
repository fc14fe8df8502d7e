"""gRPC, storage, scheduler, coprocessor, read pool, thread and PD-client families of a store.

Label values are the ones TiKV v8.5 emits: gRPC and storage command kinds, coprocessor
request tags (``select``, ``index``, and the ``analyze_*``/``checksum_*`` series a static
metric registers at zero), scheduler stages, thread names as ``/proc`` shows them (15
characters, ``-`` as ``_``) with the unified read pool serving both storage and coprocessor
reads (v8.5's default, so no ``cop_*``/``store_read_*`` threads), or, with
``SimConfig.unified_read_pool`` off, the separate ``store-read-{low,normal,high}`` and
``cop-{low,normal,high}`` future pools of ``src/storage/read_pool.rs`` and
``src/coprocessor/readpool_impl.rs``. Families registered with ``make_static_metric`` exist
at zero from start-up; the others appear with their first event.
"""

from __future__ import annotations

from operator_tikv.sim.derived import Derive
from operator_tikv.sim.store import CPU_CORES, MIB
from operator_tikv.sim.traffic import VALUE_BYTES

# (thread name, share of the store's non-stall CPU); ``{id}`` is the store id.
THREADS = (
    ("grpc_server_0", 0.12),
    ("grpc_server_1", 0.11),
    ("sched_worker_0", 0.05),
    ("sched_worker_1", 0.04),
    ("raftstore_{id}_0", 0.1),
    ("raftstore_{id}_1", 0.08),
    ("apply_0", 0.08),
    ("apply_1", 0.06),
    ("store_write_0", 0.06),
    ("rocksdb:high", 0.02),
    ("rocksdb:low", 0.03),
    ("rocksdb:low", 0.03),
    ("split_check", 0.005),
    ("gc_worker", 0.005),
    ("region_worker", 0.004),
    ("snap_generator", 0.002),
    ("background_0", 0.006),
    ("raftlog_fetch_w", 0.002),
    ("pd_worker", 0.003),
    ("cdcwkr", 0.002),
    ("deadlock_detect", 0.001),
    ("waiter_manager", 0.001),
    ("resolved_ts", 0.001),
    ("advance_ts", 0.001),
    ("sst_importer", 0.001),
)
# The read pools' threads: v8.5's unified pool, or the separate pools it replaces (thread names
# are the pool's prefix and index cut to 15 characters: ``store-read-normal-0`` is
# ``store_read_norm``). Tasks at normal priority dominate: TiDB sends most reads at normal.
UNIFIED_READ_THREADS = (
    ("unified_read_po", 0.07),
    ("unified_read_po", 0.06),
    ("unified_read_po", 0.05),
)
SEPARATE_READ_THREADS = (
    ("store_read_norm", 0.045),
    ("store_read_norm", 0.04),
    ("store_read_high", 0.004),
    ("store_read_low_", 0.002),
    ("cop_normal_0", 0.04),
    ("cop_normal_1", 0.035),
    ("cop_high_0", 0.006),
    ("cop_low_0", 0.002),
)
SEPARATE_POOLS = (
    ("store-read-normal", "read", 0.96),
    ("store-read-high", "read", 0.03),
    ("store-read-low", "read", 0.01),
    ("cop-normal", "cop", 0.9),
    ("cop-high", "cop", 0.08),
    ("cop-low", "cop", 0.02),
)
# Share of the CPU a write stall adds (flush and compaction running flat out).
STALL_THREADS = {"rocksdb:high": 0.4 / 1.8, "rocksdb:low": 0.7 / 1.8}
GRPC_READS = (("kv_get", 0.75), ("kv_batch_get_command", 0.1), ("kv_scan", 0.15))
GRPC_WRITES = (("kv_prewrite", 0.45), ("kv_commit", 0.45), ("kv_pessimistic_lock", 0.1))
GRPC_OTHER = ("kv_gc", "kv_check_txn_status", "kv_resolve_lock", "raw_get", "split_region")
COMMANDS_READ = (("get", 0.75), ("batch_get_command", 0.1), ("scan", 0.15))
COMMANDS_WRITE = (("prewrite", 0.45), ("commit", 0.45), ("acquire_pessimistic_lock", 0.1))
STAGES = ("new", "snapshot", "process", "write", "write_finish")
STAGE_ERRORS = ("snapshot_err", "prepare_write_err", "async_snapshot_err")
COP_REQS = (("select", 0.55), ("index", 0.45))
COP_IDLE = ("analyze_table", "analyze_index", "checksum_table", "checksum_index")
COP_ERRORS = ("lock", "other", "deadline", "max_pending_tasks_exceeded")
PERF_METRICS = (
    ("block_cache_hit_count", 6.0),
    ("block_read_count", 0.3),
    ("block_read_byte", 0.3 * 32 * 1024),
    ("block_read_time", 0.3 * 90_000),
    ("internal_key_skipped_count", 2.0),
    ("internal_delete_skipped_count", 0.2),
    ("encrypt_data_nanos", 0.0),
    ("decrypt_data_nanos", 0.0),
)
PD_REQUESTS = (
    ("store_heartbeat", 0.1, 0.002),
    ("get_region_by_id", 0.05, 0.001),
    ("get_store", 0.02, 0.001),
    ("ask_batch_split", 0.01, 0.002),
    ("report_batch_split", 0.01, 0.002),
    ("get_gc_safe_point", 0.0167, 0.001),
)
# RequestStatusKind of tikv_storage_engine_async_request_total (a static metric) beyond all/success.
ASYNC_ERRORS = (
    "err_timeout",
    "err_other",
    "err_not_leader",
    "err_region_not_found",
    "err_epoch_not_match",
    "err_server_is_busy",
    "err_stale_command",
    "err_store_not_match",
    "err_disk_full",
)
WORKERS = (("pd-worker", 1.0), ("split-check", 0.1), ("region-worker", 0.02), ("cleanup", 0.1))


def server_families(d: Derive) -> None:
    _threads(d)
    _grpc(d)
    _storage(d)
    _coprocessor(d)
    _pools(d)
    _pd_client(d)


def _threads(d: Derive) -> None:
    sig = d.sig
    cpu, stall = sig.count("cpu"), sig.count("stall_cpu")
    sid = str(d.store.id)
    reads = UNIFIED_READ_THREADS if d.store.unified_read_pool else SEPARATE_READ_THREADS
    for k, (name, share) in enumerate((*THREADS, *reads)):
        thread = name.replace("{id}", sid)
        value = cpu * share + stall * STALL_THREADS.get(thread, 0.0)
        d.set("tikv_thread_cpu_seconds_total", (thread, str(4100 + k)), value)


def _grpc(d: Derive) -> None:
    sig = d.sig
    name = "tikv_grpc_msg_duration_seconds"
    d.hist(name, ("coprocessor", "unknown"), "cop", 1.0, 1.05)
    d.hist(name, ("kv_batch_get_command", "unknown"), "read", 0.1, 1.2)
    d.hist(name, ("kv_pessimistic_lock", "unknown"), "write", 0.1, 0.6)
    busy = sig.count("busy")
    for typ, _ in (*GRPC_READS, *GRPC_WRITES, ("coprocessor", 1.0)):
        fails = busy * 0.1 if typ in ("kv_prewrite", "kv_commit") else 0.0
        d.set("tikv_grpc_msg_fail_total", (typ,), fails)
    for typ in GRPC_OTHER:
        d.set("tikv_grpc_msg_fail_total", (typ,), 0.0)
    total = sig.count("read") + sig.count("write") + sig.count("cop")
    d.hist_of("tikv_server_grpc_req_batch_size", (), total / 8, 8.0)
    d.hist_of("tikv_server_grpc_resp_batch_size", (), total / 8, 8.0)
    d.hist_of("tikv_server_request_batch_size", ("get",), sig.count("read") / 4, 4.0)
    d.hist_of("tikv_server_raft_message_batch_size", (), sig.count("raft_io") / 16, 16.0)


def _storage(d: Derive) -> None:
    sig = d.sig
    reads, writes = sig.count("read"), sig.count("write")
    for typ, share in COMMANDS_READ:
        d.set("tikv_storage_command_total", (typ,), reads * share)
        d.hist("tikv_scheduler_processing_read_duration_seconds", (typ,), "read", share, 0.5)
    for typ, share in COMMANDS_WRITE:
        d.set("tikv_storage_command_total", (typ,), writes * share)
        d.set(
            "tikv_scheduler_too_busy_total",
            (typ,),
            d.store.registry.get("tikv_scheduler_too_busy_total", (typ,)),
        )
        for stage in STAGES:
            d.set("tikv_scheduler_stage_total", (typ, stage), writes * share)
        for stage in STAGE_ERRORS:
            d.set("tikv_scheduler_stage_total", (typ, stage), 0.0)
        d.hist_of("tikv_scheduler_kv_command_key_write", (typ,), writes * share, 1.0, 0.3)
        d.hist_of("tikv_scheduler_kv_command_key_read", (typ,), writes * share, 1.0, 0.3)
        for cf, per in (("default", 0.2), ("lock", 1.0), ("write", 1.0)):
            for tag, k in (("get", 1.0), ("seek", 0.5), ("next", 0.5), ("processed_keys", 1.0)):
                d.set("tikv_scheduler_kv_scan_details", (typ, cf, tag), writes * share * per * k)
    for typ, share in COMMANDS_READ:
        d.hist(
            "tikv_storage_check_mem_lock_duration_seconds", (typ, "unlocked"), "read", share, 0.002
        )
        for metric, per in PERF_METRICS:
            d.set("tikv_storage_rocksdb_perf", (typ, metric), reads * share * per)
    d.set("tikv_scheduler_writing_bytes", (), sig.rate("write") * 0.003 * VALUE_BYTES)
    d.set("tikv_scheduler_running_commands", (), round(sig.rate("write") * sig.median("write")))
    d.set("tikv_scheduler_memory_quota_size", ("capacity",), 100 * MIB)
    d.set("tikv_scheduler_memory_quota_size", ("in_use",), sig.rate("write") * 0.003 * VALUE_BYTES)
    for pri, share in (("normal", 1.0), ("high", 0.0), ("low", 0.0)):
        d.set("tikv_scheduler_commands_pri_total", (pri,), writes * share)
    name = "tikv_storage_engine_async_request_duration_seconds"
    d.hist(name, ("snapshot_local_read",), "read", 0.97, 0.1)
    d.hist(name, ("snapshot_read_index_propose_wait",), "read", 0.03, 0.3)
    d.hist(name, ("snapshot_read_index_confirm",), "read", 0.03, 1.5)
    d.set("tikv_raftstore_local_read_executed_requests", (), reads * 0.97)
    moved = sig.count("transfer_leader") + sig.count("campaign")
    for typ in ("snapshot", "write"):
        for status in ASYNC_ERRORS:
            value = moved * 3 if status == "err_not_leader" else 0
            if status == "err_server_is_busy":
                value = sig.count("busy") * 0.2
            d.set("tikv_storage_engine_async_request_total", (typ, status), value)
    for typ, share in COMMANDS_WRITE:
        d.hist("tikv_scheduler_processing_read_duration_seconds", (typ,), "write", share, 0.05)
    ticks = sig.count("tick")
    for kind, per_s, factor in (("store", 1.0, 1.0), ("apply", 1.0, 1.3)):
        n = ticks * per_s * 100
        d.hist_of("tikv_batch_system_fsm_poll_seconds", (kind,), n, 0.002 * factor)
        d.hist_of("tikv_batch_system_fsm_schedule_wait_seconds", (kind,), n, 0.001 * factor)
        d.hist_of("tikv_batch_system_fsm_poll_rounds", (kind,), n, 1.0, 0.3)
        d.hist_of("tikv_batch_system_fsm_count_per_poll", (kind,), n, 16.0, 0.8)
    d.hist("tikv_status_server_request_duration_seconds", ("GET", "/metrics"), "status_req")
    d.set("tikv_raftstore_local_read_executed_stale_read_requests", (), 0.0)


def _coprocessor(d: Derive) -> None:
    sig = d.sig
    cop = sig.count("cop")
    for req, share in COP_REQS:
        d.hist("tikv_coprocessor_request_duration_seconds", (req,), "cop", share)
        d.hist("tikv_coprocessor_request_handle_seconds", (req,), "cop", share, 0.7)
        d.hist("tikv_coprocessor_request_wait_seconds", (req, "all"), "cop_wait", share)
        d.hist("tikv_coprocessor_request_wait_seconds", (req, "schedule"), "cop_wait", share, 0.9)
        d.hist("tikv_coprocessor_request_wait_seconds", (req, "snapshot"), "cop_wait", share, 0.1)
        d.hist_of("tikv_coprocessor_scan_keys", (req, "total"), cop * share, 96.0, 1.0)
        d.hist_of("tikv_coprocessor_scan_keys", (req, "processed_keys"), cop * share, 80.0, 1.0)
        for cf, per in (("default", 80.0), ("lock", 1.0), ("write", 96.0)):
            for tag, k in (("processed_keys", 1.0), ("next", 1.0), ("seek", 0.02), ("get", 0.0)):
                d.set("tikv_coprocessor_scan_details", (req, cf, tag), cop * share * per * k)
        for metric, per in PERF_METRICS:
            d.set("tikv_coprocessor_rocksdb_perf", (req, metric), cop * share * per * 20)
    for req in COP_IDLE:
        d.hist("tikv_coprocessor_request_duration_seconds", (req,), "cop", 0.0)
        d.hist("tikv_coprocessor_request_handle_seconds", (req,), "cop", 0.0)
    for reason in COP_ERRORS:
        value = sig.count("busy") * 0.5 if reason == "max_pending_tasks_exceeded" else 0.0
        d.set("tikv_coprocessor_request_error", (reason,), value)
    d.set("tikv_coprocessor_response_bytes", (), cop * 80 * 40)
    d.set("tikv_coprocessor_dag_request_count", ("batch",), cop)
    d.hist("tikv_coprocessor_mem_lock_check_duration_seconds", ("unlocked",), "cop", 1.0, 0.002)
    d.hist("tikv_coprocessor_semaphore_wait_time_duration_seconds", (), "cop_wait", 1.0, 0.1)


def _pools(d: Derive) -> None:
    sig = d.sig
    unified = d.store.unified_read_pool
    pools = (("unified-read-pool", "read_wait"),) if unified else ()
    for pool, signal in (*pools, ("sched-worker-pool", "sched_wait")):
        d.hist("tikv_yatp_pool_schedule_wait_duration", (pool, "medium"), signal)
        d.hist("tikv_yatp_pool_schedule_exec_duration", (pool, "medium"), signal, 1.0, 40)
    if unified:
        busy = min(CPU_CORES, (sig.rate("read") + sig.rate("cop")) * sig.median("cop", 0.001))
        d.set("tikv_unified_read_pool_thread_count", ("unified-read-pool",), CPU_CORES)
        d.set("tikv_unified_read_pool_running_tasks", ("unified-read-pool", "medium"), round(busy))
    else:
        for pool, signal, share in SEPARATE_POOLS:
            d.set("tikv_futurepool_pending_task_total", (pool, "medium"), 0.0)
            d.set("tikv_futurepool_handled_task_total", (pool,), sig.count(signal) * share)
    ticks = sig.count("tick")
    for name, per_s in WORKERS:
        d.set("tikv_worker_handled_task_total", (name,), ticks * per_s)
    d.set("tikv_futurepool_pending_task_total", ("sched-worker-pool", "medium"), 0.0)
    d.set("tikv_futurepool_handled_task_total", ("sched-worker-pool",), sig.count("write"))
    d.set("tikv_storage_process_stat_cpu_usage", (), sig.rate("cpu") / CPU_CORES)


def _pd_client(d: Derive) -> None:
    ticks = d.sig.count("tick")
    for typ, per_s, median in PD_REQUESTS:
        d.hist_of("tikv_pd_request_duration_seconds", (typ,), ticks * per_s, median, 0.4)
    d.set("tikv_pd_pending_heartbeat_total", (), 0.0)
    checked = d.sig.count("campaign")
    if checked:
        d.set("tikv_pd_validate_peer_total", ("peer valid",), checked)
