"""Pydantic models of PD v8.5 HTTP responses, and their conversion to core dataclasses.

PD omits protobuf zero values (``state`` for Up stores, ``node_state`` for
Preparing ones, peer ``role`` for voters), writes sizes as go-units strings
(``"311.7GiB"``), durations as Go strings, ``last_heartbeat`` in Unix
nanoseconds and booleans of the config as JSON strings; every field that may
be missing has a default.

Ids and counts are checked here, by pydantic-core on the fast path: store, region and peer
ids within 0..2^63-1 (``Id``), PD member and cluster ids within uint64 (``U64``); other
numbers stay Python ints (an absurd time is dropped by ``to_store``). PD allocates store, region and peer ids from one counter that
starts at 1 and grows in steps of 1000 (``pkg/id/id.go``), so an id of 2^63 or more is
never a real one; rejecting it here keeps every id an int that SQLite, JSON readers and
the front ends take as it is, with no column turned to text. An item with such a value
is left out alone by ``tolerant.validate`` and named in the tick's errors. Text PD sends
(addresses, labels, versions, member names) is clipped to ``TEXT_MAX`` characters with a
visible marker before it reaches a snapshot, the database or a prompt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from operator_tikv.encoding import parse_byte_size, parse_go_duration
from operator_tikv.encoding import parse_size_text as _size_text
from operator_tikv.records import TikvHotRegion, TikvStore
from operator_tikv.regions import Peer, Region
from operator_tikv.states import StoreState, state_health
from operator_tui.core.bounds import clip

ID_MAX = 2**63 - 1
U64_MAX = 2**64 - 1
TEXT_MAX = 256
"""Longest address, label key or value, version or member name kept (PD's own are < 100)."""
LABELS_MAX = 64
"""Most labels kept per store (placement uses a handful: zone, rack, host, engine)."""

Id = Annotated[int, Field(ge=0, le=ID_MAX)]
U64 = Annotated[int, Field(ge=0, le=U64_MAX)]
Name = Annotated[str, AfterValidator(lambda s: clip(s, TEXT_MAX))]

GoDuration = Annotated[float, BeforeValidator(parse_go_duration)]

# The per-store fields of /stores are checked by pydantic-core alone (a Python validator per
# field and store cost 10 ms a tick at 1000 stores) and converted in ``to_store``.
_SIZE_TEXT = r"^\s*\d{1,20}(?:\.\d{1,20})?\s?[kKmMgGtTpPeEzZyY]?[iI]?[bB]?\s*$"
_DURATION_TEXT = r"^[+-]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$"
SizeValue = (
    Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
    | Annotated[str, StringConstraints(pattern=_SIZE_TEXT)]
)
DurationValue = (
    Annotated[float, Field(allow_inf_nan=False, strict=True)]
    | Annotated[str, StringConstraints(pattern=_DURATION_TEXT)]
)


def _bytes(value: float | str) -> int:
    return int(value) if isinstance(value, float) else parse_byte_size(value)


def _go_bool(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return value


GoBool = Annotated[bool, BeforeValidator(_go_bool)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


T = TypeVar("T")


def _empty_if_null(value: Any) -> Any:
    return [] if value is None else value


def _empty_dict_if_null(value: Any) -> Any:
    return {} if value is None else value


# PD writes ``null`` for an empty list. The check runs after validation: a before-validator
# would make pydantic-core build the whole JSON value in Python first (8 ms on /stores at
# 1000 stores, twice the cost of validating it).
NullableList = Annotated[list[T] | None, AfterValidator(_empty_if_null)]


class Label(_Model):
    key: str
    value: str = ""


class MetaStore(_Model):
    """The ``store`` half of a ``/stores`` entry: the fields ``to_store`` reads.

    PD sends more (peer_address, git_hash, deploy_path, physically_destroyed); at 1000
    stores every validated field costs about 0.1 ms a tick, so unread ones are skipped.
    """

    id: Id
    address: str = ""
    state: int = 0
    labels: list[Label] | None = None
    version: str = ""
    status_address: str = ""
    start_timestamp: int = 0
    last_heartbeat: int = 0
    node_state: int = 0
    state_name: str = ""


class StoreStatus(_Model):
    """The ``status`` half: sizes, counts, scores and times (weights, sizes in MiB, snapshot
    and pending counts, ``slow_trend`` and ``network_slow_score`` are left unread)."""

    capacity: SizeValue = 0.0
    available: SizeValue = 0.0
    used_size: SizeValue = 0.0
    leader_count: int = 0
    leader_score: float = 0.0
    region_count: int = 0
    region_score: float = 0.0
    slow_score: float = 0.0
    start_ts: datetime | None = None
    last_heartbeat_ts: datetime | None = None
    uptime: DurationValue | None = None


_STATE_BY_INT = {0: StoreState.UP, 1: StoreState.OFFLINE, 2: StoreState.TOMBSTONE}
_STATE_BY_NAME = {s.value.lower(): s for s in StoreState}


def _from_unix(seconds: float) -> datetime | None:
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


class StoreInfo(_Model):
    store: MetaStore
    status: StoreStatus = Field(default_factory=StoreStatus)

    def to_store(self) -> TikvStore:
        # Runs for every store on every tick (5 us each at 1000 stores): kept to plain lookups.
        meta, st = self.store, self.status
        state = _STATE_BY_NAME.get(meta.state_name.lower()) if meta.state_name else None
        if state is None:
            state = _STATE_BY_INT.get(meta.state, StoreState.UNKNOWN)
        beat_ns = meta.last_heartbeat
        heartbeat = (_from_unix(beat_ns / 1e9) if beat_ns > 0 else None) or st.last_heartbeat_ts
        started = meta.start_timestamp
        start = (_from_unix(started) if started > 0 else None) or st.start_ts
        capacity, available, used = st.capacity, st.available, st.used_size
        if beat_ns > 0 and started > 0:
            # PD's uptime is exactly this difference (its last heartbeat less its start):
            # no duration text to parse.
            uptime_s: float | None = max(0, beat_ns - started * 1_000_000_000) / 1e9
        else:
            uptime_s = None if st.uptime is None else parse_go_duration(st.uptime)
        labels = meta.labels
        return TikvStore(
            id=meta.id,
            address=clip(meta.address, TEXT_MAX),
            state=state,
            status_address=clip(meta.status_address, TEXT_MAX),
            version=clip(meta.version, TEXT_MAX),
            labels={clip(la.key, TEXT_MAX): clip(la.value, TEXT_MAX) for la in labels[:LABELS_MAX]}
            if labels
            else {},
            capacity_bytes=int(capacity) if type(capacity) is float else _size_text(capacity),
            available_bytes=int(available) if type(available) is float else _size_text(available),
            used_bytes=int(used) if type(used) is float else _size_text(used),
            leader_count=st.leader_count,
            region_count=st.region_count,
            leader_score=st.leader_score,
            region_score=st.region_score,
            slow_score=st.slow_score,
            start_time=start,
            last_heartbeat=heartbeat,
            uptime_s=uptime_s,
            health=state_health(state),
        )


class StoresInfo(_Model):
    count: int = 0
    stores: NullableList[StoreInfo] = Field(default_factory=list)


class MetaPeer(_Model):
    role_name: str = ""
    is_learner: bool = False
    id: Id = 0
    store_id: Id = 0
    role: int = 0
    is_witness: bool = False

    def to_peer(self) -> Peer:
        role = self.role_name or ("Learner" if self.is_learner else "Voter")
        return Peer(id=self.id, store_id=self.store_id, role=role)


class DownPeer(_Model):
    peer: MetaPeer = Field(default_factory=MetaPeer)
    down_seconds: int = 0


class RegionEpoch(_Model):
    conf_ver: int = 0
    version: int = 0


class RegionInfo(_Model):
    id: Id
    start_key: str = ""
    end_key: str = ""
    epoch: RegionEpoch = Field(default_factory=RegionEpoch)
    peers: NullableList[MetaPeer] = Field(default_factory=list)
    leader: MetaPeer = Field(default_factory=MetaPeer)
    down_peers: NullableList[DownPeer] = Field(default_factory=list)
    pending_peers: NullableList[MetaPeer] = Field(default_factory=list)
    cpu_usage: int = 0
    written_bytes: int = 0
    read_bytes: int = 0
    written_keys: int = 0
    read_keys: int = 0
    approximate_size: int = 0
    approximate_keys: int = 0

    @property
    def exists(self) -> bool:
        """PD v8.5 answers 200 with a zero region for an unknown id."""
        return self.id != 0

    def to_region(self) -> Region:
        return Region(
            id=self.id,
            start_key=self.start_key,
            end_key=self.end_key,
            peers=[p.to_peer() for p in self.peers],
            leader_store_id=self.leader.store_id or None,
            conf_ver=self.epoch.conf_ver,
            version=self.epoch.version,
            approximate_size_mb=self.approximate_size,
            approximate_keys=self.approximate_keys,
            written_bytes=self.written_bytes,
            read_bytes=self.read_bytes,
        )


class RegionsInfo(_Model):
    count: int = 0
    regions: NullableList[RegionInfo] = Field(default_factory=list)


class RegionCount(_Model):
    """Only the count of a ``RegionsInfo``: the region list is skipped, not built."""

    count: int


class HistBucket(_Model):
    start: int
    end: int
    count: int


class HotPeerStat(_Model):
    store_id: Id
    stores: NullableList[Id] = Field(default_factory=list)
    is_leader: bool = False
    is_learner: bool = False
    region_id: Id
    hot_degree: int = 0
    flow_bytes: float = 0.0
    flow_keys: float = 0.0
    flow_query: float = 0.0
    anti_count: int = 0
    last_update_time: datetime | None = None

    def to_hot_region(self) -> TikvHotRegion:
        return TikvHotRegion(
            range_id=self.region_id,
            store_id=self.store_id,
            primary=self.is_leader,
            flow_bytes=self.flow_bytes,
            flow_keys=self.flow_keys,
            flow_query=self.flow_query,
            hot_degree=self.hot_degree,
            peer_store_ids=list(self.stores),
        )


class HotPeersStat(_Model):
    store_bytes: float = 0.0
    store_keys: float = 0.0
    store_query: float = 0.0
    total_flow_bytes: float = 0.0
    total_flow_keys: float = 0.0
    total_flow_query: float = 0.0
    regions_count: int = 0
    statistics: list[HotPeerStat] | None = None


def _leader_regions(as_leader: dict[int, Any], as_peer: dict[int, Any]) -> list[TikvHotRegion]:
    """One entry per hot region, on its leader's store, hottest first."""
    seen: dict[int, TikvHotRegion] = {}
    for stat in as_leader.values():
        for peer in stat.statistics or ():
            if peer.region_id not in seen:
                seen[peer.region_id] = peer.to_hot_region()
    if not seen:
        for stat in as_peer.values():
            for peer in stat.statistics or ():
                if peer.is_leader and peer.region_id not in seen:
                    seen[peer.region_id] = peer.to_hot_region()
    return sorted(seen.values(), key=lambda h: h.flow_bytes, reverse=True)


class StoreHotPeersInfos(_Model):
    as_peer: Annotated[dict[Id, HotPeersStat] | None, AfterValidator(_empty_dict_if_null)] = Field(
        default_factory=dict
    )
    as_leader: Annotated[dict[Id, HotPeersStat] | None, AfterValidator(_empty_dict_if_null)] = (
        Field(default_factory=dict)
    )

    def leader_regions(self) -> list[TikvHotRegion]:
        return _leader_regions(self.as_leader, self.as_peer)


class HotStatistics(_Model):
    statistics: list[HotPeerStat] | None = None


class HotRegionsOnly(_Model):
    """The part of ``/hotspot/regions/write`` a tick reads: each store's hot peers.

    PD sends an entry per store with its flow totals even when it has no hot peer;
    skipping the totals makes validation about a third cheaper at 1000 stores.
    """

    as_peer: Annotated[dict[Id, HotStatistics] | None, AfterValidator(_empty_dict_if_null)] = Field(
        default_factory=dict
    )
    as_leader: Annotated[dict[Id, HotStatistics] | None, AfterValidator(_empty_dict_if_null)] = (
        Field(default_factory=dict)
    )

    def leader_regions(self) -> list[TikvHotRegion]:
        return _leader_regions(self.as_leader, self.as_peer)


class HealthMember(_Model):
    name: Name = ""
    member_id: U64 = 0
    client_urls: NullableList[str] = Field(default_factory=list)
    health: bool = False


class Member(_Model):
    name: Name = ""
    member_id: U64 = 0
    peer_urls: NullableList[str] = Field(default_factory=list)
    client_urls: NullableList[str] = Field(default_factory=list)
    leader_priority: int = 0
    deploy_path: str = ""
    binary_version: str = ""
    git_hash: str = ""


class MembersHeader(_Model):
    cluster_id: U64 = 0


class MembersInfo(_Model):
    header: MembersHeader = Field(default_factory=MembersHeader)
    members: NullableList[Member] = Field(default_factory=list)
    leader: Member | None = None
    etcd_leader: Member | None = None


class ClusterInfo(_Model):
    id: U64
    max_peer_count: int = 0


class ClusterStatus(_Model):
    raft_bootstrap_time: datetime | None = None
    is_initialized: bool = False
    replication_status: str = ""


class PDStatus(_Model):
    build_ts: str = ""
    version: str = ""
    git_hash: str = ""
    start_timestamp: int = 0


class SchedulerSpec(_Model):
    type: str
    args: list[str] | None = None
    disable: bool = False
    args_payload: str = Field("", alias="args-payload")


class ScheduleConfig(_Model):
    """The keys the operator reads or sets; PD sends many more, kept in ``model_extra``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    max_snapshot_count: int = Field(64, alias="max-snapshot-count")
    max_pending_peer_count: int = Field(64, alias="max-pending-peer-count")
    max_store_down_time: GoDuration = Field(1800.0, alias="max-store-down-time")
    leader_schedule_limit: int = Field(4, alias="leader-schedule-limit")
    region_schedule_limit: int = Field(2048, alias="region-schedule-limit")
    replica_schedule_limit: int = Field(64, alias="replica-schedule-limit")
    merge_schedule_limit: int = Field(8, alias="merge-schedule-limit")
    hot_region_schedule_limit: int = Field(4, alias="hot-region-schedule-limit")
    low_space_ratio: float = Field(0.8, alias="low-space-ratio")
    high_space_ratio: float = Field(0.7, alias="high-space-ratio")
    enable_remove_down_replica: GoBool = Field(True, alias="enable-remove-down-replica")
    enable_replace_offline_replica: GoBool = Field(True, alias="enable-replace-offline-replica")
    enable_make_up_replica: GoBool = Field(True, alias="enable-make-up-replica")
    schedulers_v2: NullableList[SchedulerSpec] = Field(default_factory=list, alias="schedulers-v2")


class ReplicationConfig(_Model):
    max_replicas: int = Field(3, alias="max-replicas")
    location_labels: str = Field("", alias="location-labels")
    strictly_match_label: GoBool = Field(False, alias="strictly-match-label")
    enable_placement_rules: GoBool = Field(True, alias="enable-placement-rules")
    enable_placement_rules_cache: GoBool = Field(False, alias="enable-placement-rules-cache")
    isolation_level: str = Field("", alias="isolation-level")


class OperatorObject(_Model):
    desc: str = ""
    brief: str = ""
    region_id: int = 0
    region_epoch: RegionEpoch = Field(default_factory=RegionEpoch)
    kind: int = 0
    timeout: GoDuration = 0.0
    status: int = 0
