"""PD readings whose answers change slowly: read every few ticks, not every tick.

PD builds its hot-region statistics from store heartbeats (every 10 s) and
region heartbeats (every 60 s); the region checks flag states that last minutes
(the under-replicated invariant waits 10 minutes); the schedule config changes
only when someone changes it. Reading them on every 2 s tick fetches the same
answers again: at 1000 stores the hot regions alone cost 7 ms of CPU a tick, and
during a store failure ``/regions/check/miss-peer`` lists every region that lost
a replica. Each group keeps its last answer until its period has passed, and the
groups start out of phase so they do not fall due on the same tick.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True, eq=False)
class Refresh:
    """One group of PD calls, its period, and its last complete answer (call name -> result)."""

    name: str
    names: tuple[str, ...]
    calls: Callable[[], dict[str, Awaitable[Any]]]
    every_s: float
    # Share of the period by which the second read comes early, to spread the groups.
    phase: float = 0.0
    answer: dict[str, Any] = field(default_factory=dict)
    read_at: float | None = None
    due_at: float | None = None

    def due(self, now: float, tolerance_s: float = 0.0) -> bool:
        """Never read, period passed (within ``tolerance_s`` of tick jitter), or clock went back."""
        if self.read_at is None or self.due_at is None or now < self.read_at:
            return True
        return now >= self.due_at - tolerance_s

    def keep(self, parts: dict[str, Any], now: float) -> bool:
        """Keep this tick's answer if every call of the group answered; else read again next tick."""
        if not all(name in parts for name in self.names):
            self.forget()
            return False
        first = self.read_at is None
        self.answer = {name: parts[name] for name in self.names}
        self.read_at = now
        self.due_at = now + self.every_s * ((1.0 - self.phase) if first else 1.0)
        return True

    def forget(self) -> None:
        """The next tick reads this group (after a failure, or a change the operator made)."""
        self.answer = {}
        self.read_at = self.due_at = None

    def age_s(self, now: float) -> float | None:
        return None if self.read_at is None else max(0.0, now - self.read_at)
