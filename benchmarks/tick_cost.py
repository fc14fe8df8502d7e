"""One monitor tick's cost (``observe`` + ``evaluate``) against the simulated cluster.

The simulator runs in a child process with a manual clock (it does no work
between requests), so the figures are the operator's: wall time of a tick and
the CPU the operator process spent on it. Sizes: 3, 100 and 1000 stores with
1,000,000 regions, plus 3 stores with 10,000 regions to show the cost does not
grow with regions. Target: <= 50 ms per tick, flat in regions.

    uv run python benchmarks/tick_cost.py [--ticks 15] [--sizes 3x10000,3x1000000,...]
        [--prometheus SCRAPE_S] [--budget auto|all|N] [--kill] [--page full|modelled]
        [--compare-zlib]

"read" is the number of stores whose /metrics a direct-mode tick read (by default each
store once per 15 s scrape interval, all of them up to 12 stores), and "cpu ms/read" the
operator CPU per store read beyond PD's part. "max" is the costliest measured tick: the
one that also reads PD's hot regions, region checks or config, or runs a full collection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import shutil
import socket
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from operator_tikv.metrics import fetch
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings

from operator_tui.core.runtime import tune_collector
from operator_tui.core.subject import SubjectContext

RUNNER = r"""
import asyncio, json, sys
from operator_tikv.sim import SimCluster, SimConfig

async def main(stores, regions, full):
    config = SimConfig(stores=stores, regions=regions, seed=1, manual_clock=True, full_metrics_page=full)
    async with SimCluster(config) as sim:
        await sim.advance(12)
        info = {"pd": sim.pd_urls, "now_ns": sim.now_ns, "targets": sim.prometheus_targets()["tikv"]}
        print(json.dumps(info), flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"kill "):
                await sim.kill_store(int(line.split()[1]))
            elif line.startswith(b"start "):
                await sim.start_store(int(line.split()[1]))
            else:
                await sim.advance(float(line))
            print(json.dumps({"now_ns": sim.now_ns}), flush=True)

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "full"))
"""

DEFAULT_SIZES = "3x10000,3x1000000,100x1000000,1000x1000000"


class Sim:
    """The simulator in a child process; ``advance`` moves its clock, ``now`` reads it."""

    def __init__(self, stores: int, regions: int, page: str = "full") -> None:
        self.stores, self.regions, self.page = stores, regions, page
        self.proc: asyncio.subprocess.Process | None = None
        self.pd: list[str] = []
        self.targets: list[str] = []
        self.now_ns = 0

    async def __aenter__(self) -> Sim:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RUNNER,
            str(self.stores),
            str(self.regions),
            self.page,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        info = await self._read()
        self.pd = info["pd"]
        self.targets = info["targets"]
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

    async def kill(self, store_id: int) -> None:
        await self._command(f"kill {store_id}")

    async def start(self, store_id: int) -> None:
        await self._command(f"start {store_id}")

    async def _command(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(f"{line}\n".encode())
        await self.proc.stdin.drain()
        await self._read()

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


async def _next_tick(sim: Sim, interval_s: float, began: float | None) -> None:
    """Move the simulator's clock; when ``began`` is given, also wait out the interval."""
    await sim.advance(interval_s)
    if began is not None:
        await asyncio.sleep(max(0.0, interval_s - (time.perf_counter() - began)))


async def _ticks(
    sim: Sim,
    http: httpx.AsyncClient,
    metrics: str,
    ticks: int,
    interval_s: float,
    prometheus_url: str | None = None,
    budget: str | None = None,
) -> dict:
    section = TikvSettings(
        pd=sim.pd,
        prometheus_url=prometheus_url,
        metrics_source=metrics,
        tick_timeout_s=60,
        scrape_budget=budget or "auto",
    )
    ctx = SubjectContext(http=http, settings=section, interval_s=interval_s, clock=sim.now)
    subject = plugin.create(ctx)
    # Steady state: every store read once at its own pace (direct mode spreads reads over the
    # scrape interval), every rate with a base.
    warmup = 2 + math.ceil(subject.direct.scrape_interval_s / interval_s)
    # Prometheus scrapes in real time: ticks run back to back would find few new scrapes.
    paced = prometheus_url is not None
    for _ in range(warmup):
        began = time.perf_counter()
        await subject.observe()
        await _next_tick(sim, interval_s, began if paced else None)
    thresholds = gc.get_threshold()
    tune_collector()  # as OperatorRuntime.run_monitor does once start-up is over
    walls: list[float] = []
    cpus: list[float] = []
    evals: list[float] = []
    read: list[int] = []
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
        read.append(sum(1 for st in snap.stores if snap.measured is None or st.id in snap.measured))
        await _next_tick(sim, interval_s, wall0 if paced else None)
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    await subject.aclose()
    return {
        "tick_ms_median": round(statistics.median(walls), 1),
        "tick_ms_p95": round(_pct(walls, 0.95), 1),
        "cpu_ms_median": round(statistics.median(cpus), 1),
        "cpu_ms_max": round(max(cpus), 1),
        "evaluate_ms_median": round(statistics.median(evals), 2),
        "stores_read_median": statistics.median(read),
        "errors": errors,
    }


async def _kill_to_down(
    sim: Sim, http: httpx.AsyncClient, interval_s: float, budget: str | None, limit: int = 30
) -> dict:
    """Ticks from killing the store read last (the furthest from its next read) to store_down."""
    section = TikvSettings(
        pd=sim.pd, metrics_source="direct", tick_timeout_s=60, scrape_budget=budget or "auto"
    )
    ctx = SubjectContext(http=http, settings=section, interval_s=interval_s, clock=sim.now)
    subject = plugin.create(ctx)
    snap = None
    per_tick = subject.direct.reads_per_tick(sim.stores)
    for _ in range(math.ceil(sim.stores / per_tick) + 1):  # every store read once: steady state
        snap = await subject.observe()
        subject.evaluate(snap)
        await sim.advance(interval_s)
    assert snap is not None
    just_read = [st.id for st in snap.stores if snap.measured is None or st.id in snap.measured]
    victim = max(just_read)
    await sim.kill(victim)
    ticks = None
    for n in range(1, limit + 1):
        await sim.advance(interval_s)
        snap = await subject.observe()
        if f"store_down:store-{victim}" in {v.key for v in subject.evaluate(snap)}:
            ticks = n
            break
    await subject.aclose()
    return {"victim": victim, "ticks": ticks, "pd_state": snap.store(victim).state.value}


class Prometheus:
    """Debian's ``prometheus`` scraping the simulated stores, in a temporary directory."""

    def __init__(self, targets: list[str], scrape_interval_s: float) -> None:
        self.targets = targets
        self.scrape_interval_s = scrape_interval_s
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    async def __aenter__(self) -> Prometheus:
        binary = shutil.which("prometheus")
        if binary is None:
            raise SystemExit("tick_cost: --prometheus needs the prometheus binary on PATH")
        self._dir = tempfile.TemporaryDirectory(prefix="tick-cost-prom-")
        workdir = Path(self._dir.name)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        interval = f"{self.scrape_interval_s:g}s"
        config = {
            "global": {"scrape_interval": interval, "scrape_timeout": interval},
            "scrape_configs": [{"job_name": "tikv", "static_configs": [{"targets": self.targets}]}],
        }
        (workdir / "prometheus.yml").write_text(json.dumps(config))
        self.proc = await asyncio.create_subprocess_exec(
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(self.url + "/-/ready", timeout=1)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            query = {"query": "count(up == 1)"}
            for _ in range(600):
                try:
                    answer = await http.get(self.url + "/api/v1/query", params=query, timeout=30)
                except httpx.HTTPError:
                    await asyncio.sleep(1)
                    continue
                result = answer.json().get("data", {}).get("result", [])
                if result and int(float(result[0]["value"][1])) >= len(self.targets):
                    break
                await asyncio.sleep(0.5)
        await asyncio.sleep(self.scrape_interval_s * 2.5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
        if self._dir is not None:
            self._dir.cleanup()


@contextlib.contextmanager
def _inflate_with(module: object) -> Iterator[None]:
    """The stream fetcher inflating with ``module`` (``zlib``) instead of ISA-L, for a while."""
    saved = fetch.isal_zlib
    fetch.isal_zlib = module  # type: ignore[assignment]
    try:
        yield
    finally:
        fetch.isal_zlib = saved


async def measure(
    stores: int,
    regions: int,
    ticks: int,
    interval_s: float,
    prometheus_scrape_s: float | None,
    budget: str | None = None,
    kill: bool = False,
    page: str = "full",
    compare_zlib: bool = False,
) -> dict:
    started = time.perf_counter()
    async with Sim(stores, regions, page) as sim:
        boot_s = time.perf_counter() - started
        async with httpx.AsyncClient() as http:
            row: dict = {"stores": stores, "regions": regions, "sim_boot_s": round(boot_s, 1)}
            row["pd_only"] = await _ticks(sim, http, "none", ticks, interval_s)
            if compare_zlib:
                # Before/after in one run: the same ticks with pages inflated by zlib, as before.
                with _inflate_with(zlib):
                    row["full_zlib"] = await _ticks(
                        sim, http, "direct", ticks, interval_s, budget=budget
                    )
            row["full"] = await _ticks(sim, http, "direct", ticks, interval_s, budget=budget)
            read = row["full"]["stores_read_median"]
            extra_cpu = row["full"]["cpu_ms_median"] - row["pd_only"]["cpu_ms_median"]
            row["full"]["cpu_ms_per_store_read"] = round(extra_cpu / read, 2) if read else None
            if kill:
                row["kill"] = await _kill_to_down(sim, http, interval_s, budget)
            if prometheus_scrape_s is not None:
                async with Prometheus(sim.targets, prometheus_scrape_s) as prom:
                    row["prometheus"] = await _ticks(
                        sim, http, "prometheus", ticks, interval_s, prom.url
                    )
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ticks",
        type=int,
        default=15,
        help="measured ticks per size (15 at 2 s: three reads of hot regions and region checks)",
    )
    parser.add_argument(
        "--interval", type=float, default=2.0, help="simulated seconds between ticks"
    )
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="STORESxREGIONS,... to measure")
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    parser.add_argument(
        "--budget",
        help="direct mode's scrape_budget: auto (the default: each store every 15 s), all, or N",
    )
    parser.add_argument(
        "--kill",
        action="store_true",
        help="then kill the store read last and count the ticks until store_down (direct mode)",
    )
    parser.add_argument(
        "--prometheus",
        type=float,
        metavar="SCRAPE_S",
        help="also measure metrics from a real Prometheus scraping the stores every SCRAPE_S "
        "(at 1000 stores use --page modelled: full pages are 9M series, too many for a small box)",
    )
    parser.add_argument(
        "--page",
        choices=("full", "modelled"),
        default="full",
        help="store /metrics pages: full (every TiKV family, a real page's size: the default) "
        "or modelled (only the ~60 families the simulator models, 13x smaller)",
    )
    parser.add_argument(
        "--compare-zlib",
        action="store_true",
        help="also measure direct mode with pages inflated by zlib (before ISA-L), same run",
    )
    args = parser.parse_args(argv)
    sizes = []
    for part in args.sizes.split(","):
        stores, _, regions = part.partition("x")
        sizes.append((int(stores), int(regions)))
    if not args.json:
        print(
            "tick = observe() + evaluate(); 'PD only' skips store metrics; 'direct' reads the stores' "
            "/metrics (each every 15 s by default).\ncpu = CPU time of the operator process (the simulator runs in "
            f"another process). Store pages: {args.page}.\n"
        )
        print(
            f"{'stores':>6} {'regions':>9} | {'PD only: tick ms':>16} {'cpu ms':>7} {'max':>5} | "
            f"{'direct: tick ms':>15} {'p95':>7} {'cpu ms':>7} {'max':>5} {'evaluate ms':>11} "
            f"{'read':>5} {'cpu ms/read':>11} | errors"
        )
    for stores, regions in sizes:
        row = asyncio.run(
            measure(
                stores,
                regions,
                args.ticks,
                args.interval,
                args.prometheus,
                args.budget,
                args.kill,
                args.page,
                args.compare_zlib,
            )
        )
        if args.json:
            print(json.dumps(row))
        else:
            pd, full = row["pd_only"], row["full"]
            print(
                f"{stores:>6} {regions:>9} | {pd['tick_ms_median']:>16} {pd['cpu_ms_median']:>7} "
                f"{pd['cpu_ms_max']:>5} | {full['tick_ms_median']:>15} {full['tick_ms_p95']:>7} "
                f"{full['cpu_ms_median']:>7} {full['cpu_ms_max']:>5} "
                f"{full['evaluate_ms_median']:>11} {full['stores_read_median']:>5} "
                f"{full['cpu_ms_per_store_read']!s:>11} | {pd['errors'] + full['errors']}"
            )
            if "full_zlib" in row:
                old = row["full_zlib"]
                print(
                    f"{'':>6} {'':>9} | {'direct, zlib (before):':>34} {old['tick_ms_median']:>15} "
                    f"{old['tick_ms_p95']:>7} {old['cpu_ms_median']:>7} {old['cpu_ms_max']:>5} "
                    f"{old['evaluate_ms_median']:>11} {old['stores_read_median']:>5}"
                )
            if "kill" in row:
                k = row["kill"]
                print(
                    f"{'':>6} {'':>9} | kill store {k['victim']} (read last): store_down after "
                    f"{k['ticks']} ticks of {args.interval:g} s (PD then says {k['pd_state']})"
                )
            if "prometheus" in row:
                prom = row["prometheus"]
                print(
                    f"{'':>6} {'':>9} | {'prometheus: tick ms':>19} {prom['tick_ms_median']:>7} "
                    f"p95 {prom['tick_ms_p95']:>7} cpu ms {prom['cpu_ms_median']:>7} "
                    f"max {prom['cpu_ms_max']:>5} stores re-read {prom['stores_read_median']:>5} "
                    f"errors {prom['errors']}"
                )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
