"""PD's /schedulers routes on the simulator: bodies, messages and codes of PD v8.5.7, and evict-leader at work."""

from __future__ import annotations

import json

import httpx
from operator_tikv.sim import SimCluster

API = "/pd/api/v1"
DEFAULTS = [
    "balance-region-scheduler",
    "balance-leader-scheduler",
    "balance-hot-region-scheduler",
    "evict-slow-store-scheduler",
]


async def leaders(http: httpx.AsyncClient, sim: SimCluster, sid: int) -> int:
    body = (await http.get(sim.pd_urls[0] + API + f"/store/{sid}")).json()
    return int(body["status"].get("leader_count", 0))


async def test_list_add_and_remove_by_name(sim: SimCluster, http: httpx.AsyncClient) -> None:
    base = sim.pd_urls[0] + API
    listed = await http.get(base + "/schedulers")
    assert listed.status_code == 200 and listed.json() == DEFAULTS
    assert listed.text.endswith("\n")
    removed = await http.delete(base + "/schedulers/balance-leader-scheduler")
    assert (removed.status_code, removed.json()) == (200, "The scheduler is removed.")
    again = await http.delete(base + "/schedulers/balance-leader-scheduler")
    assert (again.status_code, again.json()) == (
        404,
        "[PD:scheduler:ErrSchedulerNotFound]scheduler not found",
    )
    assert "balance-leader-scheduler" not in (await http.get(base + "/schedulers")).json()
    added = await http.post(base + "/schedulers", json={"name": "balance-leader-scheduler"})
    assert (added.status_code, added.json()) == (200, "The scheduler is created.")
    dup = await http.post(base + "/schedulers", json={"name": "balance-leader-scheduler"})
    assert (dup.status_code, dup.json()) == (
        500,
        "[PD:scheduler:ErrSchedulerExisted]scheduler existed",
    )
    unknown = await http.post(base + "/schedulers", json={"name": "sideways-scheduler"})
    assert (unknown.status_code, unknown.json()) == (400, "unknown scheduler")
    nameless = await http.post(base + "/schedulers", json={"store_id": 1})
    assert (nameless.status_code, nameless.json()) == (400, "missing scheduler name")
    assert (await http.get(base + "/schedulers?status=paused")).json() == []


async def test_evict_leader_errors_as_pd(sim: SimCluster, http: httpx.AsyncClient) -> None:
    base = sim.pd_urls[0] + API
    no_id = await http.post(base + "/schedulers", json={"name": "evict-leader-scheduler"})
    assert (no_id.status_code, no_id.json()) == (400, "missing store id")
    ghost = await http.post(
        base + "/schedulers", json={"name": "evict-leader-scheduler", "store_id": 9}
    )
    assert (ghost.status_code, ghost.json()) == (500, "[PD:core:ErrStoreNotFound]store 9 not found")
    assert "evict-leader-scheduler" not in (await http.get(base + "/schedulers")).json()
    absent = await http.delete(base + "/schedulers/evict-leader-scheduler-1")
    assert absent.status_code == 404 and absent.json() is None


async def test_evict_leader_moves_leaders_off_and_removal_stops_it(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    base = sim.pd_urls[0] + API
    before = await leaders(http, sim, 1)
    assert before > 0
    created = await http.post(
        base + "/schedulers", json={"name": "evict-leader-scheduler", "store_id": 1}
    )
    assert (created.status_code, created.json()) == (200, "The scheduler is created.")
    assert "evict-leader-scheduler" in (await http.get(base + "/schedulers")).json()
    v2 = (await http.get(base + "/config/schedule")).json()["schedulers-v2"]
    assert {"type": "evict-leader", "args": ["1"], "disable": False, "args-payload": ""} in v2
    await sim.advance(1)
    ops = [
        op
        for op in (await http.get(base + "/operators")).json()
        if op.startswith("evict-leader-scheduler ")
    ]
    assert 1 <= len(ops) <= 3  # EvictLeaderBatchSize operators per store and round
    assert all(op.startswith("evict-leader-scheduler {transfer leader: store 1 to") for op in ops)
    await sim.advance(120)
    assert await leaders(http, sim, 1) == 0
    # Store 2 joins the same scheduler; PD answers with the update message.
    joined = await http.post(
        base + "/schedulers", json={"name": "evict-leader-scheduler", "store_id": 2}
    )
    assert (joined.status_code, joined.json()) == (
        200,
        "The scheduler has been applied to the store.",
    )
    one = await http.delete(base + "/schedulers/evict-leader-scheduler-2")
    assert one.status_code == 200 and one.text == "null\n"
    last = await http.delete(base + "/schedulers/evict-leader-scheduler-1")
    assert last.status_code == 200 and last.json() is None
    assert "evict-leader-scheduler" not in (await http.get(base + "/schedulers")).json()
    # With evict-leader gone, balance-leader brings leaders back to store 1.
    await sim.advance(300)
    assert await leaders(http, sim, 1) > 0


async def test_removed_balance_leader_stops_balancing(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    base = sim.pd_urls[0] + API
    assert sim.model is not None
    await http.delete(base + "/schedulers/balance-leader-scheduler")
    await http.post(base + "/schedulers", json={"name": "evict-leader-scheduler", "store_id": 3})
    await sim.advance(120)
    await http.delete(base + "/schedulers/evict-leader-scheduler-3")
    await sim.advance(300)
    assert await leaders(http, sim, 3) == 0
    assert not any(op.desc == "balance-leader" for op in sim.model.operators.values())
    schedule = json.loads((await http.get(base + "/config/schedule")).content)
    disabled = {e["type"]: e["disable"] for e in schedule["schedulers-v2"]}
    assert disabled["balance-leader"] is True and disabled["balance-region"] is False


async def test_evict_slow_store_empties_a_slow_store_with_one_store_left(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    """Store 2 lost and store 3's disk slow: PD's evict-slow-store wants one slow store and a
    place for its leaders (evict_slow_store.go scheduleDiskSlowStore), so store 1 takes them."""
    await sim.kill_store(2)
    await sim.advance(30)
    assert await leaders(http, sim, 3) > 0
    sim.add_fault("slow_disk", 3)
    await sim.advance(150)
    assert await leaders(http, sim, 3) == 0
    assert await leaders(http, sim, 1) > 0
