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

from operator_tui.testing.shared import shared_file

# PD bodies the project built field by field (tests/fixtures/pd/README.md).
PD_FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "pd"
# PD bodies captured from a real cluster: third-party, read from ../shared/fixtures/pd.
VERBATIM_PD = ("cluster.json", "health.json", "members.json", "store.json", "stores.json")


def pd_fixture_path(name: str) -> Path:
    """Where a PD body lives; a test needing an absent third-party one is skipped."""
    return shared_file(f"pd/{name}") if name in VERBATIM_PD else PD_FIXTURES / name


@pytest.fixture
def pd_fixture() -> Any:
    def load(name: str) -> Any:
        return json.loads(pd_fixture_path(name).read_text())

    return load


@pytest.fixture
def pd_fixture_bytes() -> Any:
    return lambda name: pd_fixture_path(name).read_bytes()


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
