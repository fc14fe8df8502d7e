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
DOWN_STATES = frozenset({StoreState.DISCONNECTED, StoreState.DOWN})


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
        """Gone rather than cut off: the status port refuses (or PD says so and we cannot tell)."""
        return self.reachable(sid) is not True

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

    def coolest_store(self, exclude: int | None) -> int | None:
        live = [
            sid
            for sid in self.store_ids()
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
