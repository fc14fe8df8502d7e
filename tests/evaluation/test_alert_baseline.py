"""The baseline's plumbing: a real Prometheus scraping the simulator loads every official rule, and alerts are read."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import httpx
import pytest

from operator_tui.core.harness import HarnessOptions
from operator_tui.core.registry import load_plugin
from operator_tui.evaluation.scenario import FaultSpec

ROOT = Path(__file__).resolve().parents[2]


def _baseline():
    spec = importlib.util.spec_from_file_location(
        "alert_baseline", ROOT / "benchmarks" / "alert_baseline.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["alert_baseline"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def prometheus_binary() -> None:
    if shutil.which("prometheus") is None:
        if os.environ.get("OPERATOR_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(
                "prometheus not found and OPERATOR_REQUIRE_PROMETHEUS=1 (apt-get install prometheus)"
            )
        pytest.skip("prometheus not installed")


@pytest.mark.prometheus
async def test_prometheus_loads_the_official_rules_and_scrapes_the_simulator(
    tmp_path: Path, prometheus_binary: None
) -> None:
    bl = _baseline()
    assert len(bl.RULES) == 2
    harness = load_plugin("tikv").harness(HarnessOptions(speed=1.0, seed=3, manual_clock=False))
    assert harness is not None
    async with harness, httpx.AsyncClient() as http:
        hooks = bl.PrometheusHooks(tmp_path, 1.0, 60.0, http)
        try:
            await hooks.started(harness)
            groups = (await http.get(hooks.url + "/api/v1/rules")).json()["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            assert len(rules) == 29 + 18
            assert all(r.get("health") in ("ok", "unknown") for r in rules)
            for _ in range(100):
                targets = (await http.get(hooks.url + "/api/v1/targets")).json()["data"][
                    "activeTargets"
                ]
                if len(targets) == 3 + 3 and all(t["health"] == "up" for t in targets):
                    break
                await asyncio.sleep(0.2)
            else:
                pytest.fail(
                    f"targets not all up: {[(t['scrapeUrl'], t['health']) for t in targets]}"
                )
            assert not await hooks.stepped(0.0, False)
            await hooks.fault_injected(FaultSpec(kind="kill", store_id=1), 1.0)
            assert hooks.fault_sim_s == 1.0
            assert not await hooks.stepped(2.0, True)
            assert await hooks.stepped(61.0, False)
        finally:
            await hooks.finished()
        assert hooks.proc is not None and hooks.proc.returncode is not None
        assert hooks.error is None
