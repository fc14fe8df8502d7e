"""The lab's alert rules in a real Prometheus scraping the simulator: quiet while the cluster
is healthy, OperatorStoreDown on a killed store, PD member and leader alerts when the PD
leader dies. The lab's own prometheus.yml is used, with the simulator's addresses as targets."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from operator_tikv.sim import SimCluster, SimConfig

ROOT = Path(__file__).resolve().parents[4]
PROM = ROOT / "subjects" / "tikv" / "operator_tikv" / "lab" / "compose" / "prometheus"

pytestmark = pytest.mark.prometheus


def _config(targets: dict[str, list[str]]) -> dict[str, Any]:
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s")
    config["rule_files"] = [str(PROM / pattern) for pattern in config["rule_files"]]
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": targets[job["job_name"]]}]
    return config


async def _alerts(http: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    body = (await http.get(f"{url}/api/v1/alerts")).json()
    return body["data"]["alerts"]


async def _wait_for(check, within: float, what: str):
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what} within {within:.0f}s; last: {last!r}")


async def test_lab_rules_against_the_simulator(live_prometheus) -> None:
    async with SimCluster(SimConfig(stores=3, regions=60, seed=7)) as sim:
        await live_prometheus.start(_config(sim.prometheus_targets()))
        url = live_prometheus.url
        async with httpx.AsyncClient(timeout=5) as http:

            async def all_up() -> bool:
                body = (await http.get(f"{url}/api/v1/query", params={"query": "sum(up)"})).json()
                result = body["data"]["result"]
                return bool(result) and float(result[0]["value"][1]) == 6

            await _wait_for(all_up, 20, "6 targets up")
            await asyncio.sleep(3)
            quiet = {"OperatorStoreDown", "OperatorPDMemberDown", "OperatorPDNoLeader"}
            early = [a for a in await _alerts(http, url) if a["labels"]["alertname"] in quiet]
            assert early == [], early

            await sim.kill_store(2)
            killed = sim.model.stores[2].status_address

            async def store_down() -> list[dict[str, Any]]:
                return [
                    a
                    for a in await _alerts(http, url)
                    if a["labels"]["alertname"] == "OperatorStoreDown" and a["state"] == "firing"
                ]

            firing = await _wait_for(store_down, 20, "OperatorStoreDown firing")
            assert [a["labels"]["instance"] for a in firing] == [killed]
            assert firing[0]["labels"]["severity"] == "critical"
            assert firing[0]["labels"]["invariant"] == "store_down"

            await sim.start_store(2)

            async def cleared() -> bool:
                return not await store_down()

            await _wait_for(cleared, 20, "OperatorStoreDown cleared after start")

            sim.kill_pd_leader()

            async def pd_alerts() -> set[str] | None:
                names = {
                    a["labels"]["alertname"]
                    for a in await _alerts(http, url)
                    if a["state"] == "firing"
                }
                return (
                    names if {"OperatorPDMemberDown", "OperatorPDLeaderChanged"} <= names else None
                )

            await _wait_for(pd_alerts, 20, "PD member down and leader changed")
