"""The ``--no-ui`` front end: the core's events as JSON lines on stdout, human logs on stderr.

Every line is one ``Event.to_json()`` object with ``ts`` and ``event``:
``tick``, ``ticket.opened``/``ticket.updated``/``ticket.resolved`` (with
``ticket``), ``incident.opened``/``incident.updated``/``incident.resolved`` (with
``incident``), ``diagnosis.started``, ``diagnosis.chunk`` (only with
``--stream``), ``diagnosis.finished`` (with ``diagnosis``),
``diagnosis.failed``, ``error``, plus ``action.*``, ``chaos`` and
``monitor.*``. SIGTERM and SIGINT stop the loops, print the events already
published, and exit 0 (1 only if a loop crashed).

With ``log_format="json"`` (a container's collector reads one stream) the logs join the events
on stdout as ``{"ts", "event": "log", "level", "logger", "message"}`` lines. With a health
address, ``GET /healthz`` answers 200 while ticks come and 503 once they stop
(``operator_tui.core.health``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from operator_tui.bootstrap import open_runtime
from operator_tui.config import Settings
from operator_tui.core.diagnosis.base import Diagnoser
from operator_tui.core.events import Event, EventBus, Subscription, utcnow
from operator_tui.core.health import TickWatch, follow, stale_after, start_health_server
from operator_tui.core.plugin import SubjectPlugin
from operator_tui.core.runtime import OperatorRuntime
from operator_tui.core.subject import DemoOptions
from operator_tui.core.text import PlainFormatter, plain
from operator_tui.core.urls import mask_url

log = logging.getLogger("operator_tui.headless")


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record, shaped like the events (``ts``, ``event: "log"``)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": utcnow().isoformat().replace("+00:00", "Z"),
            "event": "log",
            "level": record.levelname,
            "logger": record.name,
            "message": plain(record.getMessage(), multiline=True, limit=None),
        }
        if record.exc_info:
            line["exception"] = plain(
                self.formatException(record.exc_info), multiline=True, limit=None
            )
        return json.dumps(line, separators=(",", ":"))


def configure_logging(level: str, log_format: str = "text") -> None:
    """Human lines on stderr, or with ``log_format="json"`` JSON lines on stdout."""
    if log_format == "json":
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonLinesFormatter())
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "httpx2", "httpcore2"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


class Printer:
    """Writes events as JSON lines; ``diagnosis.chunk`` only when streaming."""

    def __init__(self, sub: Subscription, out: TextIO, *, stream: bool) -> None:
        self.sub = sub
        self.out = out
        self.stream = stream
        self.broken = False

    def write(self, event: Event) -> None:
        if self.broken or (event.event == "diagnosis.chunk" and not self.stream):
            return
        try:
            self.out.write(event.to_json() + "\n")
            self.out.flush()
        except (BrokenPipeError, ValueError):
            self.broken = True

    async def run(self) -> None:
        while True:
            self.write(await self.sub.get())

    def drain(self) -> None:
        while not self.sub.queue.empty():
            self.write(self.sub.queue.get_nowait())


def _where(settings: Settings) -> str:
    """The subject's endpoints for the start-up line, when its section names them (``pd``)."""
    endpoints = getattr(settings.subject_settings, "pd", None)
    return ", ".join(map(mask_url, endpoints)) if endpoints else "the configured cluster"


async def _print_endpoints(rt: OperatorRuntime, err: TextIO) -> None:
    """Where a simulated cluster answers (its API, metrics and control routes), one per line
    on stderr, so a script can break it without hunting ports; stdout stays JSON lines."""
    try:
        endpoints = await rt.endpoints()
    except Exception as exc:
        log.warning("cannot list the cluster's endpoints: %s", exc)
        return
    for endpoint in endpoints:
        print(f"operator-tui: {plain(endpoint.name)}: {plain(endpoint.url)}", file=err, flush=True)


async def _serve_health(
    rt: OperatorRuntime,
    bus: EventBus,
    health: tuple[str, int] | None,
    on_health: Callable[[int], None] | None,
) -> tuple[asyncio.Task[None] | None, asyncio.Server | None]:
    if health is None:
        return None, None
    watch = TickWatch(stale_after(rt.interval_s))
    watching = asyncio.create_task(follow(watch, bus), name="health")
    server = await start_health_server(watch, *health)
    port = int(server.sockets[0].getsockname()[1])
    log.info("health: http://%s:%d/healthz", health[0], port)
    if on_health is not None:
        on_health(port)
    return watching, server


async def run_headless(
    settings: Settings,
    *,
    demo: DemoOptions | None = None,
    stream: bool = False,
    out: TextIO | None = None,
    stop: asyncio.Event | None = None,
    plugin: SubjectPlugin | None = None,
    diagnoser: Diagnoser | None = None,
    record: Path | None = None,
    err: TextIO | None = None,
    health: tuple[str, int] | None = None,
    on_health: Callable[[int], None] | None = None,
) -> int:
    """Run monitor and agent until ``stop`` is set (SIGTERM/SIGINT set it). Startup errors propagate."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        # No loop signal handlers on Windows or off the main thread (tests): fall back to
        # KeyboardInterrupt for SIGINT, and the caller's ``stop`` event.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    failed = False
    bus = EventBus()
    printer = Printer(bus.subscribe(), out or sys.stdout, stream=stream)
    try:
        async with open_runtime(
            settings, demo=demo, plugin=plugin, diagnoser=diagnoser, bus=bus, record=record
        ) as rt:
            log.info(
                "operator-tui headless: subject %s, %s, interval %gs, diagnosis %s, actions %s",
                rt.config.name,
                "demo cluster" if demo else _where(settings),
                rt.interval_s,
                rt.diagnoser.backend,
                settings.actions.mode,
            )
            await _print_endpoints(rt, err or sys.stderr)
            watching, server = await _serve_health(rt, bus, health, on_health)
            printing = asyncio.create_task(printer.run(), name="printer")
            loops = [
                asyncio.create_task(rt.run_monitor(), name="monitor"),
                asyncio.create_task(rt.run_agent(), name="agent"),
            ]
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([stopping, *loops], return_when=asyncio.FIRST_COMPLETED)
            for task in [stopping, *loops]:
                task.cancel()
            results = await asyncio.gather(*loops, return_exceptions=True)
            printing.cancel()
            await asyncio.gather(printing, return_exceptions=True)
            if server is not None and watching is not None:
                server.close()
                watching.cancel()
                await asyncio.gather(watching, server.wait_closed(), return_exceptions=True)
            for task, result in zip(loops, results, strict=True):
                if isinstance(result, Exception):
                    failed = True
                    log.error("%s loop failed: %s", task.get_name(), result)
                    bus.publish("error", message=f"{task.get_name()} loop failed: {result}")
            printer.drain()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    log.info("operator-tui headless: stopped")
    return 1 if failed else 0
