"""Bus events to typed messages, delivered to every screen on the stack.

The pump drains the app's bus subscription in batches (thousands of events can arrive in
one tick at 1000 stores) and turns each batch into at most one ``TickObserved``, one
``TicketsChanged`` and the diagnosis messages in order, so a pane redraws once per batch.
It keeps the text of each diagnosis being streamed: that is the only copy, read by a
ticket screen opened in the middle of a stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from time import monotonic
from typing import Any

from textual.app import App
from textual.message import Message

from operator_tui.core.events import Event, Subscription
from operator_tui.tui.format import one_line
from operator_tui.tui.messages import (
    DiagnosisChunk,
    DiagnosisEnded,
    DiagnosisStarted,
    DiagnosisStep,
    EventsArrived,
    MonitorChanged,
    Note,
    TicketsChanged,
    TickObserved,
)

log = logging.getLogger(__name__)
BATCH = 2000
MessageFactory = Callable[[], Message]


def broadcast(app: App[Any], make: MessageFactory) -> None:
    """Post a fresh message to each screen on the stack (a message is posted once)."""
    for screen in app.screen_stack:
        screen.post_message(make())


def ticket_id_of(data: dict[str, Any]) -> Any:
    ticket_id = data.get("ticket_id")
    if ticket_id is None and isinstance(data.get("ticket"), dict):
        ticket_id = data["ticket"].get("id")
    return ticket_id


class EventPump:
    def __init__(self, app: App[Any], sub: Subscription, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.sub = sub
        self.clock = clock
        self.busy = False
        self.last_tick_at: datetime | None = None
        self.last_tick_error: str | None = None
        self._live: dict[int, str] = {}
        self._steps: dict[int, list[dict[str, Any]]] = {}

    def live_text(self, ticket_id: int) -> str | None:
        """Text streamed so far for a diagnosis in progress, or None when none is streaming."""
        return self._live.get(ticket_id)

    def live_steps(self, ticket_id: int) -> list[dict[str, Any]] | None:
        """Tool calls ended so far in a diagnosis in progress, or None when none is running."""
        return self._steps.get(ticket_id)

    def broadcast(self, make: MessageFactory) -> None:
        broadcast(self.app, make)

    async def run(self) -> None:
        sub = self.sub
        try:
            while True:
                batch = [await sub.get()]
                self.busy = True
                try:
                    while not sub.queue.empty() and len(batch) < BATCH:
                        batch.append(sub.queue.get_nowait())
                    for make in self.translate(batch, self.clock()):
                        self.broadcast(make)
                except Exception as exc:
                    # One bad batch must not stop the panes from following the cluster.
                    log.exception("event pump: %d events failed", len(batch))
                    self.broadcast(
                        partial(Note, f"display error: {one_line(exc)}", self.clock(), "bold red")
                    )
                finally:
                    self.busy = False
        finally:
            sub.close()

    def translate(self, batch: list[Event], now: datetime) -> list[MessageFactory]:
        shown: list[Event] = []
        out: list[MessageFactory] = []
        notes: list[MessageFactory] = []
        tick: MessageFactory | None = None
        monitor = False
        tickets: set[int] = set()
        changed = False
        for event in batch:
            try:
                kind = event.event
                ticket_id = ticket_id_of(event.data)
                if kind == "tick":
                    reachable = bool(event.data.get("reachable", True))
                    error = None if reachable else str(event.data.get("error") or "unreachable")
                    self.last_tick_at, self.last_tick_error = now, error
                    tick = partial(TickObserved, now, reachable, error)
                elif kind in ("monitor.paused", "monitor.resumed"):
                    monitor = True
                elif kind == "diagnosis.started" and ticket_id is not None:
                    self._live[ticket_id] = ""
                    self._steps[ticket_id] = []
                    out.append(partial(DiagnosisStarted, ticket_id))
                    changed = True
                elif kind == "diagnosis.chunk" and ticket_id is not None:
                    text = event.data.get("text")
                    chunk = text if isinstance(text, str) else ""
                    self._live[ticket_id] = self._live.get(ticket_id, "") + chunk
                    out.append(partial(DiagnosisChunk, ticket_id, chunk))
                elif kind == "diagnosis.step" and ticket_id is not None:
                    step = event.data.get("step")
                    if isinstance(step, dict):
                        if not isinstance(step.get("at"), int):
                            # A recording made before steps carried their place: it is here.
                            step = {**step, "at": len(self._live.get(ticket_id, ""))}
                        self._steps.setdefault(ticket_id, []).append(step)
                        out.append(partial(DiagnosisStep, ticket_id, step))
                elif kind in ("diagnosis.finished", "diagnosis.failed"):
                    if ticket_id is not None:
                        self._live.pop(ticket_id, None)
                        self._steps.pop(ticket_id, None)
                        out.append(partial(DiagnosisEnded, ticket_id, kind.endswith("failed")))
                    changed = True
                elif kind.startswith("ticket."):
                    changed = True
                elif kind.startswith("incident."):
                    changed = True
                    incident = event.data.get("incident")
                    members = incident.get("tickets") if isinstance(incident, dict) else None
                    tickets.update(t for t in members or () if isinstance(t, int))
                if isinstance(ticket_id, int) and not kind.startswith("diagnosis."):
                    tickets.add(ticket_id)
                shown.append(event)
            except Exception as exc:
                log.exception("event pump: %s event failed", event.event)
                text = f"display error on {event.event}: {one_line(exc)}"
                notes.append(partial(Note, text, now, "bold red"))
        if tick is not None:
            out.append(tick)
        elif monitor:
            out.append(MonitorChanged)
        if changed or tickets:
            out.append(partial(TicketsChanged, frozenset(tickets)))
        return [partial(EventsArrived, shown, now), *notes, *out]

    async def settled(self, limit_s: float = 5.0) -> bool:
        """True once every event published so far has been handled by every screen.

        A screen handles its messages in order, so a callback queued behind them runs once
        they are done; two rounds cover a message one screen posts to another meanwhile.
        """
        deadline = monotonic() + limit_s
        rounds = 0
        while monotonic() < deadline:
            await asyncio.sleep(0.02)
            if not self.sub.queue.empty() or self.busy:
                rounds = 0
                continue
            done = []
            for screen in self.app.screen_stack:
                handled = asyncio.Event()
                screen.call_later(handled.set)
                done.append(handled.wait())
            try:
                await asyncio.wait_for(asyncio.gather(*done), max(0.0, deadline - monotonic()))
            except TimeoutError:
                return False
            rounds += 1
            if rounds == 2 and self.sub.queue.empty() and not self.busy:
                return True
        return False
