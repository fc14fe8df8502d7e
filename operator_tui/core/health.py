"""``/healthz`` for orchestrators: healthy while the monitor's ticks keep coming.

A liveness probe should restart the operator when its loop is stuck, not when the cluster is
down (an unreachable cluster still ticks, as ``reachable=false``). So the answer depends only on
how long ago the last ``tick`` event was published: 200 within ``stale_after_s``, 503 after it,
and 503 before the first tick once the same grace has passed since start. A paused monitor is
healthy (a person paused it). The server speaks just enough HTTP/1.1 for probes, on asyncio
streams, so the app needs no web framework for one route.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from operator_tui.core.events import Event, EventBus

REQUEST_TIMEOUT_S = 5.0
MAX_HEADER_LINES = 100


@dataclass(slots=True)
class TickWatch:
    """When the last tick came; ``stale_after_s`` is how long a silence is still healthy."""

    stale_after_s: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    last_tick: float | None = None
    ticks: int = 0
    reachable: bool | None = None
    paused: bool = False

    def __post_init__(self) -> None:
        self.started = self.clock()

    def seen(self, event: Event) -> None:
        if event.event == "tick":
            self.last_tick = self.clock()
            self.ticks += 1
            self.reachable = bool(event.data.get("reachable", True))
        elif event.event == "monitor.paused":
            self.paused = True
        elif event.event == "monitor.resumed":
            self.paused = False
            self.last_tick = self.clock()

    def status(self) -> tuple[bool, dict[str, Any]]:
        now = self.clock()
        since = now - (self.last_tick if self.last_tick is not None else self.started)
        healthy = self.paused or since <= self.stale_after_s
        body: dict[str, Any] = {
            "status": "ok" if healthy else "stale",
            "ticks": self.ticks,
            "seconds_since_tick": None if self.last_tick is None else round(since, 1),
            "stale_after_s": self.stale_after_s,
            "cluster_reachable": self.reachable,
            "paused": self.paused,
        }
        return healthy, body


def stale_after(interval_s: float) -> float:
    """Three missed ticks, and never under 30 s (a tick against a slow cluster takes seconds)."""
    return max(30.0, 3 * interval_s)


async def follow(watch: TickWatch, bus: EventBus) -> None:
    """Feed ``watch`` from the bus until cancelled."""
    sub = bus.subscribe()
    try:
        while True:
            watch.seen(await sub.get())
    finally:
        sub.close()


async def start_health_server(watch: TickWatch, host: str, port: int) -> asyncio.Server:
    """Serve ``GET /healthz`` (and ``HEAD``) on ``host:port``; port 0 picks a free one."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                request = (await reader.readline()).decode("latin-1").split()
                for _ in range(MAX_HEADER_LINES):
                    if (await reader.readline()) in (b"\r\n", b"\n", b""):
                        break
            code, body = _answer(watch, request)
            payload = json.dumps(body, separators=(",", ":")).encode() + b"\n"
            head = (
                f"HTTP/1.1 {code} {_REASONS[code]}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            writer.write(head if request[:1] == ["HEAD"] else head + payload)
            await writer.drain()
        except (TimeoutError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await writer.wait_closed()

    return await asyncio.start_server(handle, host, port)


_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


def _answer(watch: TickWatch, request: list[str]) -> tuple[int, dict[str, Any]]:
    method, target = [*request, "", ""][:2]
    if target.split("?", 1)[0] != "/healthz":
        return 404, {"error": "not found: only /healthz is served"}
    if method not in ("GET", "HEAD"):
        return 405, {"error": "only GET and HEAD"}
    healthy, body = watch.status()
    return (200 if healthy else 503), body
