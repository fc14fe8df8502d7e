"""TiKV's records: core's store, metrics, hot-region and log records with what PD and TiKV add.

Core's types carry what every subject measures; the per-store figures below are TiKV's
and PD's own (a store heartbeat's leader and region counts and scores, the raftstore and
RocksDB signals a store's metrics page exports). The TiKV plugin builds every record with
these classes and declares them in ``SubjectConfig.records``, so a stored snapshot reads
back with its TiKV fields and ``SubjectConfig.store_figures`` tells front ends which to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from operator_tui.core.subject import StoreFigure
from operator_tui.core.types import HotRegion, LogEvent, RecordTypes, Store, StoreMetrics


@dataclass(slots=True)
class TikvStore(Store):
    """A store as PD's ``/stores`` reports it: the counts and scores come from its heartbeat
    (``StoreStatus`` in PD's ``server/api/store.go``)."""

    leader_count: int = 0
    region_count: int = 0
    leader_score: float = 0.0
    region_score: float = 0.0
    slow_score: float = 0.0

    def __post_init__(self) -> None:
        """A copy read back from storage (a ticket's snapshot, a recording) spells the state
        as text; the invariants read PD's state as a ``StoreState``."""
        from operator_tikv.states import StoreState

        if not isinstance(self.state, StoreState):
            try:
                self.state = StoreState(self.state)
            except ValueError:
                self.state = StoreState.UNKNOWN


@dataclass(slots=True)
class TikvStoreMetrics(StoreMetrics):
    """A store's figures from its own metrics (or Prometheus).

    ``unreachable_reports_per_s``: messages this store failed to deliver to a peer, per
    second, by destination store id; ``{}`` when none.

    ``write_stall_reasons_per_s``: why RocksDB is stalling writes now, per second by TiKV's
    reason, summed over the engines (``db``): the rate of ``tikv_engine_write_stall_reason``
    by ``type`` as TiKV's dashboard "Write Stall Reason" draws it. TiKV sets the gauge from
    RocksDB's cumulative ``io_stalls.*`` counts of each stall condition met (``rocksdb.cfstats``;
    components/engine_rocks/src/rocks_metrics.rs, the types are ``ROCKSDB_IOSTALL_TYPE`` in
    rocks_metrics_defs.rs: ``level0_file_limit_slowdown``/``_stop``,
    ``pending_compaction_bytes_slowdown``/``_stop``, ``memtable_count_limit_slowdown``/``_stop``).
    Only reasons counted this window are kept; ``{}`` when the family is read and none is
    counting; ``None`` when it was not read (no earlier read to take a rate from, an older
    TiKV without the family, a Prometheus that did not answer the query).
    """

    region_count: int | None = None
    leader_count: int | None = None
    raft_log_lag: float | None = None
    write_stall: float | None = None
    channel_full_per_s: float | None = None
    scheduler_busy_per_s: float | None = None
    slow_score: float | None = None
    critical_errors_per_s: float | None = None
    unreachable_reports_per_s: dict[int, float] | None = None
    write_stall_reasons_per_s: dict[str, float] | None = field(
        default=None, metadata={"label": "type"}
    )


@dataclass(slots=True)
class TikvHotRegion(HotRegion):
    """An entry of PD's hot-write statistics: ``range_id`` is the region id, ``primary``
    that this store holds the region's leader. Copies stored before the rename used PD's
    own field names."""

    STORED_ALIASES: ClassVar[dict[str, str]] = {"region_id": "range_id", "is_leader": "primary"}


@dataclass(slots=True)
class TikvLogEvent(LogEvent):
    """A TiKV log line with the region and Raft term it names, when it names them."""

    region_id: int | None = None
    term: int | None = None

    @property
    def about(self) -> str:
        return "" if self.region_id is None else f"region {self.region_id}"


RECORDS = RecordTypes(
    store=TikvStore, metrics=TikvStoreMetrics, hot=TikvHotRegion, log_event=TikvLogEvent
)

STORE_FIGURES = (
    StoreFigure("leader_count", "Leaders", "leaders"),
    StoreFigure("region_count", "Regions", "regions"),
    StoreFigure("leader_score", "Leader score", "leader_score", column=False, digits=1),
    StoreFigure("region_score", "Region score", "region_score", column=False, digits=1),
    StoreFigure("slow_score", "Slow score", "slow_score", column=False),
)

METRIC_FIGURES = (StoreFigure("raft_log_lag", "raft lag", "raft_log_lag"),)
