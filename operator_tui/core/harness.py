"""The harness protocol: a subject's simulated cluster driven by a script, on its own clock.

The evaluation reaches a simulator only through this (``SubjectPlugin.harness``), so it
knows no subject: it starts the cluster, points the subject at ``endpoints().api`` with
``subject_settings()``, moves simulated time, and adds and clears faults by the names its
scenarios use. Which fault kinds exist is the subject's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable


class HarnessError(Exception):
    """A fault the harness cannot apply (no such target, wrong state), worded for one line."""


@dataclass(frozen=True, slots=True)
class HarnessOptions:
    """How to start the simulated cluster for one run.

    ``params`` holds the rest of a scenario's ``[sim]`` table, read by the subject's harness
    (which refuses a name it does not know).
    """

    stores: int = 3
    seed: int = 42
    speed: float = 1.0
    manual_clock: bool = True
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HarnessEndpoints:
    """Where the running cluster answers.

    ``api``: what the subject is pointed at (``SubjectContext.endpoints``); ``scrape``: the
    metrics targets (``host:port``) per scrape job, for a Prometheus beside the run;
    ``stores``: each store's own status URL.
    """

    api: tuple[str, ...]
    scrape: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stores: Mapping[int, str] = field(default_factory=dict)


@runtime_checkable
class SimHarness(Protocol):
    """A started simulated cluster (``async with``); time moves only through ``advance`` on a
    manual clock, or by itself at ``HarnessOptions.speed`` otherwise."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def now_ns(self) -> int:
        """Simulated time, nanoseconds since the Unix epoch."""
        ...

    def endpoints(self) -> HarnessEndpoints: ...

    def subject_settings(self) -> dict[str, Any]:
        """Settings the subject needs to read this cluster (its log route, for one)."""
        ...

    async def advance(self, seconds: float) -> None:
        """Move a manual clock on by ``seconds``, running everything due on the way."""
        ...

    async def add_fault(
        self, kind: str, store_id: int | None = None, params: Mapping[str, Any] | None = None
    ) -> str:
        """Inject a fault; returns the id ``clear_fault`` takes. Raises ``HarnessError``."""
        ...

    async def clear_fault(self, fault_id: str) -> None:
        """Undo a fault; a fault that cannot be undone (a move already made) clears as nothing."""
        ...
