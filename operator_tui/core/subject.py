"""The contract between core and a subject (the system being operated).

Core knows subjects only through this module: a subject package registers a
``SubjectPlugin`` (``core.plugin``) under the entry-point group ``operator_tui.subjects``; the app
nests the plugin's ``settings_model`` as the subject's section of its settings,
hands that section over in a ``SubjectContext`` (with the HTTP client core owns)
and asks the plugin for a ``Subject``. Everything a front end or the agent lists (actions,
observations, SLOs, invariants) comes from ``Subject.describe()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import httpx

from operator_tui.core.diagnosis.schema import UNKNOWN_CAUSE
from operator_tui.core.incident import IncidentRules
from operator_tui.core.tools import Tool
from operator_tui.core.types import (
    PLAIN_RECORDS,
    ActionResult,
    ClusterMetrics,
    HotRegion,
    RecordTypes,
    Severity,
    Snapshot,
    Store,
    StoreMetrics,
    Violation,
)


@dataclass(frozen=True, slots=True)
class ActionArg:
    name: str
    type: str = "int"
    description: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    """A remediation the subject can perform; the agent may recommend only these."""

    name: str
    args: tuple[ActionArg, ...] = ()
    description: str = ""
    risk: str = "low"


@dataclass(frozen=True, slots=True)
class Observation:
    name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class SLO:
    name: str
    target: float
    grace_period_s: float
    description: str = ""


@dataclass(frozen=True, slots=True)
class InvariantSpec:
    """Declared invariant: what it checks, how urgent, how long it must hold before firing."""

    name: str
    description: str
    severity: Severity
    grace_period_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ComparedMetric:
    """A per-store figure a diagnosis compares with its baseline (a ``StoreMetrics`` field,
    or ``used_ratio``); ``floor`` is the smallest absolute move worth reporting."""

    name: str
    floor: float


@dataclass(frozen=True, slots=True)
class Figure:
    """A cluster-wide figure the subject measures under its own name (a key of
    ``ClusterMetrics.figures``), and how front ends show it.

    ``label``: its word in the header; ``lead``: shown before the store count (who answers
    for the cluster) rather than after it (how much it holds); ``event``: its field in the
    headless ``tick`` event, if it has one.
    """

    name: str
    label: str
    lead: bool = False
    event: str | None = None


@dataclass(frozen=True, slots=True)
class StoreFigure:
    """A per-store figure the subject keeps under its own name on its store (or store
    metrics) record, and how front ends show it.

    ``label``: its column heading and fact name; ``key``: its key in ``check --json``;
    ``column``: also a column of the stores table (else only on the store's own screen);
    ``digits``: decimals shown.
    """

    name: str
    label: str
    key: str
    column: bool = True
    digits: int = 0


@dataclass(frozen=True, slots=True)
class Measure:
    """How front ends word, scale and colour one per-store figure (a field of the subject's
    ``StoreMetrics`` or ``Store`` record, ``used_ratio``, or a figure it names itself).

    ``words``: the figure in words for people (``disk write latency p99``); ``unit``: one of
    ``ms``, ``us``, ``s``, ``ratio``, ``bytes``, ``bytes/s``, ``/s``, ``count`` or a word;
    ``warning``/``critical``: the thresholds the subject's invariant named in ``invariant``
    fires at (None: it has no such level); ``above``: whether higher is worse.
    """

    name: str
    words: str
    unit: str = ""
    warning: float | None = None
    critical: float | None = None
    invariant: str = ""
    above: bool = True


@dataclass(frozen=True, slots=True)
class SubjectConfig:
    """What the subject declares; the diagnosis fields tell core's diagnosers what it cannot know.

    ``root_cause_classes``: the causes a diagnosis may name (``unknown`` is always one).
    ``compared_metrics``: the figures compared with their baseline around a ticket.
    ``diagnosis_guide``: the subject's own notes for the model's system prompt.
    ``cluster_figures``: its figures beyond core's neutral ones that front ends show, in order.
    ``store_figures``: its per-store figures on its ``Store`` subclass, in order.
    ``metric_figures``: its per-store metrics on its ``StoreMetrics`` subclass that a
    store's history shows beside core's.
    ``measures``: the words, unit and invariant thresholds of its per-store figures.
    ``records``: the classes it builds its records with (read back from storage as such).
    ``incident_rules``: which tickets share a cause (``core.incident``); without them only
    the same symptom on the same target does.
    ``tools``: the read-only tools a diagnosis may call (``core.tools``), bound to this
    subject's readers.
    """

    name: str
    actions: tuple[Action, ...] = ()
    observations: tuple[Observation, ...] = ()
    slos: tuple[SLO, ...] = ()
    invariants: tuple[InvariantSpec, ...] = ()
    root_cause_classes: tuple[str, ...] = (UNKNOWN_CAUSE,)
    compared_metrics: tuple[ComparedMetric, ...] = ()
    diagnosis_guide: str = ""
    cluster_figures: tuple[Figure, ...] = ()
    store_figures: tuple[StoreFigure, ...] = ()
    metric_figures: tuple[StoreFigure, ...] = ()
    measures: tuple[Measure, ...] = ()
    records: RecordTypes = PLAIN_RECORDS
    incident_rules: IncidentRules | None = None
    tools: tuple[Tool, ...] = ()

    def __post_init__(self) -> None:
        if UNKNOWN_CAUSE not in self.root_cause_classes:
            object.__setattr__(
                self, "root_cause_classes", (*self.root_cause_classes, UNKNOWN_CAUSE)
            )

    def action(self, name: str) -> Action | None:
        return next((a for a in self.actions if a.name == name), None)

    def measure(self, name: str) -> Measure | None:
        return next((m for m in self.measures if m.name == name), None)


@dataclass(slots=True)
class SubjectContext:
    """What core hands a subject: its own settings section and the clients core owns and closes.

    ``settings`` is an instance of the plugin's ``settings_model``, already validated;
    ``clock`` replaces the wall clock (simulated time in tests and evaluations).
    """

    http: httpx.AsyncClient
    settings: Any
    interval_s: float = 2.0
    clock: Callable[[], datetime] | None = None


@runtime_checkable
class Subject(Protocol):
    name: str

    def describe(self) -> SubjectConfig: ...

    # Observations
    async def get_stores(self) -> list[Store]: ...
    async def get_hot_write_regions(self) -> list[HotRegion]: ...
    async def get_store_metrics(self, store_id: int) -> StoreMetrics: ...
    async def get_cluster_metrics(self) -> ClusterMetrics: ...

    async def observe(self) -> Snapshot:
        """One tick's observations. Raises ``SubjectUnreachable`` when nothing answers."""
        ...

    def evaluate(self, snapshot: Snapshot) -> list[Violation]:
        """Check invariants against a snapshot, honouring grace periods (state kept per key)."""
        ...

    async def execute(self, action: str, args: dict[str, Any]) -> ActionResult:
        """Run an action from ``describe().actions`` by name; an undeclared one or bad
        arguments are refused, never raised."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ActionCheck:
    """What a subject found around an action: before it, whether it may run (``done``: the
    change is already in place, nothing to run); after it, whether the change shows."""

    ok: bool
    message: str = ""
    done: bool = False


@runtime_checkable
class CheckedActions(Protocol):
    """A subject that checks an action against the live system before and after running it.

    ``current`` is what the recommendation saw (``RecommendedAction.current``); a system
    that no longer matches it is a reason to refuse.
    """

    async def precheck(
        self, action: str, args: dict[str, Any], current: dict[str, Any]
    ) -> ActionCheck: ...

    async def verify(self, action: str, args: dict[str, Any]) -> ActionCheck: ...


class SubjectError(Exception):
    """A subject failure with a message fit for one line on a user's screen."""


class SubjectUnreachable(SubjectError):
    """No endpoint of the subject answered this tick."""


@runtime_checkable
class Chaos(Protocol):
    """Kill and restart a store: the simulator's control API, or docker in the compose lab."""

    async def kill_store(self, store_id: int) -> str: ...
    async def start_store(self, store_id: int) -> str: ...


@dataclass(slots=True)
class DemoCluster:
    """A running embedded cluster: where to reach it and how to break it.

    ``settings`` are overrides of the subject's settings section that point it at this
    cluster (its endpoints, where its metrics and logs come from), keyed by field name.
    """

    endpoints: list[str]
    chaos: Chaos
    description: str = ""
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DemoOptions:
    """How to start the embedded demo cluster; ``params`` holds the subject's own settings
    for it, by the names its plugin reads (which refuses one it does not know)."""

    stores: int = 3
    seed: int = 42
    speed: float = 1.0
    max_store_down_time_s: float = 60.0
    port: int = 0
    workload: str = "zipfian"
    params: Mapping[str, Any] = field(default_factory=dict)
