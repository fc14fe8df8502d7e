"""Scale figures for the simulator: 1000 stores and 1,000,000 regions by default.

Prints start-up time, the cost of one simulated second, latency of ``GET /stores``,
``/hotspot/regions/write``, a ``/regions/key`` page and the ``/metrics`` pages, and the
process RSS. Client and server share one process and event loop, so latencies include
the client's reading of the body. The client's own first request (httpx importing anyio's
asyncio backend) is timed on ``/ping`` before the first, cold, ``/stores``.
Targets (issue 3): ``/stores`` <= 100 ms, RSS <= 1.5 GB.

    uv run python benchmarks/sim_scale.py [--stores N] [--regions M] [--repeat K]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from operator_tikv.sim import SimCluster, SimConfig


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def timed_get(http: httpx.AsyncClient, url: str, repeat: int) -> tuple[float, float, int]:
    samples = []
    size = 0
    for _ in range(repeat):
        t = time.perf_counter()
        resp = await http.get(url)
        samples.append((time.perf_counter() - t) * 1000)
        resp.raise_for_status()
        size = len(resp.content)
    return statistics.median(samples), max(samples), size


async def run(stores: int, regions: int, repeat: int) -> None:
    print(f"simulator scale benchmark: {stores} stores, {regions} regions")
    t = time.perf_counter()
    cfg = SimConfig(stores=stores, regions=regions, manual_clock=True, max_store_down_time_s=60)
    async with SimCluster(cfg) as sim, httpx.AsyncClient(timeout=120) as http:
        print(
            f"start-up:                    {time.perf_counter() - t:8.2f} s   RSS {rss_mb():7.0f} MB"
        )
        t = time.perf_counter()
        await sim.advance(60)
        per_step = (time.perf_counter() - t) / 60 * 1000
        print(f"one simulated second:        {per_step:8.1f} ms (mean over 60 s, patrol included)")
        base = sim.pd_urls[0] + "/pd/api/v1"
        # A new httpx client's first request imports anyio's asyncio backend (compiled from
        # source when PYTHONDONTWRITEBYTECODE is set): client cost, timed apart from the server.
        t = time.perf_counter()
        (await http.get(base + "/ping")).raise_for_status()
        print(
            f"client's first request (/ping): {(time.perf_counter() - t) * 1000:5.1f} ms "
            "(httpx/anyio start-up in the client, not the simulator)"
        )
        t = time.perf_counter()
        (await http.get(base + "/stores")).raise_for_status()
        print(f"first GET /stores (cold):    {(time.perf_counter() - t) * 1000:8.1f} ms")
        for label, path in (
            ("GET /stores", "/stores"),
            ("GET /hotspot/regions/write", "/hotspot/regions/write"),
            ("GET /regions/key?limit=1000", "/regions/key?limit=1000"),
            ("GET /regions/count", "/regions/count"),
        ):
            med, worst, size = await timed_get(http, base + path, repeat)
            print(f"{label:29s}{med:8.1f} ms median, {worst:7.1f} ms max, {size / 1024:8.0f} KiB")
        await sim.kill_store(1)
        t = time.perf_counter()
        await sim.advance(15)
        print(f"kill a store + 15 s (election scan): {time.perf_counter() - t:6.2f} s")
        med, worst, _ = await timed_get(http, base + "/stores", repeat)
        print(f"GET /stores after the kill:  {med:8.1f} ms median, {worst:7.1f} ms max")
        med, worst, _ = await timed_get(http, sim.store_status_urls[2] + "/metrics", repeat)
        print(f"GET store /metrics:          {med:8.1f} ms median, {worst:7.1f} ms max")
        med, worst, size = await timed_get(http, sim.pd_urls[0] + "/metrics", repeat)
        print(
            f"GET PD leader /metrics:      {med:8.1f} ms median, {worst:7.1f} ms max, {size / 1024:8.0f} KiB"
        )
        print(f"RSS at the end:              {rss_mb():8.0f} MB (target <= 1536 MB)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stores", type=int, default=1000)
    p.add_argument("--regions", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    asyncio.run(run(args.stores, args.regions, args.repeat))


if __name__ == "__main__":
    main()
