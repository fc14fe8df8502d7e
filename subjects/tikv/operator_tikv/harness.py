"""``TikvHarness``: the simulated cluster driven by a script, the core ``SimHarness``.

The evaluation's scenarios name faults; this maps them onto the simulator: its own fault
kinds (``slow_disk``, ``partition_store``, ...), the spellings scenarios use for some of them
(``kill``, ``pause``, ``partition``, ``pd_leader_kill``), and two disturbances the simulator
has no fault for, made as a client would: ``load_spike`` (more client load per store),
``transfer_leaders`` (transfer-leader operators through PD's API) and ``log_lines`` (lines
appended to a store's log, ``{ts}`` becoming the log's timestamp, as a store that printed
them would).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from operator_tikv.sim.cluster import SimCluster
from operator_tikv.sim.config import SimConfig
from operator_tikv.sim.demo import subject_settings
from operator_tikv.sim.encode import log_time
from operator_tui.core.harness import HarnessEndpoints, HarnessError, HarnessOptions

FAULT_ALIASES = {
    "kill": "kill_store",
    "pause": "pause_store",
    "partition": "partition_store",
    "pd_leader_kill": "kill_pd_leader",
}
# Faults of the whole cluster or of one region: a scenario's store id only picks the region.
_NO_STORE = ("hot_region", "kill_pd_leader")
# A scenario's [sim] names for SimConfig's fields.
_SIM_PARAMS = {
    "regions": "regions",
    "workload": "workload",
    "max_store_down_time": "max_store_down_time_s",
    "qps_per_store": "qps_per_store",
}
HTTP_TIMEOUT = httpx.Timeout(5.0, connect=2.0)

Undo = Callable[[], Awaitable[None]]


async def _moved() -> None:
    """Leaders moved by operators stay where they went; clearing is a no-op."""


def sim_config(options: HarnessOptions) -> SimConfig:
    unknown = sorted(set(options.params) - set(_SIM_PARAMS))
    if unknown:
        raise HarnessError(f"unknown simulator setting {unknown[0]!r}")
    config = SimConfig(
        stores=options.stores,
        seed=options.seed,
        speed=options.speed,
        manual_clock=options.manual_clock,
    )
    for name, value in options.params.items():
        if value is not None:
            setattr(config, _SIM_PARAMS[name], value)
    return config


class TikvHarness:
    """A ``SimCluster`` on loopback ports, with the faults a scenario may ask for."""

    def __init__(self, options: HarnessOptions) -> None:
        self.config = sim_config(options)
        self.cluster = SimCluster(self.config)
        self._http: httpx.AsyncClient | None = None
        self._undo: dict[str, Undo] = {}
        self._ids = itertools.count(1)

    async def __aenter__(self) -> Self:
        await self.cluster.__aenter__()
        self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._http is not None:
                await self._http.aclose()
        finally:
            await self.cluster.__aexit__(exc_type, exc, tb)

    def now_ns(self) -> int:
        return self.cluster.now_ns

    def endpoints(self) -> HarnessEndpoints:
        targets = self.cluster.prometheus_targets()
        return HarnessEndpoints(
            api=tuple(self.cluster.pd_urls),
            scrape={job: tuple(hosts) for job, hosts in targets.items()},
            stores=dict(self.cluster.store_status_urls),
        )

    def subject_settings(self) -> dict[str, Any]:
        return subject_settings(self.cluster)

    async def advance(self, seconds: float) -> None:
        await self.cluster.advance(seconds)

    # Faults

    async def add_fault(
        self, kind: str, store_id: int | None = None, params: Mapping[str, Any] | None = None
    ) -> str:
        kind = FAULT_ALIASES.get(kind, kind)
        params = dict(params or {})
        if kind == "load_spike":
            return self._remember(self._load_spike(float(params.get("factor", 3.0))))
        if kind == "log_lines":
            self._log_lines(store_id, params.get("lines"))
            return self._remember(_moved)
        if kind == "transfer_leaders":
            await self._transfer_leaders(store_id, int(params.get("count", 10)))
            return self._remember(_moved)
        if kind == "kill_store":
            if store_id is None:
                raise HarnessError("fault kill_store needs a store")
            return await self.cluster.kill_store(store_id)
        if kind == "hot_region" and "region_id" not in params and "key" not in params:
            params["region_id"] = await self._region_led_by(store_id)
        return self.cluster.add_fault(kind, None if kind in _NO_STORE else store_id, **params)

    async def clear_fault(self, fault_id: str) -> None:
        undo = self._undo.pop(fault_id, None)
        if undo is not None:
            await undo()
        else:
            self.cluster.clear_fault(fault_id)

    def _remember(self, undo: Undo) -> str:
        fault_id = f"harness-{next(self._ids)}"
        self._undo[fault_id] = undo
        return fault_id

    def _log_lines(self, store_id: int | None, lines: Any) -> None:
        assert self.cluster.model is not None
        store = self.cluster.model.stores.get(store_id) if store_id is not None else None
        if store is None:
            raise HarnessError(f"log_lines: no store {store_id}")
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise HarnessError("log_lines: params.lines must be a list of strings")
        now = self.cluster.now_ns
        for line in lines:
            store.log.add(now, line.replace("{ts}", log_time(now)))

    def _load_spike(self, factor: float) -> Undo:
        assert self.cluster.model is not None
        config = self.cluster.model.config
        before = config.qps_per_store
        config.qps_per_store = before * factor

        async def clear() -> None:
            config.qps_per_store = before

        return clear

    async def _pd_json(self, path: str, body: Any = None) -> Any:
        assert self._http is not None, "use the harness with async with"
        errors = []
        for base in self.cluster.pd_urls:
            try:
                if body is None:
                    resp = await self._http.get(base + path, timeout=5.0)
                else:
                    resp = await self._http.post(base + path, json=body, timeout=5.0)
            except httpx.HTTPError as exc:
                errors.append(f"{base}: {type(exc).__name__}")
                continue
            if resp.status_code >= 400:
                errors.append(f"{base}{path}: HTTP {resp.status_code} {resp.text[:200]}")
                continue
            try:
                return resp.json()
            except ValueError:
                return resp.text
        raise HarnessError(f"PD {path}: {'; '.join(errors) or 'no answer'}")

    async def leaders(self) -> list[tuple[int, int]]:
        """(region id, leader store id) for every region, in region id order, as PD lists them."""
        return [(rid, leader) for rid, leader, _voters in await self._regions()]

    async def _regions(self) -> list[tuple[int, int, list[int]]]:
        """(region id, leader store, stores holding a voter) for every region with a leader."""
        data = await self._pd_json("/pd/api/v1/regions")
        out = []
        for region in data.get("regions") or []:
            leader = region.get("leader") or {}
            if "store_id" not in leader:
                continue
            voters = [
                int(p["store_id"])
                for p in region.get("peers") or []
                if "store_id" in p and p.get("role_name", "Voter") == "Voter"
            ]
            out.append((int(region["id"]), int(leader["store_id"]), sorted(voters)))
        return sorted(out)

    async def _region_led_by(self, store_id: int | None) -> int:
        leaders = await self.leaders()
        if not leaders:
            raise HarnessError("hot_region: PD lists no region with a leader")
        if store_id is None:
            return leaders[len(leaders) // 2][0]
        for rid, sid in leaders:
            if sid == store_id:
                return rid
        raise HarnessError(f"hot_region: no region has its leader on store {store_id}")

    async def _transfer_leaders(self, source: int | None, count: int) -> None:
        """Move ``count`` leaders off ``source`` (default: the store leading most), each to a
        store that holds a voter of that region (PD refuses any other: "region has no voter
        in store N"), spreading them over those stores in turn."""
        regions = await self._regions()
        stores = sorted({leader for _rid, leader, _v in regions})
        if len(stores) < 2:
            raise HarnessError("transfer_leaders: needs leaders on at least two stores")
        if source is None:
            counts = {sid: sum(1 for _r, s, _v in regions if s == sid) for sid in stores}
            source = max(stores, key=lambda sid: (counts[sid], -sid))
        moved = 0
        for rid, leader, voters in regions:
            if moved >= count:
                break
            targets = [sid for sid in voters if sid != leader]
            if leader != source or not targets:
                continue
            body = {
                "name": "transfer-leader",
                "region_id": rid,
                "to_store_id": targets[moved % len(targets)],
            }
            await self._pd_json("/pd/api/v1/operators", body)
            moved += 1
