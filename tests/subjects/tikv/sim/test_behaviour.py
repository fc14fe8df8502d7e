"""How the simulated cluster behaves: store states, elections, repair, faults, operators, determinism.

Every test drives a manual clock, so simulated time moves only through ``advance``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re

import httpx
import pytest
from operator_tikv.sim import SimCluster, SimConfig

API = "/pd/api/v1"


async def stores(http: httpx.AsyncClient, sim: SimCluster) -> dict[int, dict]:
    body = (await http.get(sim.pd_urls[0] + API + "/stores")).json()
    return {e["store"]["id"]: e for e in body["stores"]}


async def state(http: httpx.AsyncClient, sim: SimCluster, sid: int) -> str:
    return (await stores(http, sim))[sid]["store"]["state_name"]


async def pd_metric(http: httpx.AsyncClient, sim: SimCluster, selector: str) -> float:
    """The sum over the leader's series of ``name{label="value",...}`` (PD v8.5.7 has one per store)."""
    assert sim.model is not None and sim.model.pd_leader is not None
    text = (await http.get(sim.pd_urls[sim.model.pd_leader] + "/metrics")).text
    name, _, rest = selector.partition("{")
    wanted = set(re.findall(r'\w+="[^"]*"', rest))
    total = 0.0
    found = False
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        if series == name or series.startswith(name + "{"):
            if wanted <= set(re.findall(r'\w+="[^"]*"', series)):
                total += float(value)
                found = True
    assert found, selector
    return total


async def test_same_seed_and_calls_give_the_same_state(http: httpx.AsyncClient) -> None:
    bodies = []
    for _ in range(2):
        async with SimCluster(
            SimConfig(stores=4, regions=60, seed=7, manual_clock=True, max_store_down_time_s=60)
        ) as sim:
            await sim.advance(30)
            await sim.kill_store(2)
            sim.add_fault("slow_disk", 3)
            await sim.advance(200)
            base = sim.pd_urls[0] + API
            raw = [
                (await http.get(base + "/stores")).text,
                (await http.get(base + "/regions")).text,
                (await http.get(base + "/hotspot/regions/write")).text,
                (await http.get(sim.pd_urls[0] + "/sim/api/v1/stores/1/logs")).text,
                (await http.get(sim.store_status_urls[1] + "/metrics")).text,
            ]
            # Ports are ephemeral; everything else must match byte for byte.
            ports = [u.rsplit(":", 1)[1] for u in [*sim.pd_urls, *sim.store_status_urls.values()]]
            for k, port in enumerate(ports):
                raw = [re.sub(rf"127\.0\.0\.1:{port}(?!\d)", f"<host{k}>", text) for text in raw]
            bodies.append(raw)
    assert bodies[0] == bodies[1]
    async with SimCluster(SimConfig(stores=4, regions=60, seed=8, manual_clock=True)) as other:
        await other.advance(30)
        assert (await http.get(other.pd_urls[0] + API + "/regions")).text != bodies[0][1]


async def test_killed_store_goes_disconnected_then_down_and_is_repaired(
    http: httpx.AsyncClient,
) -> None:
    async with SimCluster(SimConfig(stores=4, manual_clock=True, max_store_down_time_s=60)) as sim:
        await sim.advance(12)
        leaders_before = (await stores(http, sim))[1]["status"]["leader_count"]
        assert leaders_before > 0
        await sim.kill_store(1)
        with pytest.raises(httpx.ConnectError):
            await http.get(sim.store_status_urls[1] + "/status")
        assert await state(http, sim, 1) == "Up"
        await sim.advance(25)
        assert await state(http, sim, 1) == "Disconnected"
        assert await pd_metric(http, sim, 'pd_cluster_status{type="store_disconnected_count"}') == 1
        survivors = await stores(http, sim)
        assert survivors[1]["status"]["leader_count"] == 0
        assert sum(survivors[s]["status"]["leader_count"] for s in (2, 3, 4)) == 100
        logs = (await http.get(sim.pd_urls[0] + "/sim/api/v1/stores/2/logs")).text
        assert '["became leader at term' in logs and '["starting a new election"]' in logs
        await sim.advance(40)
        assert await state(http, sim, 1) == "Down"
        assert await pd_metric(http, sim, 'pd_cluster_status{type="store_down_count"}') == 1
        await sim.advance(240)
        after = await stores(http, sim)
        assert after[1]["status"]["region_count"] == 0
        assert sum(after[s]["status"]["region_count"] for s in (2, 3, 4)) == 300
        miss = json.loads(
            (await http.get(sim.pd_urls[0] + API + "/regions/check/miss-peer")).content
        )
        assert miss["count"] == 0
        assert (
            "sent snapshot"
            in (await http.get(sim.pd_urls[0] + "/sim/api/v1/stores/2/logs?limit=5000")).text
        )
        await sim.start_store(1)
        await sim.advance(15)
        assert (await http.get(sim.store_status_urls[1] + "/status")).status_code == 200
        assert await state(http, sim, 1) == "Up"
        await sim.advance(600)
        assert (await stores(http, sim))[1]["status"]["region_count"] > 0


async def test_replica_schedule_limit_throttles_repair(http: httpx.AsyncClient) -> None:
    async with SimCluster(SimConfig(stores=4, manual_clock=True, max_store_down_time_s=60)) as sim:
        base = sim.pd_urls[0] + API
        resp = await http.post(base + "/config/schedule", json={"replica-schedule-limit": 0})
        assert resp.status_code == 200 and resp.json() == "The config is updated."
        await sim.advance(5)
        await sim.kill_store(4)
        await sim.advance(200)
        assert (await stores(http, sim))[4]["status"]["region_count"] == 75
        assert (await http.get(base + "/config/schedule")).json()["replica-schedule-limit"] == 0
        await http.post(base + "/config", json={"schedule.replica-schedule-limit": 64})
        await sim.advance(120)
        assert (await stores(http, sim))[4]["status"]["region_count"] < 75


async def test_max_store_down_time_is_settable(http: httpx.AsyncClient) -> None:
    async with SimCluster(SimConfig(manual_clock=True)) as sim:
        base = sim.pd_urls[0] + API
        assert (await http.get(base + "/config/schedule")).json()["max-store-down-time"] == "30m0s"
        await http.post(base + "/config/schedule", json={"max-store-down-time": "90s"})
        assert (await http.get(base + "/config/schedule")).json()["max-store-down-time"] == "1m30s"
        await sim.kill_store(2)
        await sim.advance(95)
        assert await state(http, sim, 2) == "Down"


async def test_transfer_leader_and_split_operators_take_effect(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    base = sim.pd_urls[1] + API
    regions = json.loads((await http.get(base + "/regions")).content)["regions"]
    region = regions[10]
    target = next(
        p["store_id"] for p in region["peers"] if p["store_id"] != region["leader"]["store_id"]
    )
    body = {"name": "transfer-leader", "region_id": region["id"], "to_store_id": target}
    assert (await http.post(base + "/operators", json=body)).status_code == 200
    again = await http.post(base + "/operators", json=body)
    assert again.status_code == 500
    assert (
        again.json() == "[PD:operator:ErrAddOperator]failed to add operator, maybe already have one"
    )
    await sim.advance(3)
    moved = json.loads((await http.get(base + f"/region/id/{region['id']}")).content)
    assert moved["leader"]["store_id"] == target
    done = (await http.get(base + f"/operators/{region['id']}")).json()
    assert done.startswith("status: SUCCESS, operator: admin-transfer-leader")
    split = {"name": "split-region", "region_id": region["id"], "policy": "approximate"}
    assert (await http.post(base + "/operators", json=split)).status_code == 200
    await sim.advance(3)
    assert (await http.get(base + "/regions/count")).json()["count"] == 101
    after = json.loads((await http.get(base + f"/region/id/{region['id']}")).content)
    assert after["epoch"]["version"] == region["epoch"]["version"] + 1
    assert after["end_key"] == region["end_key"] and after["start_key"] != region["start_key"]
    logs = (await http.get(sim.pd_urls[0] + f"/sim/api/v1/stores/{target}/logs")).text
    assert '["split region"]' in logs and '["notify pd with split"]' in logs


async def test_leader_schedule_limit_zero_stops_leader_balance(http: httpx.AsyncClient) -> None:
    async with SimCluster(SimConfig(stores=4, manual_clock=True)) as sim:
        base = sim.pd_urls[0] + API
        await http.post(base + "/config/schedule", json={"leader-schedule-limit": 0})
        await sim.kill_store(4)
        await sim.advance(20)
        await sim.start_store(4)
        await sim.advance(120)
        assert (await stores(http, sim))[4]["status"]["leader_count"] == 0
        await http.post(base + "/config/schedule", json={"leader-schedule-limit": 4})
        await sim.advance(120)
        assert (await stores(http, sim))[4]["status"]["leader_count"] > 10


async def test_fault_routes_add_list_clear(sim: SimCluster, http: httpx.AsyncClient) -> None:
    ctl = sim.pd_urls[2] + "/sim/api/v1"
    created = await http.post(
        ctl + "/faults", json={"kind": "slow_disk", "store_id": 2, "latency_ms": 2000}
    )
    assert created.status_code == 200
    fid = created.json()["id"]
    listed = (await http.get(ctl + "/faults")).json()
    assert listed == [
        {"id": fid, "kind": "slow_disk", "store_id": 2, "params": {"latency_ms": 2000}}
    ]
    bad = await http.post(ctl + "/faults", json={"kind": "meteor", "store_id": 2})
    assert bad.status_code == 400 and "unknown fault kind" in bad.json()["error"]
    assert (await http.post(ctl + "/faults", json={"kind": "slow_disk"})).status_code == 400
    assert (await http.post(ctl + "/faults", content=b"{not json")).status_code == 400
    assert (
        await http.post(ctl + "/faults", json={"kind": "slow_disk", "store_id": 99})
    ).status_code == 404
    assert (await http.delete(ctl + f"/faults/{fid}")).json() == {"id": fid, "cleared": True}
    assert (await http.get(ctl + "/faults")).json() == []
    assert (await http.delete(ctl + f"/faults/{fid}")).status_code == 404


async def test_slow_disk_raises_write_latency_and_slow_score(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    sim.add_fault("slow_disk", 2, latency_ms=1500)
    await sim.advance(60)
    entry = (await stores(http, sim))[2]
    assert entry["status"]["slow_score"] >= 80
    assert await pd_metric(http, sim, 'pd_cluster_status{type="store_slow_count"}') == 1
    text = (await http.get(sim.store_status_urls[2] + "/metrics")).text
    lines = [
        x
        for x in text.splitlines()
        if x.startswith('tikv_storage_engine_async_request_duration_seconds_bucket{type="write"')
    ]
    below_1s = next(int(x.rsplit(" ", 1)[1]) for x in lines if 'le="0.65536"' in x)
    total = next(int(x.rsplit(" ", 1)[1]) for x in lines if 'le="+Inf"' in x)
    assert below_1s < 0.5 * total
    assert "tikv_scheduler_too_busy_total" in text
    logs = (await http.get(sim.pd_urls[0] + "/sim/api/v1/stores/2/logs")).text
    assert "async write too slow" in logs and "[takes=" in logs
    await sim.advance(120)
    assert (await stores(http, sim))[2]["status"]["leader_count"] == 0  # evict-slow-store


async def test_disk_pressure_drives_available_toward_zero(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    fid = sim.add_fault("disk_pressure", 3)
    await sim.advance(90)
    status = (await stores(http, sim))[3]["status"]
    text = (await http.get(sim.store_status_urls[3] + "/metrics")).text
    values = {
        x.split('"')[1]: float(x.rsplit(" ", 1)[1])
        for x in text.splitlines()
        if x.startswith("tikv_store_size_bytes{")
    }
    assert values["available"] / values["capacity"] < 0.2
    assert status["available"].endswith("GiB")
    assert await pd_metric(http, sim, 'pd_cluster_status{type="store_low_space_count"}') == 1
    logs = (await http.get(sim.pd_urls[0] + "/sim/api/v1/stores/3/logs")).text
    assert "disk usage Normal->AlmostFull" in logs
    sim.clear_fault(fid)
    await sim.advance(15)
    assert await pd_metric(http, sim, 'pd_cluster_status{type="store_low_space_count"}') == 0


async def test_hot_region_fault_concentrates_load(sim: SimCluster, http: httpx.AsyncClient) -> None:
    regions = json.loads((await http.get(sim.pd_urls[0] + API + "/regions")).content)["regions"]
    rid = regions[42]["id"]
    sim.add_fault("hot_region", region_id=rid, share=0.6)
    await sim.advance(10)
    hot = (await http.get(sim.pd_urls[0] + API + "/hotspot/regions/write")).json()
    top = max(
        (s for e in hot["as_leader"].values() for s in e["statistics"]),
        key=lambda s: s["flow_bytes"],
    )
    assert top["region_id"] == rid
    total = sum(s["flow_bytes"] for e in hot["as_leader"].values() for s in e["statistics"])
    assert top["flow_bytes"] > 0.5 * total


async def test_pause_holds_requests_and_partition_keeps_status_port(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    fid = sim.add_fault("pause_store", 1)
    await sim.advance(25)
    with pytest.raises(httpx.TimeoutException):
        await http.get(sim.store_status_urls[1] + "/status", timeout=0.5)
    assert await state(http, sim, 1) == "Disconnected"
    sim.clear_fault(fid)
    await sim.advance(11)
    assert (await http.get(sim.store_status_urls[1] + "/status")).status_code == 200
    assert await state(http, sim, 1) == "Up"
    sim.add_fault("partition_store", 2)
    await sim.advance(25)
    assert (await http.get(sim.store_status_urls[2] + "/metrics")).status_code == 200
    assert await state(http, sim, 2) == "Disconnected"
    logs = (await http.get(sim.pd_urls[0] + "/sim/api/v1/stores/2/logs")).text
    assert '["PD failed to respond"]' in logs
    assert '["became pre-candidate at term' in logs  # its followers campaign in vain
    assert (await stores(http, sim))[2]["status"]["leader_count"] == 0


async def test_killing_the_pd_leader_elects_another(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    assert sim.model is not None
    old = sim.model.pd_leader
    assert old is not None
    fid = sim.kill_pd_leader()
    await asyncio.sleep(0)
    await sim.advance(0)
    with pytest.raises(httpx.ConnectError):
        await http.get(sim.pd_urls[old] + API + "/health")
    other = sim.pd_urls[(old + 1) % 3]
    during = await http.get(other + API + "/stores")
    assert during.status_code == 503
    assert during.text == "[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader\n"
    await sim.advance(4)
    members = (await http.get(other + API + "/members")).json()
    assert members["leader"]["name"] != f"pd-{old + 1}"
    assert (await http.get(other + API + "/stores")).status_code == 200
    health = {h["name"]: h["health"] for h in (await http.get(other + API + "/health")).json()}
    assert health[f"pd-{old + 1}"] is False
    new_leader = sim.model.pd_leader
    assert new_leader is not None and new_leader != old
    await sim.advance(6)
    metrics = (await http.get(sim.pd_urls[new_leader] + "/metrics")).text
    assert (
        'pd_tso_events{dc="global",group="0",type="save"}' in metrics
    )  # PD_leader_change counts savers
    start_before = sim.model.members[old].start_s
    sim.clear_fault(fid)
    await sim.advance(1)
    assert (await http.get(sim.pd_urls[old] + API + "/health")).status_code == 200
    restarted = (await http.get(sim.pd_urls[old] + "/metrics")).text
    line = next(x for x in restarted.splitlines() if x.startswith("process_start_time_seconds "))
    assert float(line.split()[1]) > start_before  # PD_node_restart sees the restart
    assert "etcd_server_is_leader 0" in restarted


async def test_offline_store_drains_to_tombstone(http: httpx.AsyncClient) -> None:
    async with SimCluster(SimConfig(stores=4, manual_clock=True)) as sim:
        base = sim.pd_urls[0] + API
        assert (
            await http.post(base + "/store/4/state?state=Offline")
        ).json() == "The store's state is updated."
        await sim.advance(300)
        assert 4 not in await stores(http, sim)
        tomb = (await http.get(base + "/stores?state=2")).json()["stores"][0]
        assert tomb["store"]["state_name"] == "Tombstone" and tomb["store"]["node_state"] == 3
        gone = await http.delete(base + "/store/4")
        assert (
            gone.status_code == 410
            and gone.json() == "[PD:core:ErrStoreRemoved]store 4 has been removed"
        )


async def test_critical_error_fault_counts(sim: SimCluster, http: httpx.AsyncClient) -> None:
    assert (
        "tikv_critical_error_total"
        not in (await http.get(sim.store_status_urls[1] + "/metrics")).text
    )
    sim.add_fault("critical_error", 1, type="sst_corruption", rate_per_s=2)
    await sim.advance(5)
    text = (await http.get(sim.store_status_urls[1] + "/metrics")).text
    assert 'tikv_critical_error_total{type="sst_corruption"} 10' in text


async def test_advance_route_needs_manual_clock(sim: SimCluster, http: httpx.AsyncClient) -> None:
    ctl = sim.pd_urls[0] + "/sim/api/v1"
    before = (await http.get(ctl + "/status")).json()["now_unix_ns"]
    assert (await http.post(ctl + "/advance", json={"seconds": 30})).status_code == 200
    assert (await http.get(ctl + "/status")).json()["now_unix_ns"] == before + 30 * 10**9
    assert (await http.post(ctl + "/advance", json={"seconds": -1})).status_code == 400


async def test_a_growing_hot_region_splits(http: httpx.AsyncClient) -> None:
    async with SimCluster(SimConfig(manual_clock=True, workload="uniform")) as sim:
        base = sim.pd_urls[0] + API
        rid = json.loads((await http.get(base + "/regions")).content)["regions"][50]["id"]
        sim.add_fault("hot_region", region_id=rid, share=0.9)
        # v8.5 splits past 384 MiB (region-max-size); the hot region gets there in ~1400 s.
        await sim.advance(1800)
        assert (await http.get(base + "/regions/count")).json()["count"] > 100
        logs = "".join(
            [
                (await http.get(sim.pd_urls[0] + f"/sim/api/v1/stores/{s}/logs")).text
                for s in (1, 2, 3)
            ]
        )
        assert '["on split"]' in logs and "[source=split_checker]" in logs
        regions = json.loads((await http.get(base + "/regions")).content)["regions"]
        assert all(a["end_key"] == b["start_key"] for a, b in itertools.pairwise(regions))
        assert max(r["approximate_size"] for r in regions) <= 384


async def test_a_pending_operator_can_be_cancelled(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    base = sim.pd_urls[0] + API
    region = json.loads((await http.get(base + "/regions")).content)["regions"][20]
    target = next(
        p["store_id"] for p in region["peers"] if p["store_id"] != region["leader"]["store_id"]
    )
    body = {"name": "transfer-leader", "region_id": region["id"], "to_store_id": target}
    assert (await http.post(base + "/operators", json=body)).status_code == 200
    cancelled = await http.delete(base + f"/operators/{region['id']}")
    assert cancelled.json() == "The pending operator is canceled."
    assert (
        (await http.get(base + f"/operators/{region['id']}"))
        .json()
        .startswith("status: CANCEL, operator:")
    )
    await sim.advance(3)
    after = json.loads((await http.get(base + f"/region/id/{region['id']}")).content)
    assert after["leader"]["store_id"] == region["leader"]["store_id"]
    assert (await http.delete(base + f"/operators/{region['id']}")).status_code == 500
