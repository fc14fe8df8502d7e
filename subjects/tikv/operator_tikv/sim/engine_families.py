"""RocksDB families of a store's two engines: ``kv`` and the raft log's ``raft``.

The simulated store keeps its raft log in a RocksDB instance (``raft-engine.enable =
false``), so both engines show in the ``db`` label; a default v8.5 store uses raft-engine
instead, whose ``raft_engine_*`` families are not modelled. RocksDB's own statistics
histograms are exported by TiKV as gauges per percentile (``write_percentile99`` ...):
here they follow the engine's current latency, so a slow disk raises the raft engine's
write and WAL sync times on that store only, and a stall the kv engine's writes.
"""

from __future__ import annotations

from operator_tikv.sim.derived import Derive
from operator_tikv.sim.stall import COLUMN_FAMILIES
from operator_tikv.sim.store import KIB, MEMORY_QUOTA
from operator_tikv.sim.traffic import VALUE_BYTES

# RocksDB histogram statistics as TiKV exports them, relative to the median.
PERCENTILES = (
    ("average", 1.1),
    ("median", 1.0),
    ("percentile95", 2.5),
    ("percentile99", 4.0),
    ("max", 12.0),
)
KV_CFS = ("default", "lock", "write")
WRITE_AMP = 6.0
BLOCK_CACHE = int(MEMORY_QUOTA * 0.45)
BLOCK_HIT = 0.95


def _stats(d: Derive, name: str, db: str, prefix: str, median: float) -> None:
    for suffix, factor in PERCENTILES:
        d.set(name, (db, f"{prefix}_{suffix}"), median * factor)


def engine_families(d: Derive) -> None:
    sig = d.sig
    kv_us = sig.median("kv_io", 0.00015) * 1e6
    raft_us = sig.median("raft_io", 0.00025) * 1e6
    read_us = sig.median("read", 0.00035) * 1e6 * 0.3
    _stats(d, "tikv_engine_write_micro_seconds", "kv", "write", kv_us * 0.4)
    _stats(d, "tikv_engine_write_micro_seconds", "raft", "write", raft_us)
    _stats(d, "tikv_engine_wal_file_sync_micro_seconds", "kv", "wal_file_sync", 0.0)
    _stats(d, "tikv_engine_wal_file_sync_micro_seconds", "raft", "wal_file_sync", raft_us * 0.8)
    for db, us in (("kv", kv_us), ("raft", raft_us)):
        _stats(d, "tikv_engine_write_wal_time_micro_seconds", db, "write_wal_micros", us * 0.3)
        _stats(d, "tikv_engine_bytes_per_write", db, "bytes_per_write", VALUE_BYTES * 1.3)
    _stats(d, "tikv_engine_get_micro_seconds", "kv", "get", read_us)
    _stats(d, "tikv_engine_seek_micro_seconds", "kv", "seek", read_us * 1.6)
    _stats(d, "tikv_engine_sst_read_micros", "kv", "sst_read_micros", read_us * 2.0)
    _stats(d, "tikv_engine_bytes_per_read", "kv", "bytes_per_read", VALUE_BYTES)
    _stats(d, "tikv_engine_compaction_time", "kv", "compaction_time", 400_000.0)
    _stats(
        d, "tikv_engine_num_files_in_single_compaction", "kv", "num_files_in_single_compaction", 4.0
    )
    _stats(d, "tikv_engine_get_micro_seconds", "raft", "get", raft_us * 0.2)
    _stats(d, "tikv_engine_seek_micro_seconds", "raft", "seek", raft_us * 0.3)
    _flows(d)
    _efficiency(d)
    _memory(d)
    titan_families(d)
    flow_control_families(d)
    # The raft engine's RocksDB never stalls here: its writes are small and it compacts little.
    for typ, _ in PERCENTILES:
        d.set("tikv_engine_write_stall", ("raft", f"write_stall_{typ}"), 0.0)


def _flows(d: Derive) -> None:
    sig = d.sig
    reads = sig.count("read") + sig.count("cop") * 80
    written = sig.count("write") * VALUE_BYTES
    raft_bytes = sig.count("raft_io") * VALUE_BYTES * 1.2
    flows = {
        "kv": (
            ("bytes_read", reads * VALUE_BYTES * 0.1),
            ("iter_bytes_read", sig.count("cop") * 80 * VALUE_BYTES),
            ("keys_read", sig.count("read")),
            ("keys_written", sig.count("write") * 2),
            ("bytes_written", written * 2),
            ("wal_file_bytes", written * 2.1),
            ("flush_write_bytes", written * 1.6),
            ("block_cache_byte_read", reads * VALUE_BYTES * 0.6),
            ("block_cache_byte_write", reads * VALUE_BYTES * 0.03),
        ),
        "raft": (
            ("bytes_read", raft_bytes * 0.002),
            ("iter_bytes_read", raft_bytes * 0.002),
            ("keys_read", sig.count("raft_io") * 0.002),
            ("keys_written", sig.count("raft_io") * 2),
            ("bytes_written", raft_bytes),
            ("wal_file_bytes", raft_bytes * 1.05),
            ("flush_write_bytes", raft_bytes * 0.3),
            ("block_cache_byte_read", 0.0),
            ("block_cache_byte_write", 0.0),
        ),
    }
    for db, rows in flows.items():
        for typ, value in rows:
            d.set("tikv_engine_flow_bytes", (db, typ), value)
    for db, base in (("kv", written * 1.6), ("raft", raft_bytes * 0.3)):
        d.set("tikv_engine_compaction_flow_bytes", (db, "bytes_read"), base * (WRITE_AMP - 1))
        d.set("tikv_engine_compaction_flow_bytes", (db, "bytes_written"), base * WRITE_AMP)
    d.set("tikv_engine_wal_file_synced", ("kv",), 0.0)
    d.set("tikv_engine_wal_file_synced", ("raft",), sig.count("raft_io") / 4)
    flushes = written * 1.6 / (128 << 20)
    for cf in KV_CFS:
        d.set("tikv_engine_event_total", ("kv", cf, "flush"), flushes / 3)
        d.set("tikv_engine_event_total", ("kv", cf, "compaction"), flushes / 3 * 1.5)
        d.set("tikv_engine_compaction_reason", ("kv", cf, "LevelL0FilesNum"), flushes / 12)
        d.set("tikv_engine_compaction_reason", ("kv", cf, "LevelMaxLevelSize"), flushes / 6)


def _efficiency(d: Derive) -> None:
    sig = d.sig
    gets = sig.count("read") * 0.85
    seeks = sig.count("read") * 0.15 + sig.count("cop")
    lookups = gets + seeks
    hit = BLOCK_HIT if d.store.stall is None else BLOCK_HIT - 0.1
    for db, scale in (("kv", 1.0), ("raft", 0.0)):
        blocks = lookups * 3 * scale
        for typ, value in (
            ("block_cache_hit", blocks * hit),
            ("block_cache_miss", blocks * (1 - hit)),
            ("block_cache_data_hit", blocks / 3 * hit),
            ("block_cache_data_miss", blocks / 3 * (1 - hit)),
            ("block_cache_filter_hit", blocks / 3),
            ("block_cache_filter_miss", 0.0),
            ("block_cache_index_hit", blocks / 3),
            ("block_cache_index_miss", 0.0),
            ("block_cache_data_bytes_insert", blocks / 3 * (1 - hit) * 32 * KIB),
            ("block_cache_add", blocks * (1 - hit)),
            ("block_cache_data_add", blocks * (1 - hit)),
            ("block_cache_filter_add", 0.0),
            ("block_cache_index_add", 0.0),
            ("block_cache_add_failures", 0.0),
            ("block_cache_filter_bytes_insert", 0.0),
            ("block_cache_filter_bytes_evict", 0.0),
            ("block_cache_index_bytes_insert", 0.0),
            ("block_cache_index_bytes_evict", 0.0),
        ):
            d.set("tikv_engine_cache_efficiency", (db, typ), value)
        d.set("tikv_engine_memtable_efficiency", (db, "memtable_hit"), gets * 0.1 * scale)
        d.set("tikv_engine_memtable_efficiency", (db, "memtable_miss"), gets * 0.9 * scale)
        for typ, share in (("get_hit_l0", 0.05), ("get_hit_l1", 0.1), ("get_hit_l2_and_up", 0.75)):
            d.set("tikv_engine_get_served", (db, typ), gets * share * scale)
        for typ, value in (
            ("number_db_seek", seeks),
            ("number_db_seek_found", seeks * 0.98),
            ("number_db_next", sig.count("cop") * 80),
            ("number_db_next_found", sig.count("cop") * 79),
            ("number_db_prev", seeks * 0.01),
            ("number_db_prev_found", seeks * 0.01),
        ):
            d.set("tikv_engine_locate", (db, typ), value * scale)
        d.set("tikv_engine_bloom_efficiency", (db, "bloom_prefix_useful"), seeks * 0.6 * scale)
        d.set("tikv_engine_bloom_efficiency", (db, "bloom_useful"), gets * 0.7 * scale)
        writes = sig.count("write") * 2 if db == "kv" else sig.count("raft_io")
        d.set("tikv_engine_write_served", (db, "write_done_by_self"), writes * 0.3)
        d.set("tikv_engine_write_served", (db, "write_done_by_other"), writes * 0.7)
        d.set("tikv_engine_write_served", (db, "write_with_wal"), writes)


def _memory(d: Derive) -> None:
    s = d.store
    kv = s.region_kb * KIB
    cached = min(BLOCK_CACHE, int(kv * 0.3) + 256 * (1 << 20))
    share = {"default": 0.55, "lock": 0.02, "write": 0.43, "raft": 0.0}
    for cf in COLUMN_FAMILIES:
        db = "raft" if cf == "raft" else "kv"
        d.set("tikv_engine_block_cache_size_bytes", (db, cf), int(cached * share[cf]))
        immutable = 0
        if s.stall is not None and cf in ("default", "write"):
            immutable = 1
        d.set("tikv_engine_num_immutable_mem_table", (db, cf), immutable)
        d.set(
            "tikv_engine_memory_bytes",
            (db, cf, "mem-tables"),
            64 << 20 if cf != "lock" else 8 << 20,
        )
        keys = s.region_kb * 8 * (0.7 if cf == "default" else 1.0 if cf == "write" else 0.001)
        if cf == "raft":
            keys = s.raft_bytes() / VALUE_BYTES
        d.set("tikv_engine_estimate_num_keys", (db, cf), int(keys))
        if cf != "raft":
            for level in range(7):
                ratio = 1.0 if level < 2 else 3.2
                d.set("tikv_engine_compression_ratio", (db, cf, str(level)), ratio)
    for db in ("kv", "raft"):
        d.set("tikv_engine_num_snapshots", (db,), 2 if db == "kv" else 0)
        d.set("tikv_engine_oldest_snapshot_duration", (db,), 3 if db == "kv" else 0)


# Titan's statistics histograms, exported as gauges per percentile like RocksDB's.
TITAN_STATS = (
    ("tikv_engine_blob_key_size", "blob_key_size"),
    ("tikv_engine_blob_value_size", "blob_value_size"),
    ("tikv_engine_blob_get_micros_seconds", "blob_get_micros"),
    ("tikv_engine_blob_seek_micros_seconds", "blob_seek_micros"),
    ("tikv_engine_blob_next_micros_seconds", "blob_next_micros"),
    ("tikv_engine_blob_prev_micros_seconds", "blob_prev_micros"),
    ("tikv_engine_blob_file_read_micros_seconds", "blob_file_read_micros"),
    ("tikv_engine_blob_file_write_micros_seconds", "blob_file_write_micros"),
    ("tikv_engine_blob_file_sync_micros_seconds", "blob_file_sync_micros"),
    ("tikv_engine_blob_gc_micros_seconds", "blob_gc_micros"),
    ("tikv_engine_blob_gc_input_file", "blob_gc_input_file"),
    ("tikv_engine_blob_gc_output_file", "blob_gc_output_file"),
    ("tikv_engine_blob_iter_touch_blob_file_count", "blob_iter_touch_blob_file_count"),
)
FLOW_TYPES = ("bytes_read", "bytes_written", "keys_read", "keys_written")


def titan_families(d: Derive) -> None:
    """Titan, on by default for new v8.5 clusters; values of 1 KiB stay below its 32 KiB
    ``min-blob-size``, so it holds no blob: its families exist and read zero."""
    for name, prefix in TITAN_STATS:
        _stats(d, name, "kv", prefix, 0.0)
    for typ in ("number_blob_get", "number_blob_seek", "number_blob_next", "number_blob_prev"):
        d.set("tikv_engine_blob_locate", ("kv", typ), 0)
    for typ in FLOW_TYPES:
        d.set("tikv_engine_blob_flow_bytes", ("kv", typ), 0)
        d.set("tikv_engine_blob_gc_flow_bytes", ("kv", typ), 0)
    d.set("tikv_engine_blob_file_synced", ("kv",), 0)
    d.set("tikv_engine_blob_cache_size_bytes", ("kv", "default"), 0)
    for typ in ("blob_cache_hit", "blob_cache_miss"):
        d.set("tikv_engine_blob_cache_efficiency", ("kv", typ), 0)
    for typ in ("blob_gc_no_need", "blob_gc_remain", "blob_gc_discardable", "blob_gc_sample"):
        d.set("tikv_engine_blob_gc_action_count", ("kv", typ), 0)
    for typ in ("blob_gc_file_created", "blob_gc_file_deleted"):
        d.set("tikv_engine_blob_gc_file_count", ("kv", typ), 0)
    for name in (
        "tikv_engine_titandb_num_live_blob_file",
        "tikv_engine_titandb_num_obsolete_blob_file",
        "tikv_engine_titandb_live_blob_file_size",
        "tikv_engine_titandb_obsolete_blob_file_size",
    ):
        d.set(name, ("kv", "default"), 0)
    for ratio in ("le0", "le20", "le50", "le80", "le100"):
        d.set("tikv_engine_titandb_blob_file_discardable_ratio", ("kv", "default", ratio), 0)


def flow_control_families(d: Derive) -> None:
    """The scheduler's flow controller (on by default) samples the kv engine each second."""
    s = d.store
    st = s.stall
    written = d.sig.rate("write") * VALUE_BYTES * 2
    for cf in KV_CFS:
        l0 = (
            st.l0_files(d.now_ns) if st is not None and cf != "lock" else (2 if cf != "lock" else 0)
        )
        d.set("tikv_scheduler_l0", (cf,), l0)
        d.set("tikv_scheduler_l0_avg", (cf,), float(l0))
        d.set("tikv_scheduler_memtable", (cf,), 1 if st is not None and cf != "lock" else 0)
        share = 0.55 if cf == "default" else 0.43 if cf == "write" else 0.02
        d.set("tikv_scheduler_l0_flow", (cf,), int(written * share * 1.6))
        d.set("tikv_scheduler_flush_flow", (cf,), int(written * share * 1.6))
        d.set("tikv_scheduler_throttle_cf", (cf,), 1 if st is not None and cf == "default" else 0)
    pending = st.pending_bytes(d.now_ns) if st is not None else 0
    d.set("tikv_scheduler_pending_compaction_bytes", ("default",), pending)
    d.set("tikv_scheduler_write_flow", (), int(written))
    throttled = st is not None
    d.set("tikv_scheduler_throttle_flow", (), int(written * 0.5) if throttled else 0)
    d.set("tikv_scheduler_discard_ratio", (), 0.1 if throttled else 0.0)
