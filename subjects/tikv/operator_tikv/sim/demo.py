"""The embedded demo cluster behind ``operator-tui --demo``.

``SimChaos`` breaks and mends stores through the simulator's HTTP control routes,
exactly as a user script would, so the demo exercises the same path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx

from operator_tikv.sim.cluster import SimCluster
from operator_tikv.sim.config import SimConfig
from operator_tikv.sim.fault_menu import FAULT_MENU
from operator_tikv.sim.http_control import LOGS_ROUTE
from operator_tui.core.deploy import Endpoint
from operator_tui.core.faults import ActiveFault, FaultKind
from operator_tui.core.subject import DemoCluster, DemoOptions, SubjectError


class SimChaos:
    """``Chaos`` and ``FaultControl`` over the simulator's control routes (``/sim/api/v1/...``)
    on any PD member that answers; ``http`` is the caller's client (closed by it), else its own."""

    def __init__(
        self, pd_urls: list[str], timeout_s: float = 5.0, *, http: httpx.AsyncClient | None = None
    ) -> None:
        self._urls = [u.rstrip("/") for u in pd_urls]
        self._own = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout_s)

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        last = "no PD endpoint"
        for base in self._urls:
            try:
                resp = await self._http.request(method, base + path, json=body)
            except httpx.HTTPError as exc:
                last = f"{base}: {exc.__class__.__name__}"
                continue
            try:
                answer = resp.json()
            except ValueError:
                answer = {}
            if resp.status_code >= 400:
                error = answer.get("error") if isinstance(answer, dict) else None
                raise SubjectError(str(error or f"{path} answered HTTP {resp.status_code}"))
            return answer
        raise SubjectError(f"simulator control unreachable ({last})")

    async def _post(self, path: str) -> dict:
        body = await self._call("POST", path)
        return body if isinstance(body, dict) else {}

    async def kill_store(self, store_id: int) -> str:
        body = await self._post(f"/sim/api/v1/stores/{int(store_id)}/kill")
        return str(body.get("message") or f"store {store_id} killed")

    async def start_store(self, store_id: int) -> str:
        body = await self._post(f"/sim/api/v1/stores/{int(store_id)}/start")
        return str(body.get("message") or f"store {store_id} started")

    def fault_kinds(self) -> tuple[FaultKind, ...]:
        return FAULT_MENU

    async def inject_fault(
        self, kind: str, store_id: int | None, params: Mapping[str, Any]
    ) -> ActiveFault:
        body: dict[str, Any] = {k: v for k, v in params.items() if v is not None}
        body["kind"] = kind
        if store_id is not None:
            body["store_id"] = int(store_id)
        answer = await self._call("POST", "/sim/api/v1/faults", body)
        fid = str(answer.get("id")) if isinstance(answer, dict) else ""
        for fault in await self.active_faults():
            if fault.id == fid:
                return fault
        return ActiveFault(fid, kind, store_id, dict(params))

    async def active_faults(self) -> list[ActiveFault]:
        answer = await self._call("GET", "/sim/api/v1/faults")
        return (
            [_fault(item) for item in answer if isinstance(item, dict)]
            if isinstance(answer, list)
            else []
        )

    async def clear_fault(self, fault_id: str) -> ActiveFault:
        known = {f.id: f for f in await self.active_faults()}
        await self._call("DELETE", f"/sim/api/v1/faults/{quote(fault_id, safe='')}")
        return known.get(fault_id) or ActiveFault(fault_id, "fault")

    async def endpoints(self) -> list[Endpoint]:
        """What ``/sim/api/v1/status`` says: the PD members (API and ``/metrics``), each
        store's status port (``/metrics``) and the control routes."""
        status = await self._call("GET", "/sim/api/v1/status")
        status = status if isinstance(status, dict) else {}
        found: list[Endpoint] = []
        for url in status.get("pd_urls") or self._urls:
            found.append(Endpoint("PD API", f"{url}/pd/api/v1"))
            found.append(Endpoint("PD metrics", f"{url}/metrics"))
        stores = status.get("store_status_urls") or {}
        for sid in sorted(stores, key=lambda k: int(k) if str(k).isdigit() else 0):
            found.append(Endpoint(f"store {sid} metrics", f"{stores[sid]}/metrics"))
        for url in status.get("pd_urls") or self._urls:
            found.append(Endpoint("simulator control", f"{url}/sim/api/v1"))
        return found

    async def aclose(self) -> None:
        if self._own:
            await self._http.aclose()


def _fault(item: dict[str, Any]) -> ActiveFault:
    sid = item.get("store_id")
    params = item.get("params")
    return ActiveFault(
        str(item.get("id", "")),
        str(item.get("kind", "")),
        sid if isinstance(sid, int) and not isinstance(sid, bool) else None,
        dict(params) if isinstance(params, dict) else {},
    )


async def find_simulator(pd_urls: list[str], http: httpx.AsyncClient) -> SimChaos | None:
    """A ``SimChaos`` when one of ``pd_urls`` answers the simulator's ``/sim/api/v1/status``
    (a real PD answers 404 there), else None."""
    bases = [(url if "://" in url else "http://" + url).rstrip("/") for url in pd_urls]
    for base in bases:
        try:
            resp = await http.get(base + "/sim/api/v1/status", timeout=PROBE_TIMEOUT_S)
            status = resp.json() if resp.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            continue
        if isinstance(status, dict) and isinstance(status.get("pd_urls"), list):
            return SimChaos(bases, http=http)
    return None


PROBE_TIMEOUT_S = 2.0


def subject_settings(cluster: SimCluster) -> dict[str, Any]:
    """What the subject is told to read this cluster: its PD members, no Prometheus, and its
    logs over the simulator's log route, as any HTTP log source a user could configure (every
    PD member serves it)."""
    return {
        "pd": list(cluster.pd_urls),
        "prometheus_url": None,
        "log_source": "http",
        "log_url": [url + LOGS_ROUTE for url in cluster.pd_urls],
    }


DEMO_PARAMS = ("regions", "qps_per_store")
"""SimConfig's fields a demo's ``params`` may set."""


def config_from_options(options: DemoOptions) -> SimConfig:
    unknown = sorted(set(options.params) - set(DEMO_PARAMS))
    if unknown:
        raise SubjectError(f"unknown demo setting {unknown[0]!r} (known: {', '.join(DEMO_PARAMS)})")
    return SimConfig(
        **options.params,
        stores=options.stores,
        seed=options.seed,
        speed=options.speed,
        max_store_down_time_s=options.max_store_down_time_s,
        workload=options.workload,
        pd_port=options.port,
    )


@asynccontextmanager
async def run_demo(options: DemoOptions) -> AsyncIterator[DemoCluster]:
    """Start the simulated cluster on loopback ports and yield where to reach it and how to break it."""
    cfg = config_from_options(options)
    async with SimCluster(cfg) as cluster:
        chaos = SimChaos(cluster.pd_urls)
        try:
            yield DemoCluster(
                endpoints=cluster.pd_urls,
                chaos=chaos,
                description=(
                    f"simulated TiKV v8.5: {cfg.stores} stores, {cfg.regions} regions, {cfg.workload} load, "
                    f"seed {cfg.seed}, speed {cfg.speed:g}x, max-store-down-time {cfg.max_store_down_time_s:g}s"
                ),
                settings=subject_settings(cluster),
            )
        finally:
            await chaos.aclose()
