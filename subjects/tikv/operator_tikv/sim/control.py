"""Store lifecycle the simulator's control routes drive: kill, start, pause, partition."""

from __future__ import annotations

from operator_tikv.sim.elections import Elections
from operator_tikv.sim.encode import NS
from operator_tikv.sim.members import PdMembers
from operator_tikv.sim.metrics import TIKV_FAMILIES, Registry
from operator_tikv.sim.store import Store


class Control(Elections, PdMembers):
    """Stopping, starting and cutting off stores."""

    def kill_store(self, sid: int) -> None:
        s = self.store_or_404(sid)
        if not s.alive:
            return
        s.alive = False
        s.paused = False
        self._store_lost(s)

    def start_store(self, sid: int) -> None:
        s = self.store_or_404(sid)
        if s.alive:
            return
        s.alive = True
        s.start_ts_s = self.now // NS
        s.registry = Registry(TIKV_FAMILIES)
        s.cpu_s = 0.0
        s.slow_score = 1.0 if s.slow_ms < 100 else s.slow_score
        s.next_hb_ns = self.now + NS
        s.pd_lost_logged = False
        self.log(s.id, "INFO", "lib.rs:75", "Welcome to TiKV", [], thread=1)
        self._log_pd_connecting(s.id)
        if s.reachable:
            self._store_back(s)
        self.log(s.id, "INFO", "store.rs:2456", "start store", [("store_id", s.id)], thread=1)

    def set_paused(self, sid: int, paused: bool) -> None:
        s = self.store_or_404(sid)
        self._cut_off(s, paused, s.partitioned)

    def set_partitioned(self, sid: int, partitioned: bool) -> None:
        s = self.store_or_404(sid)
        self._cut_off(s, s.paused, partitioned)

    def _cut_off(self, s: Store, paused: bool, partitioned: bool) -> None:
        """Set both flags; a store lost or back to reach starts elections."""
        was = s.reachable
        s.paused, s.partitioned = paused, partitioned
        if was and not s.reachable:
            self._store_lost(s)
        elif not was and s.reachable:
            self._store_back(s)
