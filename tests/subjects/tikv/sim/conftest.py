"""Fixtures for the simulator tests: a manual-clock cluster, fixture loading, the Prometheus binary."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from operator_tikv.sim import SimCluster, SimConfig

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


@pytest.fixture
def pd_fixture() -> Any:
    def load(name: str) -> Any:
        return json.loads((FIXTURES / "pd" / name).read_text())

    return load


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
async def sim() -> AsyncIterator[SimCluster]:
    """A 3-store, 100-region cluster whose time moves only through ``advance``."""
    async with SimCluster(SimConfig(manual_clock=True)) as cluster:
        await cluster.advance(12)
        yield cluster


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def prometheus_bin() -> str:
    """Debian's ``prometheus``; skipped when missing unless OPERATOR_REQUIRE_PROMETHEUS=1 (then failed)."""
    path = shutil.which("prometheus")
    if path is None:
        if os.environ.get("OPERATOR_REQUIRE_PROMETHEUS") == "1":
            pytest.fail("prometheus binary not found on PATH and OPERATOR_REQUIRE_PROMETHEUS=1")
        pytest.skip(
            "prometheus binary not found on PATH (scripts/setup-test-tools.sh installs Debian's)"
        )
    return path
