"""``operator-tui check`` end to end: a subprocess against a loopback PD serving fixtures."""

import asyncio
import json
import os
import sys

import pytest


async def run_cli(*argv, env=None):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "operator_tui",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "OPERATOR_PROMETHEUS_URL": "", **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode(), err.decode()


def healthy(loopback_pd, tk):
    address = f"127.0.0.1:{loopback_pd.port}"
    loopback_pd.stores = tk.stores_body(
        [
            {"store": {"id": sid, "address": f"tikv{sid}:20160", "status_address": address}}
            for sid in (1, 2, 3)
        ]
    )
    loopback_pd.metrics_text = tk.metrics_page()
    empty = tk.pd_fixture("regions_check_empty.json")
    loopback_pd.routes["/regions/check/down-peer"] = empty
    loopback_pd.routes["/hotspot/regions/write"] = b'{"as_peer": {}, "as_leader": {}}'


async def test_healthy_cluster_exits_zero_with_json(loopback_pd, tk):
    healthy(loopback_pd, tk)
    code, out, err = await run_cli(
        "--pd", f"127.0.0.1:{tk.free_port()},{loopback_pd.url}", "check", "--json"
    )
    assert code == 0, err
    body = json.loads(out)
    assert set(body) == {"stores", "violations"}
    assert body["violations"] == []
    assert [s["id"] for s in body["stores"]] == [1, 2, 3]
    first = body["stores"][0]
    assert set(first) == {
        "id",
        "address",
        "state",
        "health",
        "label",
        "leaders",
        "regions",
        "leader_score",
        "region_score",
        "slow_score",
        "used_pct",
        "qps",
        "p99_ms",
    }
    assert (first["state"], first["health"], first["label"]) == ("Up", "serving", "Up")
    assert first["leaders"] == 17 and first["regions"] == 60
    assert first["used_pct"] == pytest.approx(40.0)
    assert first["qps"] == 0.0


async def test_violations_exit_one_with_table(loopback_pd, tk):
    code, out, _err = await run_cli("--pd", loopback_pd.url, "check")
    assert code == 1
    assert "stores" in out and "basic-tikv-5gzwgj" in out
    assert "under_replicated" in out and "hot_write_region" in out
    # The capture's status addresses do not resolve here: unknown, not dead.
    assert "store_down" not in out


async def test_violations_in_json(loopback_pd, tk):
    healthy(loopback_pd, tk)
    loopback_pd.routes["/regions/check/down-peer"] = tk.pd_fixture("regions_check_down_peer.json")
    code, out, _ = await run_cli("--pd", loopback_pd.url, "check", "--json")
    assert code == 1
    violations = json.loads(out)["violations"]
    assert violations == [
        {
            "invariant": "under_replicated",
            "store_id": None,
            "severity": "warning",
            "message": "0 regions miss a replica and 1 have a down peer",
        }
    ]


async def test_unreachable_exits_two_with_one_line(tk):
    code, out, err = await run_cli("--pd", f"127.0.0.1:{tk.free_port()}", "check", "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("operator-tui: error: no PD endpoint answered")


async def test_malformed_pd_exits_two(loopback_pd, tk):
    loopback_pd.stores = b'{"count": 1, "stores": "nope"}'
    code, _, err = await run_cli("--pd", loopback_pd.url, "check")
    assert code == 2
    assert "stores: unexpected response" in err and "Traceback" not in err


async def test_demo_flag_checks_the_embedded_cluster():
    code, out, err = await run_cli("--demo", "check", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert [s["id"] for s in body["stores"]] == [1, 2, 3]
    assert all(s["state"] == "Up" and s["qps"] > 0 and s["p99_ms"] > 0 for s in body["stores"])
    assert body["violations"] == []


async def test_killed_simulated_store_exits_one():
    from operator_tikv.sim import SimCluster, SimConfig

    async with SimCluster(SimConfig(stores=3, regions=50, seed=5)) as sim:
        await sim.kill_store(3)
        code, out, err = await run_cli("--pd", ",".join(sim.pd_urls), "check", "--json")
    assert code == 1, err
    violations = json.loads(out)["violations"]
    assert {"invariant": "store_down", "store_id": 3, "severity": "critical"}.items() <= violations[
        0
    ].items()
