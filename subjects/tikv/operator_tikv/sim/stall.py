"""A RocksDB write stall on one store's kv engine, as TiKV's metrics and logs show it.

RocksDB slows writers down when compaction falls behind: too many level-0 files
(TiKV's ``level0-slowdown-writes-trigger`` is 20) or too many estimated pending
compaction bytes (``soft-pending-compaction-bytes-limit``, 192 GiB). Writers wait in
RocksDB's delayed-write controller, so the apply of committed raft entries slows, the
scheduler's pending writes pile up until it answers ``ServerIsBusy`` (counted, not
logged), and the raftstore's apply channel fills. The raft log (raft engine) is not
involved, so append latency and the slow score stay where they were: that is what
tells a stall from a slow disk.

RocksDB reports the stall in its own log (``rocksdb.info``), not in TiKV's log.
The line layout is TiKV's ``RocksFormat`` (components/tikv_util/src/logger):
``[time][thread][LEVEL] `` then RocksDB's own ``[file:line] [cf] message``, e.g.
``[2022/04/30 07:16:11.145 +08:00][2][WARN] [db/column_family.cc:805] [default] Stalling
writes because we have 23 level-0 files rate 5368709120`` (a real line from a TiKV 5.1
``rocksdb.info``; RocksDB lowers the delayed write rate by 0.8 each time debt grows).
"""

from __future__ import annotations

from dataclasses import dataclass

from operator_tikv.sim.encode import NS, log_time

CAUSES = ("level0", "pending_compaction")
GIB = 1 << 30
L0_SLOWDOWN_TRIGGER = 20
SOFT_PENDING_LIMIT = 192 * GIB
FIRST_DELAYED_RATE = 5_368_709_120
MIN_DELAYED_RATE = 16 * 1024
RATE_DECAY = 0.8
ROCKS_THREAD = 2
# (db, type) values of tikv_engine_write_stall_reason (engine_rocks ROCKSDB_IOSTALL_TYPE).
STALL_REASONS = (
    "level0_file_limit_slowdown",
    "level0_file_limit_stop",
    "pending_compaction_bytes_slowdown",
    "pending_compaction_bytes_stop",
    "memtable_count_limit_slowdown",
    "memtable_count_limit_stop",
)
REASON_OF_CAUSE = {
    "level0": "level0_file_limit_slowdown",
    "pending_compaction": "pending_compaction_bytes_slowdown",
}
COLUMN_FAMILIES = ("default", "lock", "raft", "write")


@dataclass(slots=True)
class WriteStall:
    """One store's stall: how long a write waits, why, and the debt that keeps it going."""

    cause: str
    stall_ms: float
    started_ns: int
    delayed_rate: int = FIRST_DELAYED_RATE

    @property
    def stall_s(self) -> float:
        return self.stall_ms / 1000.0

    def elapsed_s(self, now_ns: int) -> float:
        return max(0.0, (now_ns - self.started_ns) / NS)

    def l0_files(self, now_ns: int) -> int:
        if self.cause != "level0":
            return 0
        return min(35, L0_SLOWDOWN_TRIGGER + 1 + int(self.elapsed_s(now_ns) // 15))

    def pending_bytes(self, now_ns: int) -> int:
        if self.cause != "pending_compaction":
            return 0
        return SOFT_PENDING_LIMIT + int(GIB * (0.6 + 0.03 * self.elapsed_s(now_ns)))

    def message(self, now_ns: int, cf: str = "default") -> tuple[str, str]:
        """RocksDB's ``(source, message)`` for the current stall, then lowers the rate."""
        rate = self.delayed_rate
        self.delayed_rate = max(MIN_DELAYED_RATE, int(rate * RATE_DECAY))
        if self.cause == "level0":
            return (
                "db/column_family.cc:805",
                f"[{cf}] Stalling writes because we have {self.l0_files(now_ns)} level-0 files "
                f"rate {rate}",
            )
        return (
            "db/column_family.cc:830",
            f"[{cf}] Stalling writes because of estimated pending compaction bytes "
            f"{self.pending_bytes(now_ns)} rate {rate}",
        )


def rocks_line(ts_ns: int, level: str, source: str, message: str) -> str:
    """A ``rocksdb.info`` line in TiKV's RocksFormat."""
    return f"[{log_time(ts_ns)}][{ROCKS_THREAD}][{level}] [{source}] {message}"


def baseline_l0_files(store_id: int, cf: str) -> int:
    if cf in ("lock", "raft"):
        return 1
    return 2 + (store_id + len(cf)) % 3


def files_at_level(store_id: int, cf: str, kv_bytes: int, level: int) -> int:
    """A plausible level shape: L0 a few files, each deeper level 10x larger, 8 MiB files."""
    if level == 0:
        return baseline_l0_files(store_id, cf)
    if cf in ("lock", "raft"):
        return 1 if level == 6 else 0
    share = 0.72 if cf == "default" else 0.279
    # The bottom level holds ~90 % of the data, each level above it a tenth of the one below;
    # with dynamic level bytes (TiKV's default) levels too small to matter stay empty.
    size = kv_bytes * share * 0.9 / 10 ** (6 - level)
    return int(size / (8 << 20))
