"""Every PD fixture parses into the models and the core dataclasses."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from operator_tikv.encoding import parse_go_duration
from operator_tikv.pd.models import (
    ClusterInfo,
    ClusterStatus,
    HealthMember,
    HistBucket,
    HotRegionsOnly,
    MembersInfo,
    OperatorObject,
    PDStatus,
    RegionCount,
    RegionInfo,
    RegionsInfo,
    ReplicationConfig,
    ScheduleConfig,
    StoreHotPeersInfos,
    StoreInfo,
    StoresInfo,
)
from operator_tikv.states import StoreState, is_tiflash
from pydantic import TypeAdapter, ValidationError

MODELS = {
    "cluster.json": ClusterInfo,
    "cluster_status.json": ClusterStatus,
    "cluster_status_not_bootstrapped.json": ClusterStatus,
    "config_replicate.json": ReplicationConfig,
    "config_schedule.json": ScheduleConfig,
    "health.json": list[HealthMember],
    "hotspot_read.json": StoreHotPeersInfos,
    "hotspot_write.json": StoreHotPeersInfos,
    "members.json": MembersInfo,
    "operator_by_region.json": str,
    "operators.json": list[str],
    "operators_empty.json": list[str],
    "operators_object.json": list[OperatorObject],
    "region.json": RegionInfo,
    "region_missing_v8.5.json": RegionInfo,
    "regions.json": RegionsInfo,
    "regions_check_down_peer.json": RegionsInfo,
    "regions_check_empty.json": RegionsInfo,
    "regions_check_hist_size.json": list[HistBucket],
    "regions_count.json": RegionsInfo,
    "status.json": PDStatus,
    "store.json": StoreInfo,
    "stores.json": StoresInfo,
    "stores_mixed_states.json": StoresInfo,
    "stores_state_2_tombstone.json": StoresInfo,
}


def test_every_fixture_has_a_model(tk):
    assert {p.name for p in tk.PD_FIXTURES.glob("*.json")} | set(tk.VERBATIM_PD) == set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fixture_parses(tk, name):
    value = TypeAdapter(MODELS[name]).validate_json(tk.pd_fixture(name))
    assert value is not None


def test_stores_verbatim_capture(tk):
    info = StoresInfo.model_validate_json(tk.pd_fixture("stores.json"))
    stores = {s.store.id: s.to_store() for s in info.stores}
    assert sorted(stores) == [1, 4, 5, 20]
    s4 = stores[4]
    assert s4.state is StoreState.UP
    assert s4.capacity_bytes == int(311.7 * 2**30)
    assert s4.available_bytes == int(222.1 * 2**30)
    assert s4.used_bytes == int(290.7 * 2**20)
    assert s4.leader_count == 17 and s4.region_count == 60
    assert s4.status_address == "basic-tikv-5gzwgj.basic-tikv-peer.default:20180"
    assert s4.last_heartbeat == datetime(2024, 12, 25, 3, 41, 23, 480550, tzinfo=UTC)
    assert s4.start_time == datetime(2024, 12, 25, 3, 5, 3, tzinfo=UTC)
    assert s4.uptime_s == pytest.approx(2180.480549971)
    assert s4.slow_score == 1
    assert is_tiflash(stores[20]) and stores[20].labels == {"engine": "tiflash"}
    assert not is_tiflash(s4)


def test_mixed_states_and_omitted_enum_fields(tk):
    info = StoresInfo.model_validate_json(tk.pd_fixture("stores_mixed_states.json"))
    states = {s.store.id: s.to_store().state for s in info.stores}
    assert states == {
        1: StoreState.UP,
        7: StoreState.UP,
        4: StoreState.DISCONNECTED,
        5: StoreState.DOWN,
        6: StoreState.OFFLINE,
    }
    preparing = next(s for s in info.stores if s.store.id == 7)
    assert preparing.store.node_state == 0 and preparing.store.state == 0
    offline = next(s for s in info.stores if s.store.id == 6)
    assert offline.store.state == 1 and offline.store.node_state == 2
    assert info.stores[0].to_store().capacity_bytes == int(1.745 * 2**40)


def test_tombstone_with_zero_sizes_and_no_start_ts(tk):
    info = StoresInfo.model_validate_json(tk.pd_fixture("stores_state_2_tombstone.json"))
    store = info.stores[0].to_store()
    assert store.state is StoreState.TOMBSTONE
    assert store.capacity_bytes == 0 and store.used_ratio == 0.0
    assert store.uptime_s == pytest.approx(100000.0)
    assert store.slow_score == 0


def test_state_falls_back_to_the_integer_when_state_name_is_missing(tk):
    body = json.loads(tk.pd_fixture("stores_state_2_tombstone.json"))
    del body["stores"][0]["store"]["state_name"]
    info = StoresInfo.model_validate(body)
    assert info.stores[0].to_store().state is StoreState.TOMBSTONE


def test_hotspot_write_leader_regions(tk):
    hot = StoreHotPeersInfos.model_validate_json(tk.pd_fixture("hotspot_write.json"))
    regions = hot.leader_regions()
    assert len(regions) == 1
    r = regions[0]
    assert (r.range_id, r.store_id, r.primary) == (10, 1, True)
    assert r.flow_bytes == pytest.approx(1048576.5)
    assert r.peer_store_ids == [1, 4, 5]
    assert r.hot_degree == 25
    assert sorted(hot.as_peer) == [1, 4, 5]


def test_regions_learner_peer_and_missing_region(tk):
    regions = RegionsInfo.model_validate_json(tk.pd_fixture("regions.json"))
    r14 = regions.regions[2].to_region()
    assert [p.role for p in r14.peers] == ["Voter", "Voter", "Voter", "Learner"]
    assert r14.leader_store_id == 4 and r14.approximate_size_mb == 54
    missing = RegionInfo.model_validate_json(tk.pd_fixture("region_missing_v8.5.json"))
    assert not missing.exists
    assert missing.to_region().leader_store_id is None


def test_region_checks_and_count(tk):
    down = RegionsInfo.model_validate_json(tk.pd_fixture("regions_check_down_peer.json"))
    assert down.count == 1 and down.regions[0].down_peers[0].down_seconds == 3600
    assert RegionCount.model_validate_json(tk.pd_fixture("regions_count.json")).count == 3
    assert RegionCount.model_validate_json(tk.pd_fixture("regions_check_down_peer.json")).count == 1


def test_schedule_config_go_encodings(tk):
    config = ScheduleConfig.model_validate_json(tk.pd_fixture("config_schedule.json"))
    assert config.max_store_down_time == 1800.0
    assert config.leader_schedule_limit == 4
    assert config.region_schedule_limit == 2048
    assert config.replica_schedule_limit == 64
    assert config.low_space_ratio == 0.8 and config.high_space_ratio == 0.7
    assert config.enable_remove_down_replica is True
    assert [s.type for s in config.schedulers_v2][:2] == ["balance-region", "balance-leader"]
    replicate = ReplicationConfig.model_validate_json(tk.pd_fixture("config_replicate.json"))
    assert replicate.enable_placement_rules is True and replicate.strictly_match_label is False


def test_members_and_health(tk):
    members = MembersInfo.model_validate_json(tk.pd_fixture("members.json"))
    assert members.leader is not None and members.leader.name == "basic-53pe89"
    assert members.header.cluster_id == 7452180154224557728
    health = TypeAdapter(list[HealthMember]).validate_json(tk.pd_fixture("health.json"))
    assert all(h.health for h in health) and health[2].member_id == 12818309996638325969


def test_operators_object_kind_and_timeout(tk):
    ops = TypeAdapter(list[OperatorObject]).validate_json(tk.pd_fixture("operators_object.json"))
    assert ops[0].kind == 129 and ops[0].timeout == 60.0 and ops[0].region_epoch.conf_ver == 5


@pytest.mark.parametrize(
    "body",
    [
        b'{"count": 1, "stores": [{"store": {"address": "x"}}]}',
        b'{"count": 1, "stores": [{"store": {"id": 1}, "status": {"capacity": "lots"}}]}',
        b'{"count": 1, "stores": [{"store": {"id": 1}, "status": {"uptime": "3 days"}}]}',
        b"[1, 2, 3]",
        b'{"count": 1, "stores": [{"store": {"id": 1}, "status": {"capacity": [1]}}]}',
        b'{"count": 1, "stores": [{"store": {"id": 1}, "status": {"capacity": null}}]}',
        b'{"count": 1, "stores": [{"store": {"id": 1}, "status": {"uptime": {"s": 1}}}]}',
        b'{"count": 1, "stores": [{"store": {"id": "one"}}]}',
    ],
)
def test_malformed_store_bodies_are_validation_errors(body):
    with pytest.raises(ValidationError):
        StoresInfo.model_validate_json(body)


def test_null_lists_are_empty(tk):
    info = StoresInfo.model_validate_json(b'{"count": 0, "stores": null}')
    assert info.stores == []
    hot = StoreHotPeersInfos.model_validate_json(b'{"as_peer": null, "as_leader": null}')
    assert hot.leader_regions() == []


@pytest.mark.parametrize("name", sorted(MODELS))
def test_truncated_fixture_is_a_validation_error_never_a_crash(tk, name):
    body = tk.pd_fixture(name)
    for cut in (1, len(body) // 3, len(body) // 2, len(body) - 2):
        try:
            TypeAdapter(MODELS[name]).validate_json(body[:cut])
        except ValidationError:
            pass


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "store",
                    "status",
                    "stores",
                    "count",
                    "capacity",
                    "uptime",
                    "labels",
                    "state_name",
                    "as_leader",
                    "as_peer",
                    "1",
                    "statistics",
                    "leader",
                    "members",
                    "header",
                    "last_heartbeat",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    _json,
    st.sampled_from([StoresInfo, StoreHotPeersInfos, MembersInfo, ScheduleConfig, RegionsInfo]),
)
def test_any_json_is_parsed_or_a_validation_error(value, model):
    try:
        model.model_validate_json(json.dumps(value))
    except ValidationError:
        pass


_scalar = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
_store_fields = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "address",
            "state",
            "labels",
            "status_address",
            "last_heartbeat",
            "start_timestamp",
            "node_state",
            "state_name",
        ]
    ),
    _scalar | st.lists(_scalar, max_size=2),
    max_size=9,
)
_status_fields = st.dictionaries(
    st.sampled_from(
        [
            "capacity",
            "available",
            "used_size",
            "leader_count",
            "region_count",
            "slow_score",
            "slow_trend",
            "start_ts",
            "last_heartbeat_ts",
            "uptime",
        ]
    ),
    _scalar
    | st.lists(_scalar, max_size=2)
    | st.dictionaries(st.text(max_size=3), _scalar, max_size=2),
    max_size=10,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.fixed_dictionaries({"store": _store_fields, "status": _status_fields}), max_size=3)
)
def test_any_store_entry_is_parsed_or_a_validation_error(entries):
    try:
        info = StoresInfo.model_validate_json(
            json.dumps({"count": len(entries), "stores": entries})
        )
    except ValidationError:
        return
    for entry in info.stores:
        entry.to_store()


def test_absurd_timestamps_are_dropped_not_raised(tk):
    body = json.loads(tk.pd_fixture("store.json"))
    body["store"]["last_heartbeat"] = 10**30
    body["store"]["start_timestamp"] = 10**20
    store = StoreInfo.model_validate(body).to_store()
    assert store.last_heartbeat == datetime(2024, 12, 25, 8, 20, 32, 382630, tzinfo=UTC)
    assert store.start_time == datetime(2024, 12, 25, 3, 5, 3, tzinfo=UTC)


def test_hot_regions_only_matches_the_full_model(tk):
    """The tick's lean projection finds the same hot regions as the full model."""
    body = tk.pd_fixture("hotspot_write.json")
    full = StoreHotPeersInfos.model_validate_json(body).leader_regions()
    assert full and HotRegionsOnly.model_validate_json(body).leader_regions() == full
    peers_only = b'{"as_peer": {"1": {"statistics": [{"store_id": 1, "region_id": 7, "is_leader": true, "flow_bytes": 5}]}}, "as_leader": null}'
    lean = HotRegionsOnly.model_validate_json(peers_only).leader_regions()
    assert [h.range_id for h in lean] == [7]
    assert lean == StoreHotPeersInfos.model_validate_json(peers_only).leader_regions()


@pytest.mark.parametrize(
    "name", ["stores.json", "stores_mixed_states.json", "stores_state_2_tombstone.json"]
)
def test_uptime_from_the_timestamps_matches_pds_text(tk, name):
    """PD's uptime is its last heartbeat less its start; the text is read only without them."""
    info = StoresInfo.model_validate_json(tk.pd_fixture(name))
    for entry in info.stores:
        assert entry.to_store().uptime_s == pytest.approx(parse_go_duration(entry.status.uptime))
    bare = StoresInfo.model_validate_json(
        b'{"stores": [{"store": {"id": 1}, "status": {"uptime": "1h0m0.5s"}}]}'
    )
    assert bare.stores[0].to_store().uptime_s == 3600.5
