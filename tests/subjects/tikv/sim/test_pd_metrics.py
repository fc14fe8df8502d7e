"""PD /metrics: families of PD v8.5.7 with values that follow the model, and what a follower serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from operator_tikv.sim import SimCluster, SimConfig
from operator_tikv.sim.pd_families import PD_FAMILIES

FIXTURE = Path(__file__).resolve().parents[5] / "shared" / "fixtures" / "pd" / "metrics.v8.5.7.json"


def series(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of one family's samples."""
    out = {}
    for line in text.splitlines():
        m = re.match(rf"^{name}(\{{[^}}]*\}})? (\S+)$", line)
        if m:
            out[m.group(1) or ""] = float(m.group(2))
    return out


async def metrics(http: httpx.AsyncClient, sim: SimCluster, member: int) -> str:
    return (await http.get(sim.pd_urls[member] + "/metrics")).text


def test_pd_families_match_pd_source() -> None:
    """Names, types and label names of every ``pd_`` family agree with PD v8.5.7's registrations."""
    if not FIXTURE.exists():
        pytest.skip(f"{FIXTURE} absent (third-party fixtures live in ../shared)")
    source = json.loads(FIXTURE.read_text())
    checked = 0
    for name, fam in PD_FAMILIES.items():
        if not name.startswith("pd_") or name not in source:
            continue
        want = source[name]
        assert fam.kind == want["type"], name
        assert fam.help == want["help"], name
        if want["labels"]:
            assert list(fam.labels) == want["labels"], name
        checked += 1
    assert checked >= 50


async def test_leader_and_follower_pages(sim: SimCluster, http: httpx.AsyncClient) -> None:
    await sim.advance(30)
    leader, follower = await metrics(http, sim, 0), await metrics(http, sim, 1)
    assert series(leader, "pd_tso_role") == {'{dc="global",group="0"}': 1.0}
    assert series(leader, "service_member_role") == {'{service="PD"}': 1.0}
    assert not series(follower, "service_member_role")
    for text in (leader, follower):
        assert series(text, "go_goroutines")
        assert series(text, "go_gc_duration_seconds_count")
        assert series(text, "pd_server_etcd_state")['{type="term"}'] == 1.0
        assert 'go_sched_latencies_seconds_bucket{le="+Inf"}' in text
    assert series(leader, "go_goroutines")[""] > series(follower, "go_goroutines")[""]
    status = series(leader, "pd_scheduler_store_status")
    for typ in ("store_read_cpu_usage", "store_regions_write_rate_bytes", "store_write_rate_keys"):
        assert sum(1 for k in status if f'type="{typ}"' in k) == 3, typ
    checker = series(leader, "pd_checker_event_count")
    assert checker['{name="check",type="rule_checker"}'] > 0
    assert checker['{name="check",type="merge_checker"}'] > 0
    allowed = series(leader, "pd_scheduler_status")
    assert allowed['{kind="balance-leader-scheduler",type="allow"}'] == 1.0


async def test_hot_metrics_follow_the_hot_regions(http: httpx.AsyncClient) -> None:
    async with SimCluster(SimConfig(manual_clock=True)) as sim:
        await sim.advance(200)
        text = await metrics(http, sim, 0)
        hot = (await http.get(sim.pd_urls[0] + "/pd/api/v1/hotspot/regions/write")).json()
        as_leader = {sid: s for sid, s in hot["as_leader"].items() if s["regions_count"]}
        assert as_leader
        status = series(text, "pd_hotspot_status")
        for sid, stat in as_leader.items():
            key = f'{{address="127.0.0.1:{20160 + int(sid)}",store="{sid}",type="hot_write_region_as_leader"}}'
            assert status[key] == stat["regions_count"]
        summary = series(text, "pd_scheduler_hot_peers_summary")
        stores = len(hot["as_leader"])
        expected = sum(s["total_flow_bytes"] for s in hot["as_leader"].values()) / stores
        got = summary['{store="tikv",type="exp-byte-rate-write-leader"}']
        assert got == pytest.approx(expected, rel=1e-6)
        length = series(text, "pd_hotcache_status")
        assert any('name="total_length"' in k and 'store="store-' in k for k in length)


async def test_evict_leader_and_operators_are_counted(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    await http.post(
        sim.pd_urls[0] + "/pd/api/v1/schedulers",
        json={"name": "evict-leader-scheduler", "store_id": 1},
    )
    await sim.advance(60)
    text = await metrics(http, sim, 0)
    events = series(text, "pd_scheduler_event_count")
    assert events['{name="new-operator",type="evict-leader-scheduler"}'] > 0
    ops = series(text, "pd_schedule_operators_count")
    assert ops['{event="finish",type="evict-leader-scheduler"}'] > 0
    assert ops['{event="check",type="evict-leader-scheduler"}'] > 0
    assert series(text, "pd_schedule_finish_operators_duration_seconds_count")
    steps = series(text, "pd_schedule_finish_operator_steps_duration_seconds_count")
    assert steps['{type="TransferLeader"}'] > 0
    assert series(text, "pd_hbstream_region_message")
