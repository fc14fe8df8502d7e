"""Every simulated PD endpoint against its fixture: key set, key order, value types, encodings, layout.

Verbatim captures (stores, store, health, members, cluster) come first; the rest were built
from PD's Go structs. Keys that PD omits when empty (learner_count, pending_peer_count,
down_peers, ...) are compared only when the fixture's situation is reproduced.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import httpx
import pytest
from operator_tikv.sim import SimCluster, SimConfig

API = "/pd/api/v1"
BYTE_SIZE = re.compile(r"^(0|[1-9]\d*)(\.\d+)?(B|KiB|MiB|GiB|TiB|PiB|EiB)$")
GO_DURATION = re.compile(r"^(\d+h)?(\d+m)?\d+(\.\d{1,9})?s$|^\d+(\.\d+)?(ms|µs|ns)$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
HEX_KEY = re.compile(r"^([0-9A-F]{2})*$")


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def same_shape(ours: Any, theirs: Any, path: str = "$") -> None:
    """Same key list (order included) and same JSON kinds, recursively; lists by their first item."""
    assert kind(ours) == kind(theirs), f"{path}: {kind(ours)} != {kind(theirs)}"
    if isinstance(theirs, dict) and theirs and all(k.isdigit() for k in theirs):
        # A map keyed by store id: string keys in encoding/json's sorted order, values alike.
        assert ours and all(k.isdigit() for k in ours) and list(ours) == sorted(ours), path
        template = next(iter(theirs.values()))
        for key, value in ours.items():
            same_shape(value, template, f"{path}.{key}")
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs), f"{path}: keys {list(ours)} != {list(theirs)}"
        for key in theirs:
            same_shape(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list) and theirs and ours:
        same_shape(ours[0], theirs[0], f"{path}[0]")


def ordered_subset(ours: list[str], canonical: list[str], path: str) -> None:
    """Our keys appear in the canonical order (some optional keys may be absent)."""
    positions = [canonical.index(k) for k in ours if k in canonical]
    assert all(k in canonical for k in ours), f"{path}: unknown keys {set(ours) - set(canonical)}"
    assert positions == sorted(positions), f"{path}: key order {ours} breaks {canonical}"


def check_indented(raw: bytes) -> None:
    text = raw.decode()
    assert text.endswith("\n")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    assert not re.search(r"\d\.0(?=[,\s\]}])", text), "Go never prints an integral float as N.0"


def check_compact(raw: bytes) -> None:
    text = raw.decode()
    assert not text.endswith("\n")
    assert text == json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    assert not re.search(r"\d\.0(?=[,\]}])", text)


async def get(
    http: httpx.AsyncClient, sim: SimCluster, path: str, member: int = 1
) -> httpx.Response:
    resp = await http.get(sim.pd_urls[member] + API + path)
    assert resp.status_code == 200, (path, resp.status_code, resp.text)
    return resp


def test_layout_checks_accept_the_fixtures(pd_fixture_bytes: Any) -> None:
    for name in (
        "stores.json",
        "store.json",
        "health.json",
        "members.json",
        "cluster.json",
        "config_schedule.json",
    ):
        check_indented(pd_fixture_bytes(name))
    for name in (
        "region.json",
        "regions.json",
        "regions_check_down_peer.json",
        "region_missing_v8.5.json",
    ):
        check_compact(pd_fixture_bytes(name))


def check_store(entry: dict[str, Any]) -> None:
    status = entry["status"]
    for key in ("capacity", "available", "used_size"):
        assert BYTE_SIZE.match(status[key]), status[key]
    for key in ("start_ts", "last_heartbeat_ts"):
        if key in status:
            assert RFC3339.match(status[key]), status[key]
    if "uptime" in status:
        assert GO_DURATION.match(status["uptime"]), status["uptime"]
    meta = entry["store"]
    assert meta["last_heartbeat"] > 10**18  # nanoseconds
    assert 10**9 < meta["start_timestamp"] < 10**10  # seconds


async def test_stores_match_the_verbatim_capture(
    sim: SimCluster, http: httpx.AsyncClient, pd_fixture: Any
) -> None:
    resp = await get(http, sim, "/stores")
    assert resp.headers["content-type"] == "application/json; charset=UTF-8"
    check_indented(resp.content)
    ours = resp.json()
    theirs = pd_fixture("stores.json")
    assert list(ours) == list(theirs)
    assert ours["count"] == len(ours["stores"]) == 3
    # The fixture's TiKV store (4) is Up/Serving with slow_trend: the same situation as ours.
    same_shape(ours["stores"][0], theirs["stores"][0])
    for entry in ours["stores"]:
        check_store(entry)
    one = await get(http, sim, "/store/1")
    check_indented(one.content)
    same_shape(one.json(), pd_fixture("store.json"))


async def test_store_states_match_the_mixed_states_fixture(
    sim: SimCluster, http: httpx.AsyncClient, pd_fixture: Any
) -> None:
    """Disconnected, Down, Offline and Tombstone stores carry the keys PD gives them."""
    async with SimCluster(SimConfig(stores=6, manual_clock=True, max_store_down_time_s=60)) as big:
        await big.advance(12)
        await big.kill_store(4)
        resp = await http.delete(big.pd_urls[0] + API + "/store/6")
        assert resp.status_code == 200 and resp.json() == "The store is set as Offline."
        fixture = {
            e["store"]["state_name"]: e for e in pd_fixture("stores_mixed_states.json")["stores"]
        }
        await big.advance(1)
        stores = (await get(http, big, "/stores", 0)).json()["stores"]
        offline = next(e for e in stores if e["store"]["id"] == 6)
        assert offline["store"]["state_name"] == "Offline" and offline["store"]["state"] == 1
        same_shape(offline["store"], fixture["Offline"]["store"])
        check_store(offline)
        await big.advance(29)
        stores = (await get(http, big, "/stores", 0)).json()["stores"]
        lost = next(e for e in stores if e["store"]["id"] == 4)
        assert lost["store"]["state_name"] == "Disconnected"
        same_shape(lost["store"], fixture["Disconnected"]["store"])
        check_store(lost)
        await big.advance(600)
        tomb = (await get(http, big, "/stores?state=2", 0)).json()
        assert tomb["count"] == 1 and tomb["stores"][0]["store"]["state_name"] == "Tombstone"
        theirs = pd_fixture("stores_state_2_tombstone.json")
        same_shape(tomb["stores"][0]["store"], theirs["stores"][0]["store"])
        assert list(tomb["stores"][0]["status"]) == list(theirs["stores"][0]["status"])
        await big.kill_store(5)
        await big.advance(90)
        stores = (await get(http, big, "/stores", 0)).json()["stores"]
        down = next(e for e in stores if e["store"]["id"] == 5)
        assert down["store"]["state_name"] == "Down"
        same_shape(down["store"], fixture["Down"]["store"])
        default = (await get(http, big, "/stores", 0)).json()
        assert 6 not in {e["store"]["id"] for e in default["stores"]}


async def test_region_endpoints_are_compact_easyjson(
    sim: SimCluster, http: httpx.AsyncClient, pd_fixture: Any
) -> None:
    regions = await get(http, sim, "/regions")
    assert regions.headers["content-type"] == "application/octet-stream"
    check_compact(regions.content)
    body = regions.json()
    assert body["count"] == 100 == len(body["regions"])
    same_shape(body["regions"][1], pd_fixture("region.json"))
    for region in body["regions"]:
        assert HEX_KEY.match(region["start_key"]) and HEX_KEY.match(region["end_key"])
        assert isinstance(region["approximate_size"], int)
    assert body["regions"][0]["start_key"] == "" and body["regions"][-1]["end_key"] == ""
    assert all(a["end_key"] == b["start_key"] for a, b in itertools.pairwise(body["regions"]))
    rid = body["regions"][5]["id"]
    one = await get(http, sim, f"/region/id/{rid}")
    check_compact(one.content)
    same_shape(one.json(), pd_fixture("region.json"))
    missing = await get(http, sim, "/region/id/987654")
    assert (
        missing.content
        == json.dumps(pd_fixture("region_missing_v8.5.json"), separators=(",", ":")).encode()
    )
    count = await get(http, sim, "/regions/count")
    check_indented(count.content)
    assert count.json() == {"count": 100, "regions": None}
    same_shape(count.json(), pd_fixture("regions_count.json"))
    empty = await get(http, sim, "/regions/check/miss-peer")
    assert empty.content == b'{"count":0,"regions":[]}'
    hist = await get(http, sim, "/regions/check/hist-size")
    check_indented(hist.content)
    same_shape(hist.json(), pd_fixture("regions_check_hist_size.json"))
    page = (await get(http, sim, "/regions/key?limit=7")).json()
    assert page["count"] == 7 and [r["id"] for r in page["regions"]] == [
        r["id"] for r in body["regions"][:7]
    ]
    nxt = (
        await get(http, sim, f"/regions/key?key={page['regions'][-1]['end_key']}&limit=3")
    ).json()
    assert [r["id"] for r in nxt["regions"]] == [r["id"] for r in body["regions"][7:10]]


async def test_down_peer_check_matches_fixture(http: httpx.AsyncClient, pd_fixture: Any) -> None:
    async with SimCluster(SimConfig(manual_clock=True)) as sim:
        await sim.advance(12)
        await sim.kill_store(3)
        await sim.advance(620)
        resp = await get(http, sim, "/regions/check/down-peer", 0)
        check_compact(resp.content)
        body = resp.json()
        assert body["count"] > 0
        theirs = pd_fixture("regions_check_down_peer.json")
        same_shape(body["regions"][0], theirs["regions"][0])
        down = body["regions"][0]["down_peers"][0]
        assert down["peer"]["store_id"] == 3 and down["down_seconds"] >= 600


async def test_hotspot_matches_fixture(
    sim: SimCluster, http: httpx.AsyncClient, pd_fixture: Any
) -> None:
    await sim.advance(120)
    for kind in ("write", "read"):
        resp = await get(http, sim, f"/hotspot/regions/{kind}")
        check_indented(resp.content)
        ours, theirs = resp.json(), pd_fixture(f"hotspot_{kind}.json")
        assert list(ours) == ["as_peer", "as_leader"]
        assert list(ours["as_peer"]) == ["1", "2", "3"]
        for side in ("as_peer", "as_leader"):
            entry = next(e for e in ours[side].values() if e["statistics"])
            template = next(e for e in theirs[side].values() if e["statistics"])
            same_shape(entry, template)
            for stat in entry["statistics"]:
                assert RFC3339.match(stat["last_update_time"]) and stat["hot_degree"] > 0


@pytest.mark.parametrize(
    ("path", "fixture"),
    [
        ("/health", "health.json"),
        ("/members", "members.json"),
        ("/cluster", "cluster.json"),
        ("/cluster/status", "cluster_status.json"),
        ("/status", "status.json"),
        ("/config/schedule", "config_schedule.json"),
        ("/config/replicate", "config_replicate.json"),
        ("/operators", "operators_empty.json"),
    ],
)
async def test_indented_endpoints_match_fixtures(
    sim: SimCluster, http: httpx.AsyncClient, pd_fixture: Any, path: str, fixture: str
) -> None:
    resp = await get(http, sim, path)
    assert resp.headers["content-type"] == "application/json; charset=UTF-8"
    check_indented(resp.content)
    ours, theirs = resp.json(), pd_fixture(fixture)
    same_shape(ours, theirs)
    if fixture == "config_schedule.json":
        assert ours == theirs | {"store-limit": ours["store-limit"]}
        assert list(ours["store-limit"]) == ["1", "2", "3"]
    if fixture == "config_replicate.json":
        assert ours == theirs
    if fixture == "cluster_status.json":
        assert RFC3339.match(ours["raft_bootstrap_time"])


async def test_operators_match_fixtures(
    sim: SimCluster, http: httpx.AsyncClient, pd_fixture: Any
) -> None:
    base = sim.pd_urls[0] + API
    await sim.advance(60)
    region = json.loads((await http.get(base + "/regions")).content)["regions"][3]
    follower = next(
        p["store_id"] for p in region["peers"] if p["store_id"] != region["leader"]["store_id"]
    )
    created = await http.post(
        base + "/operators",
        json={"name": "transfer-leader", "region_id": region["id"], "to_store_id": follower},
    )
    assert created.status_code == 200 and created.json() == "The operator is created."
    strings = (await http.get(base + "/operators?kind=admin")).json()
    assert len(strings) == 1
    pattern = (
        r"^admin-transfer-leader \{transfer leader: store \d+ to \d+\} \(kind:admin,leader, region:\d+\(\d+, \d+\), "
        r"createAt:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC m=\+\d+\.\d{9}, startAt:.+, currentStep:0, "
        r"size:\d+, steps:\[0:\{transfer leader from store \d+ to store \d+\}\], timeout:\[1m0s\]\)$"
    )
    assert re.match(pattern, strings[0]), strings[0]
    assert re.match(pattern, pd_fixture("operators.json")[0])
    objects = (await http.get(base + "/operators?object=1&kind=admin")).json()
    same_shape(objects, pd_fixture("operators_object.json"))
    assert objects[0]["kind"] == 129 and objects[0]["status"] == 1
    one = (await http.get(base + f"/operators/{region['id']}")).json()
    assert one.startswith("status: RUNNING, operator: admin-transfer-leader {")
    assert pd_fixture("operator_by_region.json").startswith(
        "status: RUNNING, operator: admin-transfer-leader {"
    )


async def test_pd_errors_are_json_strings_with_pd_codes(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    base = sim.pd_urls[2] + API
    cases = [
        ("GET", "/store/9", None, 404, "[PD:core:ErrStoreNotFound]store 9 not found"),
        ("GET", "/store/abc", None, 400, 'strconv.ParseUint: parsing "abc": invalid syntax'),
        ("GET", "/stores?state=7", None, 500, "unknown StoreState"),
        ("POST", "/operators", {"region_id": 4}, 400, "missing operator name"),
        ("POST", "/operators", {"name": "transfer-leader"}, 400, "missing region id"),
        (
            "POST",
            "/operators",
            {"name": "split-region", "region_id": 4},
            400,
            "missing split policy",
        ),
        (
            "POST",
            "/operators",
            {"name": "transfer-leader", "region_id": 999999, "to_store_id": 1},
            500,
            "[PD:region:ErrRegionNotFound]region 999999 not found",
        ),
        ("GET", "/operators/4", None, 500, "[PD:operator:ErrOperatorNotFound]operator not found"),
        ("POST", "/store/1/state?state=Bogus", None, 400, "invalid state Bogus"),
        ("POST", "/config/schedule", {"max-store-down-time": 5}, 400, None),
    ]
    for method, path, body, status, message in cases:
        resp = await http.request(method, base + path, json=body)
        assert resp.status_code == status, (path, resp.status_code, resp.text)
        assert resp.headers["content-type"] == "application/json; charset=UTF-8"
        check_indented(resp.content)
        if message is not None:
            assert resp.json() == message
        else:
            assert isinstance(resp.json(), str)
    unknown = await http.get(base + "/no/such/route")
    assert unknown.status_code == 404 and unknown.text == "404 page not found\n"
    assert (await http.get(base + "/regions/check/sideways-peer")).status_code == 404
    assert (await http.put(base + "/stores")).status_code == 405
    await sim.kill_store(1)
    await sim.advance(1)
    busy = await http.delete(base + "/store/2")
    assert busy.status_code == 400
    assert busy.json() == (
        "[PD:core:ErrStoresNotEnough]can not remove store 2 since the number of up stores would be 2 while need 3"
    )


async def test_pd_metrics_exposition(sim: SimCluster, http: httpx.AsyncClient) -> None:
    leader = (await http.get(sim.pd_urls[0] + "/metrics")).text
    follower = (await http.get(sim.pd_urls[1] + "/metrics")).text
    for sid in (1, 2, 3):
        assert f'pd_cluster_status{{engine="tikv",store="{sid}",type="store_up_count"}} 1' in leader
    assert 'pd_regions_status{type="miss-peer-region-count"} 0' in leader
    assert "etcd_server_is_leader 1" in leader and "etcd_server_is_leader 0" in follower
    assert re.search(
        r'pd_cluster_status\{engine="tikv",store="1",type="storage_capacity"\} \d\.\d+e\+11',
        leader,
    )
    # A follower runs the process, Go runtime and etcd, but no scheduling, TSO or statistics.
    for family in (
        "process_cpu_seconds_total",
        "go_goroutines",
        "etcd_disk_wal_fsync_duration_seconds",
    ):
        assert f"# TYPE {family} " in follower
    for family in (
        "pd_cluster_status",
        "pd_scheduler_store_status",
        "pd_tso_role",
        "pd_hotspot_status",
    ):
        assert f"# TYPE {family} " not in follower


async def test_full_config_top_level_keys_follow_pd(
    sim: SimCluster, http: httpx.AsyncClient
) -> None:
    """Top-level key order of ``config.Config`` in PD v8.5 (reference/pd-http-api.md, 3.8)."""
    resp = await get(http, sim, "/config")
    check_indented(resp.content)
    body = resp.json()
    assert list(body) == [
        "client-urls", "peer-urls", "advertise-client-urls", "advertise-peer-urls", "name", "data-dir",
        "force-new-cluster", "enable-grpc-gateway", "initial-cluster", "initial-cluster-state",
        "initial-cluster-token", "join", "lease", "log", "max-concurrent-tso-proxy-streamings",
        "tso-proxy-recv-from-client-timeout", "tso-save-interval", "tso-update-physical-interval",
        "enable-local-tso", "metric", "schedule", "replication", "pd-server", "cluster-version", "labels",
        "quota-backend-bytes", "auto-compaction-mode", "auto-compaction-retention-v2", "tick-interval",
        "election-interval", "enable-prevote", "max-request-bytes", "security", "label-property", "dashboard",
        "replication-mode", "keyspace", "micro-service", "controller",
    ]  # fmt: skip
    assert body["schedule"] == (await get(http, sim, "/config/schedule")).json()
    assert body["replication"] == (await get(http, sim, "/config/replicate")).json()
    assert body["quota-backend-bytes"] == "8GiB"


async def test_top_regions_and_stores_check(http: httpx.AsyncClient, pd_fixture: Any) -> None:
    async with SimCluster(SimConfig(stores=4, manual_clock=True)) as sim:
        await sim.advance(12)
        flows = json.loads((await get(http, sim, "/regions/writeflow?limit=3", 0)).content)
        assert flows["count"] == 3
        same_shape(flows["regions"][0], pd_fixture("region.json"))
        await sim.kill_store(2)
        await sim.advance(30)
        top = await get(http, sim, "/regions/size?limit=5", 0)
        check_compact(top.content)
        sizes = [r["approximate_size"] for r in top.json()["regions"]]
        assert len(sizes) == 5 and sizes == sorted(sizes, reverse=True)
        every = json.loads((await get(http, sim, "/regions", 0)).content)["regions"]
        assert sizes[0] == max(r["approximate_size"] for r in every)
        check = (await get(http, sim, "/stores/check?state=disconnected", 0)).json()
        assert [e["store"]["id"] for e in check["stores"]] == [2]
        both = (await get(http, sim, "/stores/check?state=Up&state=disconnected", 0)).json()
        assert both["count"] == 4
        bad = await http.get(sim.pd_urls[0] + API + "/stores/check?state=sideways")
        assert bad.status_code == 400
