"""Raftstore families of a store: proposals, waits, the write waterfall, IO reasons, snapshots.

Latencies follow the step's signals: a slow disk lengthens the raft engine's writes
(``raft_io``: store write loop, persist, ``raft_fetch_log``), a write stall the kv engine's
(``kv_io``: apply), so the dashboards show a slow disk and a stall apart, as on a real store.
Peers created at start-up read their raft and apply state once (the ``init_*`` IO reasons);
later peers are created by snapshots and destroyed by removals.
"""

from __future__ import annotations

from operator_tikv.sim.derived import Derive
from operator_tikv.sim.encode import NS
from operator_tikv.sim.traffic import VALUE_BYTES

# tikv_raftstore_store_wf_*: the stages of one write, as shares of its commit latency.
WATERFALL = (
    ("batch_wait", 0.05),
    ("send_to_queue", 0.08),
    ("send_proposal", 0.1),
    ("before_write", 0.3),
    ("write_kvdb_end", 0.5),
    ("write_end", 0.6),
    ("persist", 0.65),
    ("commit_not_persist_log", 0.9),
    ("commit_log", 1.0),
)
READ_REASONS = (
    # (reason, signal of the events, share of them)
    ("raft_fetch_log", "raft_io", 0.002),
    ("raft_term", "raft_io", 0.01),
    ("store_check_msg", "raft_io", 0.0005),
    ("init_raft_state", "peer_create", 1.0),
    ("init_apply_state", "peer_create", 1.0),
    ("entry_storage_create", "peer_create", 1.0),
    ("peer_maybe_create", "peer_create", 1.0),
    ("peer_snapshot_read", "snap_gen", 1.0),
)
WRITE_REASONS = (
    ("peer_destroy_kv_write", "peer_destroy", 1.0),
    ("peer_destroy_raft_write", "peer_destroy", 1.0),
)
PERF_TYPES = (
    ("write_wal", 0.3),
    ("write_memtable", 0.2),
    ("pre_and_post_process", 0.1),
    ("write_thread_wait", 0.05),
    ("db_mutex_lock", 0.02),
)
EVENTS = (
    ("pd_store_heartbeat", 0.1, 0.004),
    ("compact_check", 0.02, 0.002),
    ("snap_gc", 0.0167, 0.002),
    ("compact_lock_cf", 0.1, 0.001),
    ("cleanup_import_sst", 0.1, 0.001),
    ("raft_engine_purge", 0.1, 0.01),
    ("peer_msg", 10.0, 0.0015),
    ("store_msg", 1.0, 0.0015),
)
MESSAGES_PER_APPEND = (("append_resp", 1.0), ("heartbeat_resp", 0.0))


def raftstore_families(d: Derive) -> None:
    _waits(d)
    _io(d)
    _proposals(d)
    _messages(d)
    _snapshots(d)
    _checks(d)
    _load(d)
    _resolved_ts(d)


def _waits(d: Derive) -> None:
    d.hist("tikv_raftstore_request_wait_time_duration_secs", (), "propose_wait")
    d.hist("tikv_raftstore_apply_wait_time_duration_secs", (), "apply_wait")
    d.hist("tikv_raftstore_store_write_loop_duration_seconds", (), "raft_io", 1.0, 1.2)
    d.hist("tikv_raftstore_store_write_task_wait_duration_secs", (), "raft_io", 1.0, 0.2)
    d.hist("tikv_raftstore_store_write_handle_msg_duration_secs", (), "raft_io", 1.0, 0.05)
    d.hist("tikv_raftstore_store_write_msg_block_wait_duration_seconds", (), "raft_io", 0.0)
    d.hist("tikv_raftstore_store_duration_secs", (), "raft_io", 1.0, 0.8)
    d.hist("tikv_raftstore_apply_duration_secs", (), "kv_io", 1.0, 1.1)
    for stage, share in WATERFALL:
        name = f"tikv_raftstore_store_wf_{stage}_duration_seconds"
        d.hist(name, (), "commit", 1.0, share)
    for typ, share in PERF_TYPES:
        d.hist("tikv_raftstore_store_perf_context_time_duration_secs", (typ,), "raft_io", 1, share)
        d.hist("tikv_raftstore_apply_perf_context_time_duration_secs", (typ,), "kv_io", 1, share)
    sig = d.sig
    appends = sig.count("raft_io")
    d.hist_of("tikv_raftstore_store_write_trigger_wb_bytes", (), appends / 4, 4 * VALUE_BYTES)
    d.hist_of("tikv_raftstore_propose_log_size", (), sig.count("write"), VALUE_BYTES * 1.2, 0.4)
    d.hist_of("tikv_raftstore_apply_proposal", (), appends / 2, 2.0, 0.5)
    d.hist_of("tikv_raftstore_peer_msg_len", (), appends / 2, 2.0, 0.5)
    d.hist_of("tikv_raftstore_apply_msg_len", (), appends / 2, 2.0, 0.5)
    d.hist_of("tikv_raftstore_apply_key_size", (), appends, 40.0, 0.3)
    d.hist_of("tikv_raftstore_apply_value_size", (), appends, VALUE_BYTES, 0.3)
    d.hist("tikv_raftstore_raft_log_gc_write_duration_secs", (), "raft_io", 0.001, 2.0)
    d.hist("tikv_raftstore_raft_log_kv_sync_duration_secs", (), "kv_io", 0.001, 3.0)
    ticks = sig.count("tick")
    for typ, per_s, median in EVENTS:
        d.hist_of("tikv_raftstore_event_duration", (typ,), ticks * per_s, median, 0.5)


def _io(d: Derive) -> None:
    for reason, signal, share in READ_REASONS:
        if d.sig.count(signal):
            d.hist("tikv_raftstore_io_duration_seconds", ("read", reason), signal, share, 0.3)
    for reason, signal, share in WRITE_REASONS:
        if d.sig.count(signal):
            d.hist("tikv_raftstore_io_duration_seconds", ("write", reason), signal, share)


def _proposals(d: Derive) -> None:
    sig = d.sig
    reads, writes = sig.count("read"), sig.count("write")
    for typ, value in (
        ("local_read", reads * 0.97),
        ("read_index", reads * 0.03),
        ("normal", writes),
        ("batch", writes * 0.8),
        ("conf_change", sig.count("conf_change")),
        ("transfer_leader", sig.count("transfer_leader")),
        ("dropped_read_index", 0.0),
        ("invalid_proposal", 0.0),
    ):
        d.set("tikv_raftstore_proposal_total", (typ,), value)
    appends = sig.count("raft_io")
    for typ, value in (
        ("message", appends * 2),
        ("commit", writes),
        ("append", appends),
        ("snapshot", sig.count("snap_apply")),
        ("pending_region", 0.0),
        ("has_ready_region", appends),
    ):
        d.set("tikv_raftstore_raft_ready_handled_total", (typ,), value)
    for typ, value in (("async_fetch", appends * 0.002), ("sync_fetch", 0.0)):
        d.set("tikv_raftstore_entry_fetches", (typ,), value)
    d.set("tikv_raftstore_local_read_reject_total", ("no_lease",), sig.count("campaign"))
    region_count = d.store.region_count
    d.set("tikv_raftstore_hibernated_peer_state", ("awaken",), region_count)
    d.set("tikv_raftstore_hibernated_peer_state", ("hibernated",), 0)


def _messages(d: Derive) -> None:
    """Raft messages this store sent beyond the appends and heartbeats counted each step."""
    sig = d.sig
    reg = d.store.registry
    name = "tikv_raftstore_raft_sent_message_total"
    appends = reg.get(name, ("append", "accept"))
    beats = reg.get(name, ("heartbeat", "accept"))
    campaigns = sig.count("campaign")
    voted = sig.count("voted")
    for typ, value in (
        ("append_resp", appends),
        ("heartbeat_resp", beats),
        ("vote", campaigns * 2),
        ("vote_resp", voted),
        ("request_pre_vote", campaigns * 2),
        ("request_pre_vote_resp", voted),
        ("timeout_now", sig.count("transfer_leader")),
    ):
        d.set(name, (typ, "accept"), value)
    d.set(name, ("snapshot", "accept"), reg.get(name, ("snapshot", "accept")))
    d.set(name, ("append", "drop"), 0.0)
    received = appends + beats + voted
    d.set("tikv_server_raft_message_recv_total", (), received)
    d.set("tikv_server_raft_message_flush_total", ("delay",), received / 8)
    d.set("tikv_server_raft_message_flush_total", ("full",), 0.0)


def _snapshots(d: Derive) -> None:
    sig = d.sig
    d.hist("tikv_raftstore_snapshot_duration_seconds", ("generate",), "snap_gen")
    d.hist("tikv_raftstore_snapshot_duration_seconds", ("apply",), "snap_apply")
    d.hist("tikv_server_send_snapshot_duration_seconds", (), "snap_send")
    d.hist("tikv_snapshot_size", (), "snap_size")
    d.hist_of("tikv_snapshot_kv_count", (), sig.count("snap_gen"), 70_000.0, 0.3)


def _load(d: Derive) -> None:
    d.hist("tikv_region_written_keys", (), "region_written_keys")
    d.hist("tikv_region_written_bytes", (), "region_written_bytes")
    for typ, signal in (
        ("qps", "split_load_qps"),
        ("bytes_kib", "split_load_kib"),
        ("cpu_millicores", "split_load_cpu"),
    ):
        d.hist("tikv_load_base_split_region_load", (typ,), signal)


def _checks(d: Derive) -> None:
    sig = d.sig
    region_count = d.store.region_count
    ticks = sig.count("tick")
    # The split checker visits each region about every 10 s.
    checked = sig.count("split_check") + ticks * region_count / 10
    d.set("tikv_raftstore_check_split_total", ("check",), checked)
    d.set("tikv_raftstore_check_split_total", ("ignore",), checked * 0.95)
    d.set("tikv_raftstore_check_split_total", ("success",), sig.count("split"))
    d.hist_of("tikv_raftstore_check_split_duration_seconds", (), checked, 0.0004, 0.5)
    for typ in ("all", "store_process", "store_wait", "store_write", "apply", "disk"):
        d.hist("tikv_raftstore_inspect_duration_seconds", (typ,), "inspect")


# resolved-ts.advance-ts-interval (20 s in v8.5): how often leaders confirm their leadership.
ADVANCE_TS_S = 20.0


def _resolved_ts(d: Derive) -> None:
    """Resolved ts advances every 20 s once each leader's peers confirm it (check leader);
    a cut-off store cannot, so its gap grows for as long as it stays cut off."""
    s = d.store
    rounds = d.sig.count("tick") / ADVANCE_TS_S
    d.hist_of("tikv_resolved_ts_check_leader_duration_seconds", ("all",), rounds, 0.008, 0.4)
    # One request per peer store and round, listing the leaders it must confirm.
    d.hist("tikv_check_leader_request_item_count", (), "check_leader")
    d.hist("tikv_check_leader_request_size_bytes", (), "check_leader", 1.0, 40.0)
    gap = ADVANCE_TS_S * 1000 + 500
    if s.partitioned and s.lost_ns is not None:
        gap += (d.now_ns - s.lost_ns) / NS * 1000
    d.set("tikv_resolved_ts_min_resolved_ts_gap_millis", (), int(gap))
    d.set("tikv_resolved_ts_min_leader_resolved_ts_gap_millis", (), int(gap))
    d.set("tikv_resolved_ts_min_follower_safe_ts_gap_millis", (), int(gap + 1000))
