"""One monitor tick's cost (``observe`` + ``evaluate``) against the simulated cluster.

The simulator runs in a child process with a manual clock (it does no work
between requests), so the figures are the operator's: wall time of a tick and
the CPU the operator process spent on it. Sizes: 3, 100 and 1000 stores with
1,000,000 regions, plus 3 stores with 10,000 regions to show the cost does not
grow with regions. Target: <= 50 ms per tick, flat in regions.

    uv run python benchmarks/tick_cost.py [--ticks 10] [--sizes 3x10000,3x1000000,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, datetime

import httpx
from operator_tikv.plugin import plugin

from operator_tui.core.subject import SubjectContext

RUNNER = r"""
import asyncio, json, sys
from operator_tikv.sim import SimCluster, SimConfig

async def main(stores, regions):
    async with SimCluster(SimConfig(stores=stores, regions=regions, seed=1, manual_clock=True)) as sim:
        await sim.advance(12)
        print(json.dumps({"pd": sim.pd_urls, "now_ns": sim.now_ns}), flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                return
            await sim.advance(float(line))
            print(json.dumps({"now_ns": sim.now_ns}), flush=True)

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""

DEFAULT_SIZES = "3x10000,3x1000000,100x1000000,1000x1000000"


class Sim:
    """The simulator in a child process; ``advance`` moves its clock, ``now`` reads it."""

    def __init__(self, stores: int, regions: int) -> None:
        self.stores, self.regions = stores, regions
        self.proc: asyncio.subprocess.Process | None = None
        self.pd: list[str] = []
        self.now_ns = 0

    async def __aenter__(self) -> Sim:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RUNNER,
            str(self.stores),
            str(self.regions),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        info = await self._read()
        self.pd = info["pd"]
        self.now_ns = info["now_ns"]
        return self

    async def _read(self) -> dict:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=600)
        if not line:
            raise RuntimeError("simulator exited")
        return json.loads(line)

    async def advance(self, seconds: float) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(f"{seconds}\n".encode())
        await self.proc.stdin.drain()
        self.now_ns = (await self._read())["now_ns"]

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ns / 1e9, UTC)

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _ticks(
    sim: Sim, http: httpx.AsyncClient, metrics: str, ticks: int, interval_s: float
) -> dict:
    ctx = SubjectContext(
        http=http,
        endpoints=sim.pd,
        metrics_source=metrics,
        interval_s=interval_s,
        options={"clock": sim.now, "tick_timeout_s": 60},
    )
    subject = plugin.create(ctx)
    for _ in range(2):
        await subject.observe()
        await sim.advance(interval_s)
    walls: list[float] = []
    cpus: list[float] = []
    evals: list[float] = []
    errors = 0
    for _ in range(ticks):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        snap = await subject.observe()
        wall1 = time.perf_counter()
        subject.evaluate(snap)
        wall2 = time.perf_counter()
        cpus.append((time.process_time() - cpu0) * 1000)
        walls.append((wall2 - wall0) * 1000)
        evals.append((wall2 - wall1) * 1000)
        errors += len(snap.errors)
        await sim.advance(interval_s)
    await subject.aclose()
    return {
        "tick_ms_median": round(statistics.median(walls), 1),
        "tick_ms_p95": round(_pct(walls, 0.95), 1),
        "cpu_ms_median": round(statistics.median(cpus), 1),
        "evaluate_ms_median": round(statistics.median(evals), 2),
        "errors": errors,
    }


async def measure(stores: int, regions: int, ticks: int, interval_s: float) -> dict:
    started = time.perf_counter()
    async with Sim(stores, regions) as sim:
        boot_s = time.perf_counter() - started
        async with httpx.AsyncClient() as http:
            pd_only = await _ticks(sim, http, "none", ticks, interval_s)
            full = await _ticks(sim, http, "direct", ticks, interval_s)
    return {
        "stores": stores,
        "regions": regions,
        "sim_boot_s": round(boot_s, 1),
        "pd_only": pd_only,
        "full": full,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ticks", type=int, default=10, help="measured ticks per size")
    parser.add_argument(
        "--interval", type=float, default=2.0, help="simulated seconds between ticks"
    )
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="STORESxREGIONS,... to measure")
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    args = parser.parse_args(argv)
    sizes = []
    for part in args.sizes.split(","):
        stores, _, regions = part.partition("x")
        sizes.append((int(stores), int(regions)))
    if not args.json:
        print(
            "tick = observe() + evaluate(); 'PD only' skips store metrics; 'full' scrapes every "
            "store's /metrics.\ncpu = CPU time of the operator process (the simulator runs in "
            "another process).\n"
        )
        print(
            f"{'stores':>6} {'regions':>9} | {'PD only: tick ms':>16} {'cpu ms':>7} | "
            f"{'full: tick ms':>13} {'p95':>7} {'cpu ms':>7} {'evaluate ms':>11} | errors"
        )
    for stores, regions in sizes:
        row = asyncio.run(measure(stores, regions, args.ticks, args.interval))
        if args.json:
            print(json.dumps(row))
        else:
            pd, full = row["pd_only"], row["full"]
            print(
                f"{stores:>6} {regions:>9} | {pd['tick_ms_median']:>16} {pd['cpu_ms_median']:>7} | "
                f"{full['tick_ms_median']:>13} {full['tick_ms_p95']:>7} {full['cpu_ms_median']:>7} "
                f"{full['evaluate_ms_median']:>11} | {pd['errors'] + full['errors']}"
            )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
