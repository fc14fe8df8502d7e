"""Small readers over the diagnosis context, shared by the TiKV rules.

A store counts as gone when its status port does not answer or PD marks it
Disconnected or Down (PD's store lifecycle, ``operator_tikv.states``).
"""

from __future__ import annotations

from collections import Counter

from operator_tikv.states import StoreState
from operator_tui.core.diagnosis.context import DiagnosisContext, metric_value

SLOW_SCORE = 50.0
DISK_USED = 0.8
HIGH_CPU = 0.8
# One store leading this share of PD's hot write flow is a hot spot rather than spread load.
HOT_STORE_SHARE = 0.6
DOWN_STATES = frozenset({StoreState.DISCONNECTED, StoreState.DOWN})
# TiKV's panic hook logs the panic at slog's Critical level, written FATAL, just before the
# process exits (components/tikv_util/src/lib.rs ``set_panic_hook``).
FATAL = "FATAL"
PANIC_KINDS = frozenset({"panic", "fatal", "critical_error"})
# Figures that rise on a store which took over a lost store's leaders and requests.
LOAD_FIGURES = ("qps", "leader_count", "cpu_ratio")
# RocksDB's write-stall conditions as TiKV names them (``type`` of
# ``tikv_engine_write_stall_reason``; ``ROCKSDB_IOSTALL_TYPE`` in components/engine_rocks/src/
# rocks_metrics_defs.rs), with the setting each one crosses (etc/config-template.toml). Every
# one is flush or compaction debt inside RocksDB; none is a disk running out of space, which
# TiKV handles before RocksDB (raftstore rejects proposals with ``DiskFull`` once available
# space is below ``reserve-space``; components/raftstore/src/store/peer.rs).
STALL_REASONS: dict[str, str] = {
    "level0_file_limit_slowdown": "level-0 files past level0-slowdown-writes-trigger",
    "level0_file_limit_stop": "level-0 files at level0-stop-writes-trigger, writes stopped",
    "pending_compaction_bytes_slowdown": (
        "pending compaction bytes past soft-pending-compaction-bytes-limit"
    ),
    "pending_compaction_bytes_stop": (
        "pending compaction bytes at hard-pending-compaction-bytes-limit, writes stopped"
    ),
    "memtable_count_limit_slowdown": "memtables waiting for flush near max-write-buffer-number",
    "memtable_count_limit_stop": "memtables at max-write-buffer-number, writes stopped",
}


class Evidence:
    def __init__(self, ctx: DiagnosisContext) -> None:
        self.ctx = ctx

    def reachable(self, sid: int) -> bool | None:
        m = self.ctx.metrics(sid)
        return None if m is None else m.reachable

    def state(self, sid: int) -> str | None:
        s = self.ctx.store(sid)
        return None if s is None else s.state

    def slow_score(self, sid: int) -> float:
        m = self.ctx.metrics(sid)
        s = self.ctx.store(sid)
        values = [
            v
            for v in ((m.slow_score if m else None), (s.slow_score if s else None))
            if v is not None
        ]
        return max(values, default=0.0)

    def used_ratio(self, sid: int) -> float:
        s = self.ctx.store(sid)
        m = self.ctx.metrics(sid)
        ratios = [s.used_ratio] if s and s.capacity_bytes else []
        if m is not None and (r := metric_value(m, "used_ratio")) is not None:
            ratios.append(r)
        return max(ratios, default=0.0)

    def write_stall(self, sid: int) -> float:
        m = self.ctx.metrics(sid)
        if m is None or not m.reachable:
            return 0.0
        return max(
            m.write_stall or 0.0,
            (m.channel_full_per_s or 0.0) / 10,
            (m.scheduler_busy_per_s or 0.0) / 10,
        )

    def stall_reasons(self, sid: int) -> dict[str, float]:
        """RocksDB's stall conditions counting on the store now, per second, by TiKV's name;
        only the reasons TiKV defines (``STALL_REASONS``)."""
        m = self.ctx.metrics(sid)
        if m is None or not m.reachable:
            return {}
        got = m.write_stall_reasons_per_s or {}
        return {r: v for r, v in got.items() if r in STALL_REASONS and v > 0}

    def stall_reason(self, sid: int) -> str | None:
        """The condition stalling the store's writes most often now (the largest rate)."""
        reasons = self.stall_reasons(sid)
        return max(reasons, key=lambda r: (reasons[r], r)) if reasons else None

    def cpu(self, sid: int) -> float:
        m = self.ctx.metrics(sid)
        return (m.cpu_ratio or 0.0) if m and m.reachable else 0.0

    def store_ids(self) -> list[int]:
        return sorted({s.id for s in self.ctx.stores} | set(self.ctx.store_metrics))

    def is_down_state(self, sid: int) -> bool:
        return self.state(sid) in DOWN_STATES

    def dead_stores(self) -> list[int]:
        """Stores whose status port does not answer, or that PD marks Disconnected/Down."""
        return [
            sid
            for sid in self.store_ids()
            if self.reachable(sid) is False or self.is_down_state(sid)
        ]

    def is_killed(self, sid: int) -> bool:
        """Gone rather than cut off: the status port refuses; unread this tick, it did not
        answer at the last reading held either (a cut-off store keeps answering it)."""
        reachable = self.reachable(sid)
        if reachable is not None:
            return not reachable
        return self.last_answer(sid) is not True

    def hottest(self) -> tuple[int, int, float] | None:
        """(region id, leader store, share of the cluster's hot write flow) of the hottest region."""
        leaders = [h for h in self.ctx.hot_regions if h.primary] or self.ctx.hot_regions
        if not leaders:
            return None
        total = sum(h.flow_bytes for h in leaders) or 1.0
        top = max(leaders, key=lambda h: h.flow_bytes)
        return top.range_id, top.store_id, top.flow_bytes / total

    def hot_store_share(self) -> tuple[int, float] | None:
        leaders = [h for h in self.ctx.hot_regions if h.primary]
        if not leaders:
            return None
        per: Counter[int] = Counter()
        for h in leaders:
            per[h.store_id] += h.flow_bytes
        total = sum(per.values()) or 1.0
        sid, flow = per.most_common(1)[0]
        return sid, flow / total

    def coolest_store(self, exclude: int | None, among: list[int] | None = None) -> int | None:
        live = [
            sid
            for sid in (among if among is not None else self.store_ids())
            if sid != exclude and self.reachable(sid) is not False and not self.is_down_state(sid)
        ]
        if not live:
            return None

        def load(sid: int) -> tuple[float, float]:
            s = self.ctx.store(sid)
            return (self.cpu(sid), float(s.leader_count if s else 0))

        return min(live, key=load)

    def log_kinds(self, sid: int | None = None) -> Counter[str]:
        return Counter(e.kind for e in self.ctx.log_events if sid is None or e.store_id == sid)

    def critical_errors(self, sid: int) -> float:
        m = self.ctx.metrics(sid)
        return (m.critical_errors_per_s or 0.0) if m and m.reachable else 0.0

    def panics(self, sid: int) -> int:
        """Log events on the store that record a panic or a fatal error."""
        return sum(
            1
            for e in self.ctx.log_events
            if e.store_id == sid and (e.level == FATAL or e.kind in PANIC_KINDS)
        )

    def load_rises(self, sid: int) -> list[str]:
        """The store's figures that rose around the ticket: load it took over from elsewhere."""
        return [
            f"{s.metric} on store {sid} rose {s.baseline:.4g} -> {s.value:.4g}"
            for s in self.ctx.shifts(store_id=sid)
            if s.metric in LOAD_FIGURES and s.value > s.baseline
        ]

    def cuts(self, sid: int) -> tuple[list[int], list[int]]:
        """(stores reporting ``sid`` unreachable, stores ``sid`` reports unreachable)."""
        reported_by = [
            other
            for other, m in self.ctx.store_metrics.items()
            if other != sid and m.reachable and (m.unreachable_reports_per_s or {}).get(sid, 0) > 0
        ]
        m = self.ctx.metrics(sid)
        reports = sorted(
            k
            for k, v in ((m.unreachable_reports_per_s or {}) if m and m.reachable else {}).items()
            if v > 0
        )
        return sorted(reported_by), reports

    def last_answer(self, sid: int) -> bool | None:
        """Whether the store's status port answered at the last point history holds for it."""
        points = self.ctx.history.get(sid) or []
        return points[-1][1].reachable if points else None

    def all_busy(self) -> bool:
        cpu = [self.cpu(s) for s in self.store_ids() if self.reachable(s) is not False]
        return bool(cpu) and all(c >= HIGH_CPU for c in cpu)
