"""Store logs in TiKV's unified format and store ``/metrics`` in TiKV's exposition."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from operator_tikv.logs import parse_line
from operator_tikv.sim import SimCluster, SimConfig
from operator_tikv.sim.encode import exponential_buckets, rust_float
from operator_tikv.sim.logs import format_line
from operator_tikv.sim.metrics import TIKV_FAMILIES
from prometheus_client.parser import text_string_to_metric_families

# [time] [LEVEL] [file.rs:LINE] [message] [k=v]... ; message/values raw or JSON-quoted.
ITEM = r'(?:"(?:[^"\\]|\\.)*"|[^\s\[\]"=]+)'
LINE = re.compile(
    r"^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d\] \[(FATAL|ERROR|WARN|INFO|DEBUG|TRACE)\] "
    r"\[(?:[\w.]+\.rs:\d+|<unknown>)\] \[" + ITEM + r"\]"
    r"(?: \[" + ITEM + r"=(?:" + ITEM + r"|)\])*$"
)
REQUIRED = (
    "tikv_grpc_msg_duration_seconds",
    "tikv_storage_engine_async_request_duration_seconds",
    "tikv_store_size_bytes",
    "tikv_engine_size_bytes",
    "tikv_raftstore_region_count",
    "tikv_thread_cpu_seconds_total",
    "process_cpu_seconds_total",
    "tikv_raftstore_log_lag",
    "tikv_raftstore_append_log_duration_seconds",
    "tikv_raftstore_apply_log_duration_seconds",
    "tikv_scheduler_too_busy_total",
    "tikv_channel_full_total",
    "tikv_engine_write_stall",
    "tikv_raftstore_slow_score",
    "tikv_server_report_failure_msg_total",
    "tikv_critical_error_total",
)


def test_line_pattern_accepts_the_real_samples(shared_fixture: Any) -> None:
    lines = [
        x
        for x in shared_fixture("tikv/log_samples.txt").read_text().splitlines()
        if x.startswith("[")
    ]
    assert len(lines) > 30
    for line in lines:
        assert LINE.match(line), line


def test_format_line_quotes_like_tikv() -> None:
    line = format_line(
        1735098083480549971,
        "INFO",
        "mod.rs:455",
        "failed to fetch URL",
        [("backoff", "3s"), ("attempt", 3), ("url", "http://example.com"), ("raft_id", 1)],
        7,
    )
    assert line == (
        '[2024/12/25 03:41:23.480 +00:00] [INFO] [mod.rs:455] ["failed to fetch URL"] [backoff=3s] '
        "[attempt=3] [url=http://example.com] [raft_id=1] [thread_id=7]"
    )
    quoted = format_line(
        0, "INFO", "raft.rs:1", "x", [("msg type", "MsgHeartbeat"), ("to", "[1, 2]")]
    )
    assert quoted.endswith('["msg type"=MsgHeartbeat] [to="[1, 2]"]')


async def test_logs_route_filters_by_time_and_limit(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    async with SimCluster(
        SimConfig(stores=4, manual_clock=True, log_dir=tmp_path, max_store_down_time_s=60)
    ) as sim:
        await sim.advance(5)
        await sim.kill_store(1)
        await sim.advance(200)
        url = sim.pd_urls[0] + "/sim/api/v1/stores/2/logs"
        resp = await http.get(url, params={"limit": 5000})
        assert resp.headers["content-type"].startswith("text/plain")
        lines = resp.text.splitlines()
        assert len(lines) > 20
        for line in lines:
            assert LINE.match(line), line
        kinds = resp.text
        for needle in (
            '["became leader at term',
            '["sent snapshot"]',
            "[takes=",
            '["starting a new election"]',
        ):
            assert (
                needle in kinds
                or needle in (await http.get(sim.pd_urls[0] + "/sim/api/v1/stores/3/logs")).text
            )
        stamps = [line[1:24] for line in lines]
        assert stamps == sorted(stamps)
        mid = lines[len(lines) // 2]
        when = mid[1:24].replace("/", "-").replace(" ", "T") + "Z"
        later = (await http.get(url, params={"since": when, "limit": 5000})).text.splitlines()
        assert later and len(later) < len(lines) and all(x[1:24] >= mid[1:24] for x in later)
        unix = str(sim.now_ns // 10**9 - 30)
        recent = (await http.get(url, params={"since": unix})).text.splitlines()
        assert len(recent) < len(lines)
        assert len((await http.get(url, params={"limit": 3})).text.splitlines()) == 3
        for line in lines[-40:]:
            # ``since`` is inclusive to the millisecond, in both spellings.
            stamp = line[1:24]
            ms = f"{int(datetime.strptime(stamp, '%Y/%m/%d %H:%M:%S.%f').replace(tzinfo=UTC).timestamp() * 1000)}"
            since = f"{ms[:-3]}.{ms[-3:]}"
            assert (
                line
                in (await http.get(url, params={"since": since, "limit": 5000})).text.splitlines()
            )
        assert (await http.get(url, params={"since": "yesterday"})).status_code == 400
        assert (await http.get(sim.pd_urls[0] + "/sim/api/v1/stores/99/logs")).status_code == 404
        on_disk = (tmp_path / "tikv-2.log").read_text().splitlines()
        assert on_disk[-len(lines) :] == lines[-len(on_disk) :] or set(lines) <= set(on_disk)


# Kinds of event the simulator models, each printed with TiKV's or raft-rs's wording.
MODELLED_KINDS = {
    "election_started",
    "election_campaign",
    "vote",
    "became_leader",
    "became_follower",
    "higher_term",
    "leader_transfer",
    "conf_change",
    "snapshot_generated",
    "snapshot_sent",
    "snapshot_received",
    "snapshot_restored",
    "snapshot_applied",
    "region_split",
    "slow_operation",
    "pd_connection_lost",
    "pd_reconnect",
    "disk_space",
}


async def test_logs_cover_every_modelled_event_in_tikvs_wording(http: httpx.AsyncClient) -> None:
    """Store losses, a partition, slow and filling disks, a stall, a split and a PD leader loss print
    every kind of standard line the parser knows from TiKV's source; RocksDB's stall line
    goes to rocksdb.info. Nothing the simulator prints is unreadable."""
    cfg = SimConfig(stores=5, manual_clock=True, max_store_down_time_s=60)
    async with SimCluster(cfg) as sim:
        await sim.advance(20)
        await sim.kill_store(1)
        sim.add_fault("partition_store", 2)
        sim.add_fault("slow_disk", 3)
        sim.add_fault("disk_pressure", 4)
        sim.add_fault("write_stall", 5)
        regions = (await http.get(sim.pd_urls[0] + "/pd/api/v1/regions")).json()["regions"]
        split = {"name": "split-region", "region_id": regions[7]["id"], "policy": "approximate"}
        await http.post(sim.pd_urls[0] + "/pd/api/v1/operators", json=split)
        await sim.advance(150)
        sim.kill_pd_leader()
        await sim.start_store(1)
        await sim.advance(60)
        assert sim.model is not None
        stores = sim.model.stores.values()
        lines = [x for s in stores if s.log is not None for x in s.log.since(None, 0)]
        rocks = [x for s in stores if s.rocks_log is not None for x in s.rocks_log.since(None, 0)]
    events = [parse_line(x) for x in lines]
    assert None not in events
    kinds = {e.kind for e in events if e is not None}
    assert MODELLED_KINDS <= kinds, MODELLED_KINDS - kinds
    stall = [parse_line(x) for x in rocks]
    assert stall and all(e is not None and e.kind == "write_stall" for e in stall)


def _index() -> dict[str, Any]:
    """TiKV v8.5.7's metric registry, kept once: in the simulator's package data."""
    path = resources.files("operator_tikv.sim").joinpath("data/metric_index.json")
    return json.loads(path.read_text())


def _bucket_bounds(spec: str | None) -> list[str]:
    if spec is None:
        # The prometheus crate's DEFAULT_BUCKETS, used when a histogram names none.
        spec = "vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]"
    spec = spec.replace("f64", "")
    m = re.fullmatch(r"exponential_buckets\(([\d.e*\- ]+), ([\d.]+), (\d+)\)", spec)
    if m:
        start = eval(m.group(1), {"__builtins__": {}})  # "1024.0 * 1024.0" style products only
        return [
            rust_float(b)
            for b in exponential_buckets(float(start), float(m.group(2)), int(m.group(3)))
        ]
    values = re.findall(r"[\d.]+", spec)
    return [rust_float(float(v)) for v in values]


async def test_store_metrics_follow_the_tikv_index(http: httpx.AsyncClient) -> None:
    index = _index()
    async with SimCluster(SimConfig(stores=4, manual_clock=True)) as sim:
        sim.add_fault("slow_disk", 2)
        sim.add_fault("critical_error", 2)
        sim.add_fault("write_stall", 2)
        await sim.advance(30)
        await sim.kill_store(4)
        await sim.advance(30)
        resp = await http.get(sim.store_status_urls[2] + "/metrics")
        assert resp.headers["content-type"] == "text/plain; version=0.0.4"
        text = resp.text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    names_in_order = [x.split()[2] for x in text.splitlines() if x.startswith("# TYPE")]
    assert names_in_order == sorted(names_in_order)
    for name in REQUIRED:
        base = name.removesuffix("_total") if name.endswith("_total") else name
        assert name in names_in_order, name
        assert base in families or name in families
    for raw_name in names_in_order:
        spec = index.get(raw_name)
        if spec is None:
            assert (
                not raw_name.startswith("tikv_") or raw_name == "tikv_thread_cpu_seconds_total"
            ), raw_name
            continue
        kind = re.search(rf"^# TYPE {raw_name} (\w+)$", text, re.M).group(1)  # type: ignore[union-attr]
        assert kind == spec["type"], raw_name
        series = [x for x in text.splitlines() if x.startswith(raw_name) and not x.startswith("#")]
        for line in series:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit(" ", 1)[0]))
            labels.pop("le", None)
            assert set(labels) == set(spec["labels"]), (raw_name, labels, spec["labels"])
        if spec["type"] == "histogram":
            want = [*_bucket_bounds(spec["buckets"]), "+Inf"]
            first_labels = re.match(r"[^{ ]+(\{[^}]*\})?", series[0]).group(1) or ""  # type: ignore[union-attr]
            prefix = first_labels.rsplit("le=", 1)[0]
            bounds = [
                re.search(r'le="([^"]+)"', x).group(1)
                for x in series
                if "_bucket" in x and x.startswith(raw_name + "_bucket" + prefix)
            ]  # type: ignore[union-attr]
            assert bounds == want, raw_name
    for line in text.splitlines():
        assert not re.search(r"\de[+-]\d", line.rsplit(" ", 1)[-1]), line  # Rust prints no exponent
    for family in families.values():
        if family.type != "histogram":
            continue
        by_series: dict[tuple, list[tuple[float, float]]] = {}
        counts: dict[tuple, float] = {}
        for sample in family.samples:
            key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            if sample.name.endswith("_bucket"):
                by_series.setdefault(key, []).append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_count"):
                counts[key] = sample.value
        for key, buckets in by_series.items():
            values = [v for _, v in sorted(buckets)]
            assert values == sorted(values), (family.name, key)
            assert values[-1] == counts[key]
    assert 'tikv_server_report_failure_msg_total{store_id="4",type="unreachable"}' in text
    assert 'tikv_raftstore_region_count{type="leader"}' in text


async def test_full_page_adds_every_unmodelled_family_at_its_real_shape(
    http: httpx.AsyncClient,
) -> None:
    index = _index()
    pages = {}
    for full in (False, True):
        config = SimConfig(stores=3, manual_clock=True, full_metrics_page=full)
        async with SimCluster(config) as sim:
            await sim.advance(20)
            pages[full] = (await http.get(sim.store_status_urls[1] + "/metrics")).text
    small, text = pages[False], pages[True]
    assert len(text) > 1.5 * len(small)
    families = {f.name for f in text_string_to_metric_families(text)}
    names_in_order = [x.split()[2] for x in text.splitlines() if x.startswith("# TYPE")]
    assert names_in_order == sorted(names_in_order)
    # A modelled family with no series yet is left out, as TiKV leaves out an empty vector.
    assert set(index) - set(TIKV_FAMILIES) <= set(names_in_order)
    assert len(families) == len(names_in_order) > 440
    modelled = {x.split()[2] for x in small.splitlines() if x.startswith("# TYPE")}
    tagged = _by_family(text)
    assert [x for fam, x in tagged if fam in modelled] == small.splitlines()
    for name in set(index) - set(TIKV_FAMILIES):
        spec = index[name]
        assert f"# TYPE {name} {spec['type']}" in text
        series = [x for fam, x in tagged if fam == name and not x.startswith("#")]
        assert series, name
        for line in series:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit(" ", 1)[0]))
            labels.pop("le", None)
            assert set(labels) == set(spec["labels"]), (name, labels)
        plain = re.fullmatch(
            r"exponential_buckets\(([\d.]+), ([\d.]+), (\d+)\)", spec["buckets"] or ""
        )
        if plain:
            first = series[0].split("{")[0] + "{" + series[0].split("{", 1)[1].rsplit("le=", 1)[0]
            bounds = [re.search(r'le="([^"]+)"', x).group(1) for x in series if x.startswith(first)]  # type: ignore[union-attr]
            assert bounds == [*_bucket_bounds(spec["buckets"]), "+Inf"], name


def _by_family(text: str) -> list[tuple[str, str]]:
    """Each line with the family its comment lines named (every family here has them)."""
    family, out = "", []
    for line in text.splitlines():
        if line.startswith("# "):
            family = line.split()[2]
        out.append((family, line))
    return out
