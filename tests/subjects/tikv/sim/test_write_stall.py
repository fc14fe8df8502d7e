"""The ``write_stall`` fault: a RocksDB flow-control signal on one store, unlike a slow disk."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from operator_tikv.sim import SimCluster, SimConfig

API = "/pd/api/v1"
# A real rocksdb.info line (TiKV 5.1, asktug/tidb.net "一次 TiDB 5.1 Write Stall 问题处理").
REAL_ROCKS_LINE = (
    "[2022/04/30 07:16:11.145 +08:00][2][WARN] [db/column_family.cc:805] [default] "
    "Stalling writes because we have 23 level-0 files rate 5368709120"
)
ROCKS_LINE = re.compile(
    r"^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d\]\[\d+\]\[WARN\] "
    r"\[db/column_family\.cc:\d+\] \[\w+\] Stalling writes because "
    r"(we have \d+ level-0 files|of estimated pending compaction bytes \d+) rate \d+$"
)


def samples(text: str, name: str) -> dict[str, float]:
    """``{labels text: value}`` of one family's series in an exposition."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, value = line.rsplit(" ", 1)
            out[key[len(name) :]] = float(value)
    return out


def share_below(text: str, name: str, labels: str, le: str) -> float:
    buckets = samples(text, name + "_bucket")
    below = buckets[f'{{{labels}le="{le}"}}']
    total = buckets[f'{{{labels}le="+Inf"}}']
    return below / total


def thread_cpu(text: str, prefix: str) -> float:
    return sum(
        v
        for k, v in samples(text, "tikv_thread_cpu_seconds_total").items()
        if f'name="{prefix}' in k
    )


async def metrics(http: httpx.AsyncClient, sim: SimCluster, sid: int) -> str:
    return (await http.get(sim.store_status_urls[sid] + "/metrics")).text


async def logs(http: httpx.AsyncClient, sim: SimCluster, sid: int, file: str = "tikv") -> str:
    url = sim.pd_urls[0] + f"/sim/api/v1/stores/{sid}/logs"
    return (await http.get(url, params={"file": file})).text


def test_the_line_pattern_accepts_the_real_rocksdb_line() -> None:
    assert ROCKS_LINE.match(REAL_ROCKS_LINE)


async def test_write_stall_raises_flow_control_signals_not_the_slow_score(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    before = {sid: await metrics(http, sim, sid) for sid in (1, 2)}
    fid = sim.add_fault("write_stall", 2)
    await sim.advance(60)
    text = await metrics(http, sim, 2)
    calm = await metrics(http, sim, 1)

    p99 = samples(text, "tikv_engine_write_stall")['{db="kv",type="write_stall_percentile99"}']
    assert p99 >= 1e6
    assert (
        samples(calm, "tikv_engine_write_stall")['{db="kv",type="write_stall_percentile99"}'] == 0
    )
    assert sum(samples(text, "tikv_scheduler_too_busy_total").values()) > 0
    assert sum(samples(text, "tikv_channel_full_total").values()) > 0
    # A static metric: every command's series exists from start-up, at zero on a calm store.
    assert sum(samples(calm, "tikv_scheduler_too_busy_total").values()) == 0
    reason = samples(text, "tikv_engine_write_stall_reason")
    assert reason['{db="kv",type="level0_file_limit_slowdown"}'] > 0
    assert reason['{db="kv",type="pending_compaction_bytes_slowdown"}'] == 0
    l0 = samples(text, "tikv_engine_num_files_at_level")['{cf="default",db="kv",level="0"}']
    assert l0 > 20
    assert samples(text, "tikv_engine_stall_micro_seconds")['{db="kv"}'] > 0

    # Writes wait in RocksDB: async write, gRPC prewrite/commit and apply all slow down ...
    write = 'type="write",'
    assert (
        share_below(text, "tikv_storage_engine_async_request_duration_seconds", write, "0.65536")
        < 0.5
    )
    assert (
        share_below(calm, "tikv_storage_engine_async_request_duration_seconds", write, "0.65536")
        > 0.9
    )
    for cmd in ("kv_prewrite", "kv_commit"):
        labels = f'priority="unknown",type="{cmd}",'
        assert share_below(text, "tikv_grpc_msg_duration_seconds", labels, "0.8192") < 0.5
    assert share_below(text, "tikv_raftstore_apply_log_duration_seconds", "", "0.65536") < 0.5
    # ... but the raft log is on another engine: appends stay fast and the slow score stays 1.
    assert share_below(text, "tikv_raftstore_append_log_duration_seconds", "", "0.01024") > 0.9
    assert samples(text, "tikv_raftstore_slow_score")['{type="raft"}'] == 1
    body = (await http.get(sim.pd_urls[0] + API + "/store/2")).json()
    assert body["status"]["slow_score"] == 1

    # RocksDB's background threads burn CPU trying to pay the compaction debt.
    grew = thread_cpu(text, "rocksdb") - thread_cpu(before[2], "rocksdb")
    calm_grew = thread_cpu(calm, "rocksdb") - thread_cpu(before[1], "rocksdb")
    assert grew > 5 * calm_grew > 0

    rocks = (await logs(http, sim, 2, "rocksdb")).splitlines()
    assert rocks and all(ROCKS_LINE.match(x) for x in rocks)
    assert "level-0 files" in rocks[-1]
    rates = [int(x.rsplit(" ", 1)[1]) for x in rocks]
    assert rates == sorted(rates, reverse=True) and rates[0] == 5368709120
    tikv_log = await logs(http, sim, 2)
    assert "Stalling" not in tikv_log
    assert re.search(
        r'\["\[region \d+\] \d+ handle ready 1 committed entries"\] \[takes=\d+\]', tikv_log
    )
    assert await logs(http, sim, 1, "rocksdb") == ""

    ctl = sim.pd_urls[0] + "/sim/api/v1"
    assert (await http.delete(ctl + f"/faults/{fid}")).json() == {"id": fid, "cleared": True}
    busy = sum(samples(await metrics(http, sim, 2), "tikv_scheduler_too_busy_total").values())
    await sim.advance(20)
    after = await metrics(http, sim, 2)
    assert sum(samples(after, "tikv_scheduler_too_busy_total").values()) == busy
    assert (
        samples(after, "tikv_engine_write_stall")['{db="kv",type="write_stall_percentile99"}'] == 0
    )
    assert samples(after, "tikv_engine_num_files_at_level")['{cf="default",db="kv",level="0"}'] < 20


async def test_write_stall_route_params_and_errors(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    ctl = sim.pd_urls[1] + "/sim/api/v1"
    created = await http.post(
        ctl + "/faults",
        json={"kind": "write_stall", "store_id": 3, "cause": "pending_compaction", "stall_ms": 500},
    )
    assert created.status_code == 200
    fid = created.json()["id"]
    assert (await http.get(ctl + "/faults")).json() == [
        {
            "id": fid,
            "kind": "write_stall",
            "store_id": 3,
            "params": {"cause": "pending_compaction", "stall_ms": 500.0, "duration_s": 0.0},
        }
    ]
    again = await http.post(ctl + "/faults", json={"kind": "write_stall", "store_id": 3})
    assert again.status_code == 409
    for bad in ({"cause": "gremlins"}, {"stall_ms": 0}, {"stall_ms": "slow"}, {"duration_s": -1}):
        resp = await http.post(ctl + "/faults", json={"kind": "write_stall", "store_id": 1, **bad})
        assert resp.status_code == 400, bad
    assert (await http.post(ctl + "/faults", json={"kind": "write_stall"})).status_code == 400
    await sim.advance(30)
    text = await metrics(http, sim, 3)
    pending = samples(text, "tikv_engine_pending_compaction_bytes")['{cf="default",db="kv"}']
    assert pending > 192 * (1 << 30)
    reason = samples(text, "tikv_engine_write_stall_reason")
    assert reason['{db="kv",type="pending_compaction_bytes_slowdown"}'] > 0
    rocks = await logs(http, sim, 3, "rocksdb")
    assert "Stalling writes because of estimated pending compaction bytes" in rocks
    assert "handle ready" not in await logs(http, sim, 3)  # 500 ms is under the 1 s slow-log bar
    bad_file = await http.get(ctl + "/stores/3/logs", params={"file": "LOG"})
    assert bad_file.status_code == 400


async def test_write_stall_with_a_duration_clears_itself(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    async with SimCluster(SimConfig(manual_clock=True, log_dir=tmp_path)) as sim:
        await sim.advance(5)
        sim.add_fault("write_stall", 1, duration_s="30")
        await sim.advance(20)
        assert [f["kind"] for f in sim.list_faults()] == ["write_stall"]
        await sim.advance(15)
        assert sim.list_faults() == []
        text = await metrics(http, sim, 1)
        p99 = samples(text, "tikv_engine_write_stall")['{db="kv",type="write_stall_percentile99"}']
        assert p99 == 0
        on_disk = (tmp_path / "tikv-1.rocksdb.info").read_text().splitlines()
        assert on_disk and all(ROCKS_LINE.match(x) for x in on_disk)
