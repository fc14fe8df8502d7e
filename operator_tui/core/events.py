"""In-process publish/subscribe between the core and its front ends.

Every event is one of the ``--no-ui`` JSON-lines kinds (``tick``,
``ticket.opened``, ``diagnosis.chunk`` ...), so the headless printer is just a
subscriber that writes ``Event.to_json()``. Subscribers get their own bounded
queue; a slow subscriber loses its oldest events rather than stalling the core.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

EVENT_KINDS = frozenset(
    {
        "tick",
        "ticket.opened",
        "ticket.updated",
        "ticket.resolved",
        "ticket.recurred",
        "diagnosis.started",
        "diagnosis.chunk",
        "diagnosis.finished",
        "diagnosis.failed",
        "action.proposed",
        "action.refused",
        "action.done",
        "chaos",
        "monitor.paused",
        "monitor.resumed",
        "error",
    }
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Event:
    event: str
    data: dict[str, Any] = field(default_factory=dict)
    ts: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {"ts": self.ts.isoformat().replace("+00:00", "Z"), "event": self.event, **self.data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str, separators=(",", ":"))


class Subscription:
    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def put(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        return await self.queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class Tap(Subscription):
    """A subscriber that takes each event as it is published (it must not block)."""

    def __init__(self, bus: EventBus, fn: Callable[[Event], None]) -> None:
        super().__init__(bus, 1)
        self._fn = fn

    def put(self, event: Event) -> None:
        self._fn(event)


class EventBus:
    """Fan-out of core events; ``publish`` never blocks and never raises."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []

    def subscribe(self, maxsize: int = 10_000) -> Subscription:
        sub = Subscription(self, maxsize)
        self._subs.append(sub)
        return sub

    def tap(self, fn: Callable[[Event], None]) -> Subscription:
        """Call ``fn`` with every event from now on (the flight recorder's way in)."""
        sub = Tap(self, fn)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, event: str, **data: Any) -> Event:
        ev = Event(event, data)
        for sub in list(self._subs):
            sub.put(ev)
        return ev
