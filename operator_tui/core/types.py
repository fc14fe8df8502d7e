"""Shared domain types that flow from a subject through the monitor to the front ends.

Plain dataclasses: pydantic lives only at the edges (API payloads, settings).
Store ids are ints because every subject we know of (the stores of most
distributed databases) numbers its nodes; a cluster-wide target is ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from itertools import chain
from typing import Any, ClassVar


class Health(StrEnum):
    """Whether a store serves, decided once by the subject; every front end and check reads it.

    ``serving``: answering and holding its data. ``degraded``: answering but on its way
    out or in (draining, joining) or otherwise not at full duty. ``unreachable``: not
    answering now, though its cluster has not given up on it. ``down``: its cluster has
    declared it lost and is repairing around it. ``removed``: gone for good.
    """

    SERVING = "serving"
    DEGRADED = "degraded"
    UNREACHABLE = "unreachable"
    DOWN = "down"
    REMOVED = "removed"

    @property
    def answering(self) -> bool:
        return self in (Health.SERVING, Health.DEGRADED)


@dataclass(frozen=True, slots=True)
class StoreHealth:
    """One store's health as the subject stamped it.

    ``label`` is the short word a person sees (the subject's own state, or what the
    operator knows sooner than the subject's control plane); ``reason`` says why.
    """

    level: Health
    label: str
    reason: str = ""


SERVING = StoreHealth(Health.SERVING, "")


class Severity(StrEnum):
    """Ordered from least to most urgent; ``rank`` gives the order."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]


@dataclass(slots=True)
class Store:
    """One storage node: ``state`` is the subject's own word for it, ``health`` the neutral verdict.

    A subject keeps its own per-store figures on a subclass (declared in
    ``SubjectConfig.records``); front ends show them through ``SubjectConfig.store_figures``.
    """

    id: int
    address: str
    state: str
    status_address: str = ""
    version: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    capacity_bytes: int = 0
    available_bytes: int = 0
    used_bytes: int = 0
    start_time: datetime | None = None
    last_heartbeat: datetime | None = None
    uptime_s: float | None = None
    health: StoreHealth = SERVING

    @property
    def label(self) -> str:
        """What front ends show in a state column: the stamped label, else the subject's state."""
        return self.health.label or str(self.state)

    @property
    def used_ratio(self) -> float:
        """Share of capacity not available: one minus available over capacity."""
        if self.capacity_bytes <= 0:
            return 0.0
        return 1.0 - self.available_bytes / self.capacity_bytes


@dataclass(slots=True)
class HotRegion:
    """One entry of the subject's hot write (or read) statistics, per store: a key range
    (``range_id``, the subject's own id for it) taking a large share of the flow.

    ``primary``: this store serves the range's writes (the other entries are its copies).
    ``STORED_ALIASES`` maps names an older stored copy used to today's, for reading it back.
    """

    STORED_ALIASES: ClassVar[dict[str, str]] = {}

    range_id: int
    store_id: int
    primary: bool
    flow_bytes: float
    flow_keys: float
    flow_query: float = 0.0
    hot_degree: int = 0
    peer_store_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class StoreMetrics:
    """Instantaneous figures for one store; ``None`` means not measured this tick.

    These are what every subject measures; a subject adds its own on a subclass.
    """

    store_id: int
    reachable: bool = True
    qps: float | None = None
    p99_latency_ms: float | None = None
    p99_write_latency_ms: float | None = None
    cpu_ratio: float | None = None
    capacity_bytes: int | None = None
    available_bytes: int | None = None
    used_bytes: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(slots=True)
class ClusterMetrics:
    """Cluster-wide figures for the header and the ``tick`` event.

    The fields are what every subject measures; ``figures`` holds the rest under the
    subject's own names (plain JSON values), declared for display in
    ``SubjectConfig.cluster_figures``. Core passes them on without interpreting them.
    """

    stores_up: int = 0
    stores_total: int = 0
    qps: float = 0.0
    p99_latency_ms: float | None = None
    cluster_id: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class LogEvent:
    """A parsed log line; ``kind`` is a subject-defined category such as ``slow_request``.

    A subject that reads more from a line (the object it is about, an epoch) keeps it on a
    subclass and names that object in ``about``.
    """

    time: datetime
    level: str
    source: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    takes_ms: float | None = None
    kind: str = "other"
    store_id: int | None = None
    raw: str = ""

    @property
    def about(self) -> str:
        """What the line is about in the subject's words (``""``: the store as a whole)."""
        return ""


@dataclass(slots=True)
class Snapshot:
    """Everything one monitor tick observed. Invariants and the diagnosis read only this.

    ``extra["read_age_s"]``, when a subject sets it: observation name (as declared in
    ``SubjectConfig.observations``) -> seconds since the subject last read it, for the
    observations it does not read on every tick; front ends show that age.
    """

    taken_at: datetime
    stores: list[Store] = field(default_factory=list)
    hot_write_regions: list[HotRegion] = field(default_factory=list)
    store_metrics: dict[int, StoreMetrics] = field(default_factory=dict)
    cluster: ClusterMetrics = field(default_factory=ClusterMetrics)
    log_events: list[LogEvent] = field(default_factory=list)
    source: str = ""
    errors: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    measured: frozenset[int] | None = None
    """Stores whose ``store_metrics`` were measured this tick (the rest carried over from an
    earlier scrape); None: all of them. History adds a point only for these."""

    def store(self, store_id: int) -> Store | None:
        return next((s for s in self.stores if s.id == store_id), None)

    def pick_stores(
        self, limit: int, first: Iterable[int] = (), then: Iterable[int] = ()
    ) -> set[int]:
        """Every store of a small cluster; in a large one ``first``, then the stores not
        serving, then ``then``, then the lowest ids, up to ``limit``."""
        ids = sorted({s.id for s in self.stores} | set(self.store_metrics))
        if len(ids) <= limit:
            return set(ids)
        unhealthy = (s.id for s in self.stores if s.health.level is not Health.SERVING)
        chosen: dict[int, None] = {}
        for sid in chain(first, unhealthy, then, ids):
            chosen.setdefault(sid, None)
            if len(chosen) >= limit:
                break
        return set(chosen)


def violation_target(store_id: int | None) -> str:
    return "cluster" if store_id is None else f"store-{store_id}"


@dataclass(slots=True)
class Violation:
    """An invariant that does not hold right now (after its grace period)."""

    invariant: str
    severity: Severity
    message: str
    store_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return violation_target(self.store_id)

    @property
    def key(self) -> str:
        """Stable dedupe key ``invariant:target``."""
        return f"{self.invariant}:{self.target}"


@dataclass(slots=True)
class ActionResult:
    """What came of an action request; ``refused`` covers observe mode and unknown actions."""

    action: str
    args: dict[str, Any]
    ok: bool
    message: str
    refused: bool = False


@dataclass(frozen=True, slots=True)
class RecordTypes:
    """The classes a subject builds its records with, so a stored snapshot reads back as the
    subject's own records (with its fields), not core's bare ones."""

    store: type[Store] = Store
    metrics: type[StoreMetrics] = StoreMetrics
    hot: type[HotRegion] = HotRegion
    log_event: type[LogEvent] = LogEvent


PLAIN_RECORDS = RecordTypes()
