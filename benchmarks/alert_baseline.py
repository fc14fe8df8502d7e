"""Baseline: when would TiKV's and PD's official alert rules fire, next to operator-tui, on the same faults?

For each chosen scenario this starts the simulated cluster in real time
(speed 1), a real Prometheus (Debian's ``prometheus``) on a free loopback port
scraping the simulated PD members and stores with the official rules loaded
(``../shared/fixtures/tikv/*.rules*.yml``, their own ``for:`` clauses untouched),
and the operator (monitor + offline diagnoser) on the same cluster. It injects
the scenario's faults and records, in wall seconds after the first fault:

* when operator-tui opened its first ticket (and whether the diagnosis was right),
* when the first official alert went ``pending`` and when the first one ``firing``,
  which rule it was and which instance it names.

Prometheus evaluates ``for:`` in wall time, so this cannot run on the
accelerated clock ``operator-tui eval`` uses: it runs in real time on a
subset of the suite (the default list below), a few minutes per scenario,
several scenarios at once. It is a benchmark that prints figures, not a test.

    uv run python benchmarks/alert_baseline.py [--only NAME ...] [--cap 240] [--parallel 3]
        [--scrape-interval 5] [--json FILE] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
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
from operator_tikv import shipped
from rich.console import Console
from rich.table import Table

from operator_tui.config import Settings
from operator_tui.core.harness import SimHarness
from operator_tui.evaluation.runner import EvalError, RunOptions, run_scenario
from operator_tui.evaluation.scenario import FaultSpec, Scenario, ScenarioError, load_suite
from operator_tui.evaluation.scoring import score_run
from operator_tui.testing.shared import missing_reason, shared_dir

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = shipped.scenarios_dir()
SHARED = shared_dir()
RULES = sorted((SHARED / "tikv").glob("*.rules*.yml")) if SHARED else []
DEFAULT_SUBSET = (
    "store-killed",
    "store-partitioned",
    "slow-disk",
    "disk-pressure",
    "hot-region",
    "pd-leader-killed",
    "write-stall",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(slots=True)
class AlertSeen:
    name: str
    instance: str
    state: str
    at_s: float
    target: Any = None


@dataclass(slots=True)
class BaselineResult:
    scenario: str
    expected_target: Any
    expected_class: str | None
    operator_ttd_s: float | None = None
    operator_target: Any = None
    operator_class: str | None = None
    operator_passed: bool = False
    first_pending: AlertSeen | None = None
    first_firing: AlertSeen | None = None
    firing: list[AlertSeen] = field(default_factory=list)
    pre_fault_alerts: list[str] = field(default_factory=list)
    watched_s: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PrometheusHooks:
    """Starts Prometheus on the cluster once it listens, polls its alerts, stops it at the end."""

    def __init__(
        self, workdir: Path, scrape_s: float, cap_s: float, http: httpx.AsyncClient
    ) -> None:
        self.workdir = workdir
        self.scrape_s = scrape_s
        self.cap_s = cap_s
        self.http = http
        self.port = 0
        self.proc: asyncio.subprocess.Process | None = None
        self.poller: asyncio.Task[None] | None = None
        self.fault_wall: float | None = None
        self.fault_sim_s: float | None = None
        self.store_by_instance: dict[str, int] = {}
        self.seen: dict[tuple[str, str, str], AlertSeen] = {}
        self.pre_fault: set[str] = set()
        self.error: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def started(self, harness: SimHarness) -> None:
        endpoints = harness.endpoints()
        targets = {job: list(hosts) for job, hosts in endpoints.scrape.items()}
        self.store_by_instance = {
            url.split("://", 1)[1]: sid for sid, url in endpoints.stores.items()
        }
        config = {
            "global": {
                "scrape_interval": f"{self.scrape_s:g}s",
                "evaluation_interval": f"{self.scrape_s:g}s",
            },
            "rule_files": [str(p) for p in RULES],
            "scrape_configs": [
                {"job_name": "pd", "static_configs": [{"targets": targets["pd"]}]},
                {"job_name": "tikv", "static_configs": [{"targets": targets["tikv"]}]},
            ],
        }
        cfg = self.workdir / "prometheus.yml"
        cfg.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.port = free_port()
        log = (self.workdir / "prometheus.log").open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            "prometheus",
            f"--config.file={cfg}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            stdout=log,
            stderr=log,
        )
        log.close()
        for _ in range(150):
            with contextlib.suppress(httpx.HTTPError):
                if (await self.http.get(self.url + "/-/ready", timeout=1.0)).status_code == 200:
                    break
            if self.proc.returncode is not None:
                raise EvalError(
                    f"prometheus exited with {self.proc.returncode}; see {self.workdir}/prometheus.log"
                )
            await asyncio.sleep(0.2)
        else:
            raise EvalError("prometheus did not become ready within 30 s")
        self.poller = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            try:
                resp = await self.http.get(self.url + "/api/v1/alerts", timeout=2.0)
                alerts = resp.json()["data"]["alerts"]
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                self.error = f"polling alerts: {exc}"
                alerts = []
            now = time.monotonic()
            for alert in alerts:
                name = alert["labels"].get("alertname", "?")
                instance = alert["labels"].get("instance", alert["labels"].get("store_id", ""))
                state = alert.get("state", "")
                if self.fault_wall is None:
                    self.pre_fault.add(f"{name}({state})")
                    continue
                key = (name, instance, state)
                if key not in self.seen and name not in {p.split("(")[0] for p in self.pre_fault}:
                    target = self.store_by_instance.get(instance, "cluster")
                    self.seen[key] = AlertSeen(
                        name, instance, state, round(now - self.fault_wall, 1), target
                    )
            await asyncio.sleep(1.0)

    async def fault_injected(self, fault: FaultSpec, sim_s: float) -> None:
        if self.fault_wall is None:
            self.fault_wall = time.monotonic()
            self.fault_sim_s = sim_s

    async def stepped(self, sim_s: float, detected: bool) -> bool:
        if self.fault_sim_s is None:
            return False
        fired = any(a.state == "firing" for a in self.seen.values())
        return (fired and detected) or sim_s - self.fault_sim_s >= self.cap_s

    async def finished(self) -> None:
        if self.poller is not None:
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def run_one(scenario: Scenario, cap_s: float, scrape_s: float) -> BaselineResult:
    first = scenario.first_fault_at or 0.0
    watched = scenario.model_copy(update={"duration": first + cap_s + scrape_s})
    result = BaselineResult(scenario.name, scenario.expect.target, scenario.expect.root_cause_class)
    with tempfile.TemporaryDirectory(prefix="alert-baseline-") as tmp:
        async with httpx.AsyncClient() as http:
            hooks = PrometheusHooks(Path(tmp), scrape_s, cap_s, http)
            options = RunOptions(
                backend="offline",
                clock="realtime",
                stop_when_diagnosed=False,
                scenario_wall_timeout_s=first + scenario.warmup + cap_s + 120,
                hooks=hooks,
            )
            started = time.monotonic()
            outcome = await run_scenario(watched, Settings(), options)
            result.watched_s = round(time.monotonic() - started, 1)
            score = score_run(scenario, outcome)
            result.operator_ttd_s = score.ttd_sim_s
            result.operator_target = score.target
            result.operator_class = score.root_cause_class
            result.operator_passed = score.passed
            result.error = outcome.error or hooks.error
            seen = sorted(hooks.seen.values(), key=lambda a: (a.at_s, a.name))
            result.firing = [a for a in seen if a.state == "firing"]
            result.first_firing = result.firing[0] if result.firing else None
            pending = [a for a in seen if a.state == "pending"]
            result.first_pending = pending[0] if pending else (result.first_firing)
            result.pre_fault_alerts = sorted(hooks.pre_fault)
    return result


def _alert(a: AlertSeen | None, cap_s: float) -> str:
    if a is None:
        return f"none in {cap_s:g} s"
    where = f"store {a.target}" if isinstance(a.target, int) else "cluster"
    return f"{a.at_s:.0f} s {a.name} ({where})"


def render(results: list[BaselineResult], cap_s: float, scrape_s: float) -> tuple[Table, str]:
    headers = (
        "scenario",
        "operator-tui ticket",
        "diagnosis",
        "first alert pending",
        "first alert firing",
    )
    table = Table(
        *headers,
        title=f"operator-tui vs official alert rules (real time, scrape/eval {scrape_s:g} s)",
    )
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in results:
        op = "-" if r.operator_ttd_s is None else f"{r.operator_ttd_s:.0f} s"
        diag = f"{r.operator_class}@{r.operator_target}" + (" ok" if r.operator_passed else " NO")
        row = [r.scenario, op, diag, _alert(r.first_pending, cap_s), _alert(r.first_firing, cap_s)]
        if r.error:
            row[-1] += f" [error: {r.error}]"
        table.add_row(*row)
        lines.append("| " + " | ".join(row) + " |")
    return table, "\n".join(lines) + "\n"


async def main_async(args: argparse.Namespace) -> int:
    if shutil.which("prometheus") is None:
        print(
            "alert_baseline: error: prometheus not found on PATH (apt-get install prometheus)",
            file=sys.stderr,
        )
        return 2
    if not RULES:
        where = missing_reason("tikv/tikv.rules.v8.5.7.yml") or "no *.rules*.yml in it"
        print(f"alert_baseline: error: official rules absent: {where}", file=sys.stderr)
        return 2
    try:
        suite = {s.name: s for s in load_suite(args.scenarios)}
    except ScenarioError as exc:
        print(f"alert_baseline: error: {exc}", file=sys.stderr)
        return 2
    names = args.only or [n for n in DEFAULT_SUBSET if n in suite]
    missing = [n for n in names if n not in suite]
    if missing:
        print(f"alert_baseline: error: no scenario named {', '.join(missing)}", file=sys.stderr)
        return 2
    gate = asyncio.Semaphore(args.parallel)
    console = Console(stderr=True)

    async def one(name: str) -> BaselineResult:
        async with gate:
            console.print(f"running {name} in real time (up to {args.cap:g} s after the fault)...")
            r = await run_one(suite[name], args.cap, args.scrape_interval)
            console.print(
                f"  {name}: operator {r.operator_ttd_s} s, alert {_alert(r.first_firing, args.cap)}"
            )
            return r

    started = time.monotonic()
    results = await asyncio.gather(*(one(n) for n in names))
    table, markdown = render(results, args.cap, args.scrape_interval)
    Console().print(table)
    print(f"wall time: {time.monotonic() - started:.0f} s for {len(results)} scenarios")
    if args.markdown:
        args.markdown.write_text(markdown, encoding="utf-8")
    if args.json:
        doc = {
            "scrape_interval_s": args.scrape_interval,
            "cap_s": args.cap,
            "rules": [p.name for p in RULES],
            "results": [r.to_dict() for r in results],
        }
        args.json.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenarios", type=Path, default=SCENARIOS)
    p.add_argument("--only", action="append", metavar="NAME", help="scenario to run (repeatable)")
    p.add_argument(
        "--cap", type=float, default=240.0, help="seconds to wait for an alert after the fault"
    )
    p.add_argument("--parallel", type=int, default=3, help="scenarios run at once")
    p.add_argument(
        "--scrape-interval", type=float, default=5.0, help="scrape and rule evaluation interval, s"
    )
    p.add_argument("--json", type=Path, metavar="FILE")
    p.add_argument("--markdown", type=Path, metavar="FILE")
    args = p.parse_args()
    try:
        return asyncio.run(main_async(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
