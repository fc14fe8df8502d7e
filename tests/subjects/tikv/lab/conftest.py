"""Shared helpers for the compose lab tests: the stand-in docker, a fake PD, the PromQL reader."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
LAB = ROOT / "subjects" / "tikv" / "operator_tikv" / "lab" / "compose"
COMPOSE_FILE = LAB / "docker-compose.yml"


@pytest.fixture(autouse=True)
def _lab_stays_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No lab test downloads a dashboard (loopback discard port) or writes under ``$HOME``."""
    from operator_tikv.lab import dashboards

    monkeypatch.setattr(dashboards, "RAW_URL", "http://127.0.0.1:9/{repo}/{tag}/{path}")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@dataclass
class StandinDocker:
    """A ``docker`` on PATH (and as ``path``) that records each call."""

    path: Path
    log: Path

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line)["argv"] for line in self.log.read_text().splitlines()]

    def records(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def compose_calls(self) -> list[list[str]]:
        return [c for c in self.calls() if c[:1] == ["compose"]]


@pytest.fixture
def standin_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandinDocker:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    docker = bindir / "docker"
    docker.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "standin_docker.py"}" "$@"\n')
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    log = tmp_path / "docker-argv.jsonl"
    monkeypatch.setenv("STANDIN_LOG", str(log))
    monkeypatch.setenv("STANDIN_PS", str(HERE / "data" / "compose_ps.ndjson"))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return StandinDocker(docker, log)


@dataclass
class FakePD:
    url: str
    port: int
    stores: list[dict]
    requests: list[str]


@pytest.fixture
def fake_pd() -> Iterator[FakePD]:
    """A loopback PD answering ``/pd/api/v1/stores`` with three stores on tikv0..2."""
    stores = [
        {
            "store": {
                "id": sid,
                "address": f"tikv{i}:20160",
                "status_address": f"tikv{i}:20180",
                "version": "8.5.4",
                "state_name": "Up",
            },
            "status": {"leader_count": 10, "region_count": 30},
        }
        for i, sid in enumerate((1, 4, 5))
    ]
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if self.path.startswith("/pd/api/v1/stores"):
                body = json.dumps({"count": len(stores), "stores": stores}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield FakePD(f"http://127.0.0.1:{port}", port, stores, seen)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def lab_copy(tmp_path: Path) -> Callable[[int], Path]:
    """A copy of the packaged lab whose pd0 publishes the given host port (for a fake PD)."""

    def make(pd_port: int) -> Path:
        target = tmp_path / "lab"
        if not target.exists():
            import shutil

            shutil.copytree(LAB, target)
        text = COMPOSE_FILE.read_text()
        text = text.replace('"127.0.0.1:2379:2379"', f'"127.0.0.1:{pd_port}:2379"')
        (target / "docker-compose.yml").write_text(text)
        return target / "docker-compose.yml"

    return make


PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
}
PROMQL_FUNCTIONS = {
    "sum",
    "max",
    "min",
    "avg",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "group",
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "changes",
    "resets",
    "histogram_quantile",
    "clamp_min",
    "clamp_max",
    "clamp",
    "abs",
    "absent",
    "absent_over_time",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "label_replace",
    "label_join",
    "round",
    "ceil",
    "floor",
    "vector",
    "scalar",
    "time",
    "timestamp",
    "sort",
    "sort_desc",
    "predict_linear",
    "exp",
    "ln",
}


def promql_metrics(expr: str) -> set[str]:
    """Metric names an expression selects (labels, functions, keywords, numbers removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\w+", " ", text)
    names = set(re.findall(r"(?<![\w.])[A-Za-z_:][\w:]*", text))
    return {n for n in names if n.lower() not in PROMQL_WORDS and n not in PROMQL_FUNCTIONS}


@pytest.fixture
def promql() -> Callable[[str], set[str]]:
    return promql_metrics


@pytest.fixture
def prometheus_binary() -> str:
    """Debian's ``prometheus``; skipped when missing unless OPERATOR_REQUIRE_PROMETHEUS=1."""
    import shutil

    path = shutil.which("prometheus")
    if path is None:
        if os.environ.get("OPERATOR_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(
                "prometheus not found and OPERATOR_REQUIRE_PROMETHEUS=1 (apt-get install prometheus)"
            )
        pytest.skip("prometheus not found: apt-get install prometheus to run the lab's rules live")
    return path


@dataclass
class LivePrometheus:
    """A real Prometheus on a free loopback port, with a config written by the test."""

    binary: str
    workdir: Path
    url: str = ""
    _proc: object = None

    async def start(self, config: dict) -> None:
        import asyncio
        import socket

        import httpx
        import yaml

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        path = self.workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        log = (self.workdir / "prometheus.log").open("wb")
        self._proc = await asyncio.create_subprocess_exec(
            self.binary,
            f"--config.file={path}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            stdout=log,
            stderr=log,
        )
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(150):
                try:
                    if (await http.get(f"{self.url}/-/ready")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(
            f"Prometheus did not start: {(self.workdir / 'prometheus.log').read_text()[-2000:]}"
        )

    async def stop(self) -> None:
        import asyncio

        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@pytest.fixture
async def live_prometheus(prometheus_binary: str, tmp_path: Path):
    server = LivePrometheus(prometheus_binary, tmp_path)
    try:
        yield server
    finally:
        await server.stop()
