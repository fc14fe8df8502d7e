"""Early ticks: a subject that notices a change between ticks asks the monitor to look now.

A subject that implements ``Watched`` runs ``watch(wake)`` beside the monitor's loop and
calls ``wake(Wake(...))`` the moment it sees something move (a connection closed, a primary
changed). The monitor asks the wake's ``confirm`` probe once, since one dropped connection
is not a fault, and on a yes runs a tick at once: that tick gathers the evidence and opens
the ticket, as any tick does. ``WakeLimits`` keeps this from becoming a second clock: at
most one early tick per key per interval, and at most ``per_second`` early ticks in any
second over the whole subject; wakes that come together share one tick.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Wake:
    """``key``: what to look at, in the subject's words (one early tick per key per
    interval); ``reason``: what was seen, for people; ``confirm``: one probe that answers
    whether the change is real (None: the sighting is its own proof)."""

    key: str
    reason: str
    confirm: Callable[[], Awaitable[bool]] | None = None


WakeFn = Callable[[Wake], None]


@runtime_checkable
class Watched(Protocol):
    """A subject that watches between ticks. ``watch`` runs until cancelled; it must bound
    its own reconnects and never raise for what it watches."""

    async def watch(self, wake: WakeFn) -> None: ...


class WakeLimits:
    """How often wakes may turn into ticks, on a monotonic clock's seconds.

    ``per_key_s``: the least time between two early ticks for one key (the monitor's
    interval). ``per_second``: the most early ticks in any one-second window.
    """

    def __init__(self, per_key_s: float, per_second: int) -> None:
        self.per_key_s = per_key_s
        self.per_second = per_second
        self._last: dict[str, float] = {}
        self._recent: deque[float] = deque()

    def key_ready(self, key: str, now: float) -> bool:
        last = self._last.get(key)
        return last is None or now - last >= self.per_key_s

    def wait_s(self, now: float) -> float:
        """Seconds until one more early tick fits in the one-second window (0: now)."""
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) < self.per_second:
            return 0.0
        return self._recent[0] + 1.0 - now

    def take(self, keys: list[str], now: float) -> None:
        """Count one early tick for ``keys``."""
        self._recent.append(now)
        for key in keys:
            self._last[key] = now
        if len(self._last) > 4096:
            self._last = {k: t for k, t in self._last.items() if now - t < self.per_key_s}
