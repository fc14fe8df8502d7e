"""POST /operators and GET /stats/region answer as PD v8.5.7 does (texts and codes from its handlers)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
from operator_tikv.sim import SimCluster

API = "/pd/api/v1"


async def region(http: httpx.AsyncClient, sim: SimCluster, n: int = 10) -> dict[str, Any]:
    body = json.loads((await http.get(sim.pd_urls[0] + API + "/regions")).content)
    return body["regions"][n]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "missing operator name"),
        ({"name": "teleport", "region_id": 1}, 400, "unknown operator"),
        ({"name": "transfer-peer"}, 400, "missing region id"),
        ({"name": "transfer-peer", "region_id": 5}, 400, "invalid store id to transfer peer from"),
        (
            {"name": "transfer-peer", "region_id": 5, "from_store_id": 1},
            400,
            "invalid store id to transfer peer to",
        ),
        ({"name": "add-peer", "region_id": 5}, 400, "invalid store id to transfer peer to"),
        (
            {"name": "remove-peer", "region_id": 5, "store_id": "1"},
            400,
            "invalid store id to transfer peer to",
        ),
        (
            {"name": "transfer-leader", "region_id": 5},
            400,
            "missing store id to transfer leader to",
        ),
        ({"name": "split-region", "region_id": 5}, 400, "missing split policy"),
        (
            {"name": "transfer-peer", "region_id": 999999, "from_store_id": 1, "to_store_id": 2},
            500,
            "[PD:region:ErrRegionNotFound]region 999999 not found",
        ),
    ],
)
async def test_request_errors(
    sim: SimCluster, http: httpx.AsyncClient, body: dict[str, Any], status: int, message: str
) -> None:
    resp = await http.post(sim.pd_urls[0] + API + "/operators", json=body)
    assert (resp.status_code, resp.json()) == (status, message)
    assert "None" not in resp.text


async def test_transfer_peer_to_a_store_holding_a_peer_is_refused(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    """Real PD: the builder's "cannot add peer ...: already have peer ..." (500), nothing scheduled."""
    r = await region(http, sim)
    src, dst = r["peers"][0], r["peers"][1]
    resp = await http.post(
        sim.pd_urls[0] + API + "/operators",
        json={
            "name": "transfer-peer",
            "region_id": r["id"],
            "from_store_id": src["store_id"],
            "to_store_id": dst["store_id"],
        },
    )
    assert resp.status_code == 500
    assert resp.json() == (
        f"cannot add peer store_id:{dst['store_id']} : already have peer "
        f"id:{dst['id']} store_id:{dst['store_id']} "
    )
    assert (await http.get(sim.pd_urls[0] + API + "/operators")).json() == []
    await sim.advance(30)
    assert len((await region(http, sim))["peers"]) == 3


async def test_store_state_is_checked(sim: SimCluster, http: httpx.AsyncClient) -> None:
    r = await region(http, sim)
    ops = sim.pd_urls[0] + API + "/operators"
    src = r["peers"][0]["store_id"]
    missing = await http.post(
        ops,
        json={
            "name": "transfer-peer",
            "region_id": r["id"],
            "from_store_id": src,
            "to_store_id": 9,
        },
    )
    assert (missing.status_code, missing.json()) == (
        500,
        "[PD:core:ErrStoreNotFound]store 9 not found",
    )
    has = await http.post(ops, json={"name": "add-peer", "region_id": r["id"], "store_id": src})
    assert (has.status_code, has.json()) == (500, f"region already has peer in store {src}")
    none = await http.post(ops, json={"name": "remove-peer", "region_id": r["id"], "store_id": 9})
    assert (none.status_code, none.json()) == (500, "region has no peer in store 9")
    leader = r["leader"]["store_id"]
    same = await http.post(
        ops, json={"name": "transfer-leader", "region_id": r["id"], "to_store_id": leader}
    )
    assert (same.status_code, same.json()) == (500, "no operator step is built")


async def test_unhealthy_target_store_is_refused(sim: SimCluster, http: httpx.AsyncClient) -> None:
    """checkStoreState: a store silent for more than 10 minutes is unhealthy (ErrStoreUnhealthy)."""
    async with SimCluster(sim.config.__class__(stores=4, manual_clock=True)) as big:
        await big.advance(12)
        base = big.pd_urls[0] + API
        regions = json.loads((await http.get(base + "/regions")).content)["regions"]
        r = next(x for x in regions if 4 not in {p["store_id"] for p in x["peers"]})
        await big.kill_store(4)
        await big.advance(660)
        resp = await http.post(
            base + "/operators",
            json={"name": "add-peer", "region_id": r["id"], "store_id": 4},
        )
        assert (resp.status_code, resp.json()) == (
            500,
            "[PD:core:ErrStoreUnhealthy]store 4 is unhealthy",
        )


async def test_a_valid_transfer_peer_is_created(sim: SimCluster, http: httpx.AsyncClient) -> None:
    async with SimCluster(sim.config.__class__(stores=4, manual_clock=True)) as big:
        await big.advance(12)
        base = big.pd_urls[0] + API
        regions = json.loads((await http.get(base + "/regions")).content)["regions"]
        r = next(x for x in regions if 4 not in {p["store_id"] for p in x["peers"]})
        resp = await http.post(
            base + "/operators",
            json={
                "name": "transfer-peer",
                "region_id": r["id"],
                "from_store_id": r["peers"][0]["store_id"],
                "to_store_id": 4,
            },
        )
        assert (resp.status_code, resp.json()) == (200, "The operator is created.")


async def test_stats_region_shape(sim: SimCluster, http: httpx.AsyncClient) -> None:
    base = sim.pd_urls[0] + API
    resp = await http.get(base + "/stats/region?start_key=&end_key=")
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == [
        "count",
        "empty_count",
        "storage_size",
        "user_storage_size",
        "storage_keys",
        "store_leader_count",
        "store_peer_count",
        "store_leader_size",
        "store_leader_keys",
        "store_peer_size",
        "store_peer_keys",
    ]
    regions = json.loads((await http.get(base + "/regions")).content)["regions"]
    assert body["count"] == len(regions) == 100
    assert sum(body["store_leader_count"].values()) == 100
    assert sum(body["store_peer_count"].values()) == 300
    assert body["storage_size"] == sum(r["approximate_size"] for r in regions)
    assert list(body["store_peer_count"]) == ["1", "2", "3"]
    count_only = (await http.get(base + "/stats/region?start_key=&end_key=&count")).json()
    assert count_only["count"] == 100 and count_only["store_leader_count"] is None
    # A range from the 11th region's start key to the 21st's: ten regions.
    start, end = regions[10]["start_key"], regions[20]["start_key"]
    query = (
        f"start_key={quote_from_bytes(bytes.fromhex(start))}"
        f"&end_key={quote_from_bytes(bytes.fromhex(end))}"
    )
    ranged = await http.get(base + "/stats/region?" + query)
    assert ranged.json()["count"] == 10
