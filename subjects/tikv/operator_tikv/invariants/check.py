"""How an invariant is declared: once, with its name, description, severity, grace and function.

A check is a function decorated with ``store_check`` (run once per live store)
or ``cluster_check`` (run once per tick). The decorator turns it into a
``Check``, which gives ``specs()`` its ``InvariantSpec`` and hands the function a
``Report`` that already knows the check's name, severity, grace and target: the
function says only what it found (``fire``) or that it could not tell
(``unmeasured``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from operator_tikv.invariants.reachability import CutOff
from operator_tikv.invariants.settings import InvariantSettings
from operator_tikv.records import TikvStore, TikvStoreMetrics
from operator_tui.core.invariants import Findings
from operator_tui.core.subject import InvariantSpec
from operator_tui.core.types import Severity, Snapshot, Violation


@dataclass(frozen=True, slots=True)
class StoreTick:
    """What a per-store check sees of one live store this tick."""

    store: TikvStore
    metrics: TikvStoreMetrics | None
    reachable: bool | None
    cut: CutOff | None
    now: datetime
    settings: InvariantSettings


@dataclass(frozen=True, slots=True)
class ClusterTick:
    """What a cluster check sees this tick."""

    snap: Snapshot
    settings: InvariantSettings
    unmeasured: frozenset[str]


_SAME: Any = object()


@dataclass(slots=True)
class Report:
    """One check's findings for one target; ``fired`` tells the checker it found something."""

    check: Check
    found: Findings
    settings: InvariantSettings
    store_id: int | None
    memory: Any = None
    fired: bool = False

    def fire(
        self,
        message: str,
        *,
        severity: Severity | None = None,
        store_id: int | None = _SAME,
        **details: Any,
    ) -> None:
        """The condition holds; ``severity`` below the declared one for a milder case."""
        target = self.store_id if store_id is _SAME else store_id
        violation = Violation(
            self.check.name,
            self.check.severity if severity is None else severity,
            message,
            target,
            details,
        )
        self.found.hold(violation, self.settings.grace(self.check.grace_s(self.settings)))
        self.fired = True

    def unmeasured(self, store_id: int | None = _SAME) -> None:
        """The signal was not measured: a pending or firing finding is kept, not cleared."""
        self.found.unmeasured(self.check.name, self.store_id if store_id is _SAME else store_id)


@dataclass(frozen=True, slots=True)
class Check:
    """A declared invariant. ``grace`` names the ``InvariantSettings`` field, ``None`` for none.

    ``exclusive`` (per-store checks): when it fires for a store, that store's other
    checks are not run, so a store that is down is not also reported slow or full.
    ``memory`` makes the state a check keeps between ticks (cleared by ``reset``).
    """

    name: str
    severity: Severity
    description: str | Callable[[InvariantSettings], str]
    scope: Literal["store", "cluster"]
    run: Callable[[Any, Report], None]
    grace: str | None = None
    exclusive: bool = False
    memory: Callable[[], Any] | None = None

    def grace_s(self, settings: InvariantSettings) -> float:
        """The grace period before ``grace_scale``."""
        return float(getattr(settings, self.grace)) if self.grace else 0.0

    def spec(self, settings: InvariantSettings) -> InvariantSpec:
        text = self.description
        return InvariantSpec(
            self.name,
            text if isinstance(text, str) else text(settings),
            self.severity,
            settings.grace(self.grace_s(settings)),
        )


def store_check(
    name: str,
    severity: Severity,
    description: str | Callable[[InvariantSettings], str],
    *,
    grace: str | None = None,
    exclusive: bool = False,
) -> Callable[[Callable[[StoreTick, Report], None]], Check]:
    def declare(run: Callable[[StoreTick, Report], None]) -> Check:
        return Check(name, severity, description, "store", run, grace, exclusive)

    return declare


def cluster_check(
    name: str,
    severity: Severity,
    description: str | Callable[[InvariantSettings], str],
    *,
    grace: str | None = None,
    memory: Callable[[], Any] | None = None,
) -> Callable[[Callable[[ClusterTick, Report], None]], Check]:
    def declare(run: Callable[[ClusterTick, Report], None]) -> Check:
        return Check(name, severity, description, "cluster", run, grace, memory=memory)

    return declare
