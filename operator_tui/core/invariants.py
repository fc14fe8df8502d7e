"""How long a condition must hold before it is a violation, and what a gap in measurement does.

A subject's checks turn each snapshot into ``Findings``: the conditions that hold
this tick, each with its grace period, and the keys whose signal was not measured.
``GraceTracker.settle`` turns them into violations. A condition becomes a
violation once it has held for its grace period, timed on the snapshot's own
clock (so tests and simulators drive time). A key that was not measured keeps its
timer, and if it was firing it is reported again as it was, marked
``details["stale"] = True``, so that a gap in measurement neither resolves nor
reopens a ticket; a key whose condition is false is cleared.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from operator_tui.core.types import Violation, violation_target


@dataclass(slots=True)
class Findings:
    """One tick's conditions that hold (with their grace periods) and keys not measured."""

    held: list[tuple[Violation, float]] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)

    def hold(self, violation: Violation, grace_s: float) -> None:
        self.held.append((violation, grace_s))

    def unmeasured(self, invariant: str, target_id: int | None) -> None:
        self.unknown.add(f"{invariant}:{violation_target(target_id)}")


class GraceTracker:
    """Keeps, per violation key, when its condition started and what last fired."""

    def __init__(self) -> None:
        self._since: dict[str, datetime] = {}
        self._firing: dict[str, Violation] = {}

    def reset(self) -> None:
        self._since.clear()
        self._firing.clear()

    def settle(self, found: Findings, now: datetime) -> list[Violation]:
        """Violations due at ``now``, most severe first; the first finding of a key wins."""
        active: set[str] = set()
        out: list[Violation] = []
        for violation, grace_s in found.held:
            key = violation.key
            if key in active:
                continue
            active.add(key)
            since = self._since.setdefault(key, now)
            held = max(0.0, (now - since).total_seconds())
            if held >= grace_s:
                violation.details["since"] = since.isoformat()
                violation.details["held_s"] = round(held, 3)
                out.append(violation)
        for key in list(self._since):
            if key not in active and key not in found.unknown:
                del self._since[key]
        for key in sorted(found.unknown - active):
            previous = self._firing.get(key)
            if previous is not None:
                out.append(
                    dataclasses.replace(previous, details={**previous.details, "stale": True})
                )
        self._firing = {v.key: v for v in out}
        out.sort(key=lambda v: (-v.severity.rank, v.key))
        return out
