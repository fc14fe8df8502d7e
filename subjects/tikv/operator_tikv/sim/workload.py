"""The key distribution (uniform, zipfian, hotspot) and the writes that grow regions."""

from __future__ import annotations

import heapq

from operator_tikv.sim.split import REGION_MAX_SIZE_MB, Split
from operator_tikv.sim.store import KIB, STATE_TOMBSTONE
from operator_tikv.sim.store_load import StoreLoad
from operator_tikv.sim.traffic import INSERT_RATIO, READ_RATIO, VALUE_BYTES


class Workload(StoreLoad, Split):
    """Region weights and the per-step workload over stores and regions."""

    def _initial_weights(self, n: int) -> list[float]:
        kind = self.config.workload
        if kind == "uniform":
            return [1.0] * n
        if kind == "hotspot":
            width = max(1, n // 20)
            first = self.rng.randrange(max(1, n - width + 1))
            hot_share = 0.5 / width
            cold_share = 0.5 / max(1, n - width)
            return [(hot_share if first <= i < first + width else cold_share) * n for i in range(n)]
        weights = [1.0 / (r + 1) ** 0.99 for r in range(n)]
        self.rng.shuffle(weights)
        scale = n / sum(weights)
        return [w * scale for w in weights]

    def _top_weights(self, k: int) -> list[int]:
        w = self.regions.weight
        return heapq.nlargest(min(k, len(w)), range(len(w)), key=w.__getitem__)

    def _workload(self, dt: float) -> None:
        cfg = self.config
        total_qps = cfg.qps_per_store * cfg.stores
        w = self.total_w or 1.0
        unreachable = [
            s.id for s in self.stores.values() if not s.reachable and s.state != STATE_TOMBSTONE
        ]
        for s in self.stores.values():
            if not s.alive or s.paused:
                continue
            self._store_load(s, total_qps, w, dt, unreachable)
        if total_qps > 0:
            self._grow_regions(total_qps, dt)

    def _grow_regions(self, total_qps: float, dt: float) -> None:
        rt = self.regions
        n = len(rt)
        grow_bytes = total_qps * (1 - READ_RATIO) * INSERT_RATIO * VALUE_BYTES * dt
        w = self.total_w or 1.0
        hot_w = 0.0
        for i in self.hot:
            if rt.leader[i] >= 0 and self.stores[rt.leader_store(i)].reachable:
                self._grow(i, int(grow_bytes * rt.weight[i] / w / KIB + self.rng.random()))
            hot_w += rt.weight[i]
        samples = min(16, n)
        rest = grow_bytes * max(0.0, 1 - hot_w / w) / samples
        touched = list(self.hot)
        for _ in range(samples):
            i = self.rng.randrange(n)
            if rt.leader[i] >= 0:
                self._grow(i, int(rest / KIB + self.rng.random()))
                touched.append(i)
        if self.pd_leader is not None and self.schedule["enable-tikv-split-region"] == "true":
            for i in touched:
                if rt.size_kb[i] > REGION_MAX_SIZE_MB * 1024 and rt.ids[i] not in self.operators:
                    self._split(i, "size")
