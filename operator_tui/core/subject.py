"""The contract between core and a subject (the system being operated).

Core knows subjects only through this module: a subject package registers a
``SubjectPlugin`` under the entry-point group ``operator_tui.subjects``; core
builds a ``SubjectContext`` (with the HTTP client it owns) and asks the plugin
for a ``Subject``. Everything a front end or the agent lists (actions,
observations, SLOs, invariants) comes from ``Subject.describe()``.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from operator_tui.core.types import (
    ActionResult,
    ClusterMetrics,
    HotRegion,
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
class SubjectConfig:
    name: str
    actions: tuple[Action, ...] = ()
    observations: tuple[Observation, ...] = ()
    slos: tuple[SLO, ...] = ()
    invariants: tuple[InvariantSpec, ...] = ()

    def action(self, name: str) -> Action | None:
        return next((a for a in self.actions if a.name == name), None)


@dataclass(slots=True)
class SubjectContext:
    """What core hands a subject: endpoints from settings and clients core owns and closes."""

    http: httpx.AsyncClient
    endpoints: list[str]
    prometheus_url: str | None = None
    metrics_source: str = "auto"
    interval_s: float = 2.0
    options: dict[str, Any] = field(default_factory=dict)


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

    # Actions
    async def transfer_leader(self, region_id: int, to_store_id: int) -> ActionResult: ...
    async def split_region(self, region_id: int) -> ActionResult: ...
    async def set_leader_schedule_limit(self, n: int) -> ActionResult: ...
    async def set_replica_schedule_limit(self, n: int) -> ActionResult: ...
    async def set_region_schedule_limit(self, n: int) -> ActionResult: ...
    async def drain_store(self, store_id: int) -> ActionResult: ...
    async def set_low_space_threshold(self, percent: float) -> ActionResult: ...

    async def execute(self, action: str, args: dict[str, Any]) -> ActionResult:
        """Dispatch a declared action by name; an undeclared one is refused, never raised."""
        ...

    async def aclose(self) -> None: ...


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
    """A running embedded cluster: where to reach it and how to break it."""

    endpoints: list[str]
    chaos: Chaos
    description: str = ""
    prometheus_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DemoOptions:
    stores: int = 3
    regions: int = 100
    seed: int = 42
    speed: float = 1.0
    max_store_down_time_s: float = 60.0
    port: int = 0
    workload: str = "zipfian"


@runtime_checkable
class SubjectPlugin(Protocol):
    """What a subject package registers under the ``operator_tui.subjects`` entry-point group."""

    name: str

    def create(self, ctx: SubjectContext) -> Subject: ...

    def demo(self, options: DemoOptions) -> AbstractAsyncContextManager[DemoCluster]:
        """Start the subject's simulated cluster in this process, on loopback ports."""
        ...

    def sim_main(self, argv: list[str]) -> int:
        """Run the simulated cluster standalone (``operator-tui sim``); returns an exit code."""
        ...
