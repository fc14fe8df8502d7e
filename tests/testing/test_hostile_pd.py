"""The hostile PD impersonator answers in PD's shapes, and the front ends survive it in tmux."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import httpx
import pytest

from operator_tui.testing.hostile_pd import MARKUP, MAX_ID, HostilePD

ROOT = Path(__file__).resolve().parents[2]


async def test_each_variant_answers_as_described() -> None:
    async with HostilePD("mixed") as pd, httpx.AsyncClient(base_url=pd.base_url) as http:
        stores = (await http.get("/pd/api/v1/stores")).json()["stores"]
        assert MARKUP in stores[0]["store"]["address"] and len(stores) == 4
        assert (await http.get("/pd/api/v1/members")).json()["leader"]["name"].startswith("pd-0")
        assert "tikv_engine_size_bytes" in (await http.get("/metrics")).text
        assert (await http.post("/pd/api/v1/operators", json={})).status_code == 403
    async with HostilePD("huge_id") as pd, httpx.AsyncClient(base_url=pd.base_url) as http:
        ids = [s["store"]["id"] for s in (await http.get("/pd/api/v1/stores")).json()["stores"]]
        assert MAX_ID in ids
    async with HostilePD("redirect") as pd, httpx.AsyncClient(base_url=pd.base_url) as http:
        assert (await http.get("/pd/api/v1/stores")).status_code == 302
    async with HostilePD("surrogates") as pd, httpx.AsyncClient(base_url=pd.base_url) as http:
        assert "\\ud800" in (await http.get("/pd/api/v1/stores")).text


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_front_ends_survive_the_mixed_variant_in_a_real_terminal(tmp_path: Path) -> None:
    """The short CI profile of ``benchmarks/hostile_tmux.py``: one variant, no eval."""
    spec = importlib.util.spec_from_file_location(
        "hostile_tmux", ROOT / "benchmarks/hostile_tmux.py"
    )
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    sys.modules["hostile_tmux"] = bench
    spec.loader.exec_module(bench)
    runs = bench.variant_runs("mixed", 5.0, tmp_path)
    assert [r.problems for r in runs] == [[]] * len(runs)
    assert [r.exit_code for r in runs] == [0, 1, 0, 0, 0]  # check finds the Down store
