"""How much of the official Grafana dashboards (v8.5.7) the simulator lights up, per dashboard.

Starts the simulated cluster in real time, a real Prometheus (Debian's ``prometheus``) on a
free loopback port scraping the 3 PD members and every store (job ``pd`` and ``tikv``, the
store status ports read from PD's ``GET /pd/api/v1/stores``), lets it scrape for a while,
then evaluates every panel expression of ``../shared/fixtures/tikv/dashboards/
exprs.v8.5.7.jsonl`` over Prometheus's HTTP API (a range query over the scraped window,
as a Grafana panel does), with the dashboards' template variables substituted the usual
way (``$instance`` = all, ``$k8s_cluster``/``$tidb_cluster`` empty, ``$__rate_interval``
= 4 scrape intervals, ``$db`` = kv, ``$command`` = prewrite ...).

An expression "returns data" when some point of its result is a number (not NaN): a
histogram quantile over buckets that never moved draws nothing in Grafana, so it does not
count. Only in-scope expressions count (those reading only metrics a v8.5.7 TiKV or PD
exports; node_exporter, TiDB and the rest are out of scope). It prints, per dashboard, the
share that returns data, and the metric names the in-scope expressions read most that the
simulator does not export at all. Many panels show an incident only (leaders dropping,
server busy, unreachable stores): ``--events`` puts a slow disk and a partition in the
window, which lights them the way an incident lights a real cluster's dashboards.

The expression list is third-party material, so it is read from ``../shared/fixtures``
(next to the project) and never committed; without it this says so and exits cleanly.

    uv run python benchmarks/dashboard_fidelity.py [--scrape 5] [--window 60] [--stores 3]
        [--regions 300] [--events] [--separate-read-pools] [--top 15] [--dashboard NAME ...]
        [--json FILE] [--misses FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import re
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from operator_tikv.sim import SimCluster, SimConfig

ROOT = Path(__file__).resolve().parents[1]
EXPRS = ROOT.parent / "shared" / "fixtures" / "tikv" / "dashboards" / "exprs.v8.5.7.jsonl"
DASHBOARDS = (
    "tikv_summary",
    "tikv_trouble_shooting",
    "tikv_details",
    "tikv_fast_tune",
    "tikv_raw",
    "performance_read",
    "performance_write",
    "pd",
)


@dataclass(slots=True)
class Expr:
    dashboard: str
    n: int
    panel: str
    expr: str
    metrics: list[str]
    has_data: bool = False
    error: str = ""


@dataclass(slots=True)
class Report:
    per_dashboard: dict[str, tuple[int, int]] = field(default_factory=dict)
    overall: tuple[int, int] = (0, 0)
    absent: list[tuple[str, int]] = field(default_factory=list)
    errors: int = 0
    exported: int = 0


def load_exprs(path: Path, only: list[str] | None) -> list[Expr]:
    out = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if not row.get("in_scope"):
            continue
        if only and row["dashboard"] not in only:
            continue
        out.append(Expr(row["dashboard"], row["n"], row["panel"], row["expr"], row["metrics"]))
    return out


def substitute(expr: str, scrape_s: int) -> str:
    """Grafana's template variables, as a dashboard showing every instance would fill them."""
    rate = f"{4 * scrape_s}s"
    text = re.sub(r",\s*\$additional_groupby\b", "", expr)
    text = re.sub(r"\$additional_groupby\s*,?\s*", "", text)
    values = {
        "__rate_interval": rate,
        "__interval": f"{scrape_s}s",
        "__range": "5m",
        "k8s_cluster": "",
        "tidb_cluster": "",
        "instance": ".*",
        "store": ".*",
        "db": "kv",
        "titan_db": "kv",
        "command": "prewrite",
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values.get(name, ".*")

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", fill, text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def discover_targets(sim: SimCluster) -> dict[str, list[str]]:
    """PD members from the simulator, store status ports from PD's own store list."""
    async with httpx.AsyncClient(timeout=5) as http:
        body = (await http.get(f"{sim.pd_urls[0]}/pd/api/v1/stores")).json()
    stores = [entry["store"]["status_address"] for entry in body.get("stores", [])]
    pd = [url.removeprefix("http://") for url in sim.pd_urls]
    return {"pd": pd, "tikv": sorted(stores)}


class Prometheus:
    """Debian's prometheus on a free loopback port, its data in a temporary directory."""

    def __init__(self, binary: str, workdir: Path, scrape_s: int) -> None:
        self.binary, self.workdir, self.scrape_s = binary, workdir, scrape_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, targets: dict[str, list[str]]) -> None:
        interval = f"{self.scrape_s}s"
        config = {
            "global": {
                "scrape_interval": interval,
                "evaluation_interval": interval,
                "scrape_timeout": interval,
            },
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": hosts}]}
                for job, hosts in targets.items()
            ],
        }
        path = self.workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        self.proc = await asyncio.create_subprocess_exec(
            self.binary,
            f"--config.file={path}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(100):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.url}/-/ready")).status_code == 200:
                        return
                if self.proc.returncode is not None:
                    break
                await asyncio.sleep(0.2)
        raise RuntimeError("prometheus did not become ready")

    async def stop(self) -> None:
        proc = self.proc
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def _has_number(result: list[dict[str, Any]]) -> bool:
    for series in result:
        points = series.get("values") or ([series["value"]] if "value" in series else [])
        for _, value in points:
            with contextlib.suppress(ValueError):
                if not math.isnan(float(value)):
                    return True
    return False


async def evaluate(
    http: httpx.AsyncClient, url: str, exprs: list[Expr], start: float, end: float, scrape_s: int
) -> None:
    gate = asyncio.Semaphore(6)

    async def one(e: Expr) -> None:
        query = substitute(e.expr, scrape_s)
        params = {"query": query, "start": start, "end": end, "step": scrape_s}
        async with gate:
            try:
                body = (await http.post(f"{url}/api/v1/query_range", data=params)).json()
            except (httpx.HTTPError, ValueError) as exc:
                e.error = f"{type(exc).__name__}: {exc}"
                return
        if body.get("status") != "success":
            e.error = str(body.get("error", "query failed"))[:200]
            return
        data = body.get("data", {})
        result = data.get("result", [])
        if data.get("resultType") == "scalar":
            result = [{"value": result}]
        e.has_data = _has_number(result)

    await asyncio.gather(*(one(e) for e in exprs))


async def wait_targets_up(http: httpx.AsyncClient, url: str, count: int, within: float) -> int:
    deadline = time.monotonic() + within
    up = 0
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, IndexError):
            body = (await http.get(f"{url}/api/v1/query", params={"query": "sum(up)"})).json()
            result = body["data"]["result"]
            up = int(float(result[0]["value"][1])) if result else 0
            if up >= count:
                return up
        await asyncio.sleep(0.5)
    return up


def summarise(exprs: list[Expr], exported: set[str]) -> Report:
    report = Report(exported=len(exported))
    by_dash: dict[str, list[Expr]] = collections.defaultdict(list)
    for e in exprs:
        by_dash[e.dashboard].append(e)
    for dash in sorted(by_dash, key=lambda d: DASHBOARDS.index(d) if d in DASHBOARDS else 99):
        rows = by_dash[dash]
        report.per_dashboard[dash] = (sum(e.has_data for e in rows), len(rows))
    report.overall = (sum(e.has_data for e in exprs), len(exprs))
    report.errors = sum(bool(e.error) for e in exprs)
    absent: collections.Counter[str] = collections.Counter()
    for e in exprs:
        if e.has_data:
            continue
        for name in e.metrics:
            if _family(name) not in exported and name not in exported:
                absent[name] += 1
    report.absent = absent.most_common()
    return report


def _family(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def print_report(report: Report, top: int, elapsed: float) -> None:
    print(f"{'dashboard':<24} {'data':>5} / {'in scope':<8} share")
    for dash, (hit, total) in report.per_dashboard.items():
        print(f"{dash:<24} {hit:>5} / {total:<8} {100 * hit / max(total, 1):5.1f}%")
    hit, total = report.overall
    print(f"{'overall':<24} {hit:>5} / {total:<8} {100 * hit / max(total, 1):5.1f}%")
    print(f"query errors: {report.errors}; metric names exported: {report.exported}")
    if report.absent:
        print(
            f"most-referenced absent metrics (expressions without data that read them), top {top}:"
        )
        for name, count in report.absent[:top]:
            print(f"  {count:4d}  {name}")
    print(f"run took {elapsed:.0f}s")


async def run(args: argparse.Namespace, path: Path, binary: str) -> tuple[list[Expr], Report]:
    exprs = load_exprs(path, args.dashboard)
    config = SimConfig(
        stores=args.stores,
        regions=args.regions,
        seed=args.seed,
        unified_read_pool=not args.separate_read_pools,
    )
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fidelity-") as tmp:
        async with SimCluster(config) as sim:
            targets = await discover_targets(sim)
            prom = Prometheus(binary, Path(tmp), args.scrape)
            try:
                await prom.start(targets)
                async with httpx.AsyncClient(timeout=30) as http:
                    want = len(targets["pd"]) + len(targets["tikv"])
                    up = await wait_targets_up(http, prom.url, want, 30)
                    if up < want:
                        print(f"only {up} of {want} targets up after 30s", file=sys.stderr)
                    start = time.time()
                    if args.events:
                        await events(sim, args.window)
                        await asyncio.sleep(args.window - args.window / 2)
                    else:
                        await asyncio.sleep(args.window)
                    end = time.time()
                    names = (await http.get(f"{prom.url}/api/v1/label/__name__/values")).json()
                    exported = set(names.get("data", []))
                    await evaluate(http, prom.url, exprs, start, end, args.scrape)
            finally:
                await prom.stop()
    report = summarise(exprs, exported)
    print_report(report, args.top, time.monotonic() - t0)
    return exprs, report


async def events(sim: SimCluster, window: float) -> None:
    """A slow disk on store 1 and store 3 cut off from the others for a third of the window."""
    await asyncio.sleep(window / 6)
    slow = sim.add_fault("slow_disk", 1, latency_ms=400.0)
    cut = sim.add_fault("partition_store", sim.config.stores)
    await asyncio.sleep(window / 3)
    sim.clear_fault(cut)
    sim.clear_fault(slow)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--exprs", type=Path, default=EXPRS, help="the dashboards' expression list")
    p.add_argument("--scrape", type=int, default=5, help="scrape interval, seconds (default 5)")
    p.add_argument("--window", type=float, default=60, help="seconds scraped before querying")
    p.add_argument("--stores", type=int, default=3)
    p.add_argument("--regions", type=int, default=300)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--separate-read-pools",
        action="store_true",
        help="stores run the separate storage and coprocessor read pools "
        "(readpool.*.use-unified-pool = false) instead of v8.5's default unified pool",
    )
    p.add_argument("--top", type=int, default=15, help="how many absent metrics to list")
    p.add_argument("--dashboard", action="append", help="only this dashboard (repeatable)")
    p.add_argument(
        "--events",
        action="store_true",
        help="inject a slow disk (store 1) and a partition (last store) for a third of the window",
    )
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--misses", help="write the in-scope expressions without data (TSV)")
    args = p.parse_args(argv)
    if not args.exprs.is_file():
        print(f"dashboard expressions not found at {args.exprs}: nothing to measure")
        return 0
    binary = shutil.which("prometheus")
    if binary is None:
        print(
            "prometheus not installed (scripts/setup-test-tools.sh installs it): nothing measured"
        )
        return 0
    exprs, report = asyncio.run(run(args, args.exprs, binary))
    if args.misses:
        lines = [
            f"{e.dashboard}\t{e.n}\t{e.panel}\t{e.error or '-'}\t{' '.join(e.metrics)}"
            for e in exprs
            if not e.has_data
        ]
        Path(args.misses).write_text("\n".join(lines) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(report), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
