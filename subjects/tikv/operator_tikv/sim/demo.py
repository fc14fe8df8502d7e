"""The embedded demo cluster behind ``operator-tui --demo``.

``SimChaos`` breaks and mends stores through the simulator's HTTP control routes,
exactly as a user script would, so the demo exercises the same path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from operator_tikv.sim.cluster import SimCluster
from operator_tikv.sim.config import SimConfig
from operator_tikv.sim.http_control import LOGS_ROUTE
from operator_tui.core.subject import DemoCluster, DemoOptions, SubjectError


class SimChaos:
    """``Chaos`` over ``POST /sim/api/v1/stores/{id}/kill|start`` on any PD member that answers."""

    def __init__(self, pd_urls: list[str], timeout_s: float = 5.0) -> None:
        self._urls = list(pd_urls)
        self._http = httpx.AsyncClient(timeout=timeout_s)

    async def _post(self, path: str) -> dict:
        last = "no PD endpoint"
        for base in self._urls:
            try:
                resp = await self._http.post(base + path)
            except httpx.HTTPError as exc:
                last = f"{base}: {exc.__class__.__name__}"
                continue
            try:
                body = resp.json()
            except ValueError:
                body = {}
            if resp.status_code >= 400:
                raise SubjectError(
                    str(body.get("error") or f"{path} answered HTTP {resp.status_code}")
                )
            return body if isinstance(body, dict) else {}
        raise SubjectError(f"simulator control unreachable ({last})")

    async def kill_store(self, store_id: int) -> str:
        body = await self._post(f"/sim/api/v1/stores/{int(store_id)}/kill")
        return str(body.get("message") or f"store {store_id} killed")

    async def start_store(self, store_id: int) -> str:
        body = await self._post(f"/sim/api/v1/stores/{int(store_id)}/start")
        return str(body.get("message") or f"store {store_id} started")

    async def aclose(self) -> None:
        await self._http.aclose()


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
