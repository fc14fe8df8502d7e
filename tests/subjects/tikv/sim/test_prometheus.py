"""A real Prometheus scrapes the simulated PD and stores with the official alert rules loaded.

The rules are TiKV's and PD's v8.5.7 files, read from ../shared/fixtures/tikv. To keep the test
near half a minute, the generated copy rewrites every ``for:`` duration (1m, 5m, 45s, 15s) to
``2s``; the expressions are untouched. Prometheus scrapes and evaluates every second and the
simulator runs at 10x, so PD's max-store-down-time of 120 simulated seconds passes in 12 s; the
store is Disconnected from 2 s to 12 s, long enough for a loaded machine's Prometheus to see it.

Checks: a killed store is reported Disconnected then Down by PD and ``PD_cluster_down_tikv_nums``
fires (and the disconnected count was seen by Prometheus); disk pressure fires ``TiKV_low_space``
for that store; a slow disk fires ``TiKV_async_request_write_duration_seconds`` for that store.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from operator_tikv.sim import SimCluster, SimConfig

pytestmark = pytest.mark.prometheus


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_rules(shared_fixture: Callable[[str], Path], out: Path) -> list[str]:
    paths = []
    for name in ("pd.rules.v8.5.7.yml", "tikv.rules.v8.5.7.yml"):
        text = shared_fixture(f"tikv/{name}").read_text()
        text = re.sub(r"(?m)^(\s+for:\s*)\S+\s*$", r"\g<1>2s", text)
        target = out / name
        target.write_text(text)
        paths.append(str(target))
    return paths


async def _alerts(http: httpx.AsyncClient, base: str) -> list[dict[str, Any]]:
    resp = await http.get(base + "/api/v1/alerts")
    resp.raise_for_status()
    return resp.json()["data"]["alerts"]


async def test_official_rules_fire_on_simulated_faults(
    prometheus_bin: str, shared_fixture: Callable[[str], Path], tmp_path: Path
) -> None:
    cfg = SimConfig(stores=4, regions=60, speed=10.0, max_store_down_time_s=120.0)
    async with SimCluster(cfg) as sim, httpx.AsyncClient(timeout=5) as http:
        targets = sim.prometheus_targets()
        rules = _write_rules(shared_fixture, tmp_path)
        config = {
            "global": {
                "scrape_interval": "1s",
                "evaluation_interval": "1s",
                "scrape_timeout": "900ms",
            },
            "rule_files": rules,
            "scrape_configs": [
                {
                    "job_name": "pd",
                    "honor_labels": True,
                    "static_configs": [{"targets": targets["pd"]}],
                },
                {
                    "job_name": "tikv",
                    "honor_labels": True,
                    "static_configs": [{"targets": targets["tikv"]}],
                },
            ],
        }
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        proc = await asyncio.create_subprocess_exec(
            prometheus_bin,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(base + "/-/ready")).status_code == 200:
                        break
                if proc.returncode is not None or time.monotonic() > deadline:
                    pytest.fail(f"prometheus did not become ready (exit code {proc.returncode})")
                await asyncio.sleep(0.2)
            status = sim.store_status_urls
            low_space_instance = status[2].removeprefix("http://")
            slow_instance = status[3].removeprefix("http://")
            assert sim.model is not None
            capacity = sim.model.stores[2].capacity
            await sim.kill_store(1)
            sim.add_fault("disk_pressure", 2, rate_bytes_per_s=capacity * 0.05)
            sim.add_fault("slow_disk", 3, latency_ms=1500)

            seen_states: list[str] = []
            wanted = {
                ("PD_cluster_down_tikv_nums", None),
                ("TiKV_low_space", low_space_instance),
                ("TiKV_async_request_write_duration_seconds", slow_instance),
            }
            firing: set[tuple[str, str | None]] = set()
            # The loop ends as soon as every alert fires; the long bound only matters on a
            # loaded machine, where the 10x simulated clock and the rules' ``for`` lag.
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline:
                body = (await http.get(sim.pd_urls[0] + "/pd/api/v1/store/1")).json()
                name = body["store"]["state_name"]
                if not seen_states or seen_states[-1] != name:
                    seen_states.append(name)
                for alert in await _alerts(http, base):
                    if alert["state"] != "firing":
                        continue
                    label = alert["labels"]["alertname"]
                    firing.add((label, None))
                    firing.add((label, alert["labels"].get("instance")))
                if wanted <= firing and seen_states[-1] == "Down":
                    break
                await asyncio.sleep(0.5)
            assert seen_states[:3] == ["Up", "Disconnected", "Down"] or seen_states[:2] == [
                "Disconnected",
                "Down",
            ]
            assert wanted <= firing, f"firing: {sorted(firing, key=str)}"
            query = 'max_over_time(pd_cluster_status{type="store_disconnected_count"}[5m])'
            result = (await http.get(base + "/api/v1/query", params={"query": query})).json()[
                "data"
            ]["result"]
            assert any(float(r["value"][1]) >= 1 for r in result), result
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), timeout=10)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
