"""A store's page with its derived families: it parses, matches TiKV's registrations, moves with faults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from operator_tikv.sim import SimCluster, SimConfig
from operator_tikv.sim.derived import family
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[4]
METRIC_INDEX = ROOT.parent / "shared" / "fixtures" / "tikv" / "metric_index.json"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


async def page(http: httpx.AsyncClient, sim: SimCluster, sid: int) -> str:
    return (await http.get(sim.store_status_urls[sid] + "/metrics")).text


def samples(text: str, name: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m and m.group(1) == name:
            out[m.group(2) or ""] = float(m.group(3))
    return out


def declared(text: str) -> dict[str, str]:
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


def mean(text: str, name: str, labels: str = "") -> tuple[float, float]:
    return samples(text, name + "_sum")[labels], samples(text, name + "_count")[labels]


async def test_page_parses_and_carries_the_dashboard_families(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    await sim.advance(20)
    text = await page(http, sim, 1)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in (
        "tikv_raftstore_io_duration_seconds",
        "tikv_engine_flow_bytes",
        "tikv_engine_write_micro_seconds",
        "tikv_raftstore_request_wait_time_duration_secs",
        "tikv_coprocessor_request_wait_seconds",
        "tikv_engine_cache_efficiency",
        "tikv_storage_command",
        "tikv_engine_block_cache_size_bytes",
    ):
        assert name in families, name
    threads = {s.labels["name"] for s in families["tikv_thread_cpu_seconds_total"].samples}
    assert {"split_check", "gc_worker", "region_worker", "snap_generator"} <= threads
    async_types = {
        s.labels["type"]
        for s in families["tikv_storage_engine_async_request_duration_seconds"].samples
    }
    assert {"snapshot_local_read", "snapshot_read_index_confirm"} <= async_types
    grpc = {s.labels["type"] for s in families["tikv_grpc_msg_duration_seconds"].samples}
    assert "coprocessor" in grpc


def thread_cpu(text: str) -> dict[str, float]:
    """CPU seconds by thread name (several threads share a name, as under ``/proc``)."""
    out: dict[str, float] = {}
    for family_ in text_string_to_metric_families(text):
        if family_.name == "tikv_thread_cpu_seconds_total":
            for s in family_.samples:
                out[s.labels["name"]] = out.get(s.labels["name"], 0.0) + s.value
    return out


@pytest.mark.parametrize("unified", [True, False])
async def test_read_pools_follow_the_unified_pool_setting(
    http: httpx.AsyncClient, unified: bool
) -> None:
    config = SimConfig(manual_clock=True, seed=5, unified_read_pool=unified)
    async with SimCluster(config) as sim:
        await sim.advance(30)
        text = await page(http, sim, 1)
    cpu = thread_cpu(text)
    separate = {"store_read_norm", "store_read_high", "store_read_low_", "cop_normal_0"}
    pool_sizes = samples(text, "tikv_unified_read_pool_thread_count")
    if unified:
        assert cpu["unified_read_po"] > 0
        assert not separate & cpu.keys()
        assert pool_sizes
    else:
        assert "unified_read_po" not in cpu
        assert separate <= cpu.keys()
        assert cpu["store_read_norm"] > cpu["store_read_high"] > 0
        assert cpu["cop_normal_0"] > cpu["cop_low_0"] > 0
        assert not pool_sizes
        handled = samples(text, "tikv_futurepool_handled_task_total")
        assert handled['{name="cop-normal"}'] > handled['{name="cop-low"}'] > 0


def test_index_fixture_matches_the_packaged_copy() -> None:
    if not METRIC_INDEX.is_file():
        pytest.skip(f"{METRIC_INDEX} absent (third-party fixtures live in ../shared)")
    packaged = ROOT / "subjects/tikv/operator_tikv/sim/data/metric_index.json"
    assert json.loads(METRIC_INDEX.read_text()) == json.loads(packaged.read_text())


async def test_every_family_matches_tikvs_registration(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    if not METRIC_INDEX.is_file():
        pytest.skip(f"{METRIC_INDEX} absent (third-party fixtures live in ../shared)")
    index = json.loads(METRIC_INDEX.read_text())
    await sim.advance(5)
    text = await page(http, sim, 2)
    helps = dict(re.findall(r"^# HELP (\S+) (.*)$", text, re.M))
    checked = 0
    for name, kind in declared(text).items():
        spec = index.get(name)
        if spec is None:
            continue
        assert kind == spec["type"], name
        assert helps[name] == spec["help"], name
        suffix = "_bucket" if kind == "histogram" else ""
        for labels in samples(text, name + suffix):
            found = set(re.findall(r'(\w+)="', labels)) - {"le"}
            assert found == set(spec["labels"]), (name, found)
        checked += 1
    assert checked > 150


async def test_integer_counters_print_integers(sim: SimCluster, http: httpx.AsyncClient) -> None:
    await sim.advance(7.5)
    text = await page(http, sim, 1)
    for name, kind in declared(text).items():
        if kind == "histogram" or not family(name).integer:
            continue
        for labels, _ in samples(text, name).items():
            raw = next(
                line.rsplit(" ", 1)[1]
                for line in text.splitlines()
                if line.startswith(name + labels + " ")
            )
            assert re.fullmatch(r"-?\d+", raw), (name, labels, raw)


async def test_counters_and_buckets_never_go_back(sim: SimCluster, http: httpx.AsyncClient) -> None:
    before = await page(http, sim, 1)
    await sim.advance(10)
    sim.add_fault("slow_disk", 1, latency_ms=800.0)
    await sim.advance(10)
    after = await page(http, sim, 1)
    for name, kind in declared(after).items():
        if kind == "gauge":
            continue
        names = [name + "_bucket", name + "_count"] if kind == "histogram" else [name]
        for series_name in names:
            old = samples(before, series_name)
            for labels, value in samples(after, series_name).items():
                assert value >= old.get(labels, 0.0), (series_name, labels)


async def test_slow_disk_shows_on_that_store_only(http: httpx.AsyncClient) -> None:
    async with SimCluster(SimConfig(manual_clock=True, seed=3)) as sim:
        await sim.advance(10)
        before = {sid: await page(http, sim, sid) for sid in (1, 2)}
        sim.add_fault("slow_disk", 1, latency_ms=500.0)
        await sim.advance(20)
        after = {sid: await page(http, sim, sid) for sid in (1, 2)}
    name = "tikv_raftstore_store_write_loop_duration_seconds"
    delta = {}
    for sid in (1, 2):
        s0, c0 = mean(before[sid], name)
        s1, c1 = mean(after[sid], name)
        delta[sid] = (s1 - s0) / (c1 - c0)
    assert delta[1] > 0.1
    assert delta[2] < 0.01
    p99 = '{db="raft",type="write_percentile99"}'
    raft_write = {
        sid: samples(after[sid], "tikv_engine_write_micro_seconds")[p99] for sid in (1, 2)
    }
    assert raft_write[1] > 100 * raft_write[2]
    kv = '{db="kv",type="write_percentile99"}'
    assert samples(after[1], "tikv_engine_write_micro_seconds")[kv] < raft_write[1] / 10


async def test_elections_show_as_votes_and_not_leader_errors(http: httpx.AsyncClient) -> None:
    async with SimCluster(SimConfig(manual_clock=True, seed=5)) as sim:
        await sim.advance(5)
        await sim.kill_store(3)
        await sim.advance(30)
        texts = {sid: await page(http, sim, sid) for sid in (1, 2)}
    votes = sum(
        samples(t, "tikv_raftstore_raft_sent_message_total").get(
            '{status="accept",type="vote"}', 0.0
        )
        for t in texts.values()
    )
    assert votes > 0
    not_leader = sum(
        samples(t, "tikv_storage_engine_async_request_total").get(
            '{status="err_not_leader",type="write"}', 0.0
        )
        for t in texts.values()
    )
    assert not_leader > 0


async def test_a_page_is_rendered_once_per_instant(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    first = await page(http, sim, 1)
    assert await page(http, sim, 1) == first
    name = "tikv_status_server_request_duration_seconds_count"
    key = '{method="GET",path="/metrics"}'
    sim.add_fault("slow_disk", 1)
    changed = await page(http, sim, 1)
    assert samples(changed, name)[key] > samples(first, name)[key]
