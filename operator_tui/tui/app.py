"""The full-screen operator: its lifecycle and the keys that work on every screen.

The app is a front end only. It opens (or is given) a runtime, runs the monitor, the agent
and the event pump as Textual workers, and sends commands through the ``Commands``
interface. What is drawn belongs to the screens: ``MainScreen`` (panes, filter, pane keys)
and the drill-downs, each handling the pump's messages it shows.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, suppress
from datetime import UTC, datetime
from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import App
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from operator_tui.config import Settings
from operator_tui.core.incident import Incident
from operator_tui.core.subject import DemoOptions
from operator_tui.core.text import plain
from operator_tui.core.ticket import Ticket
from operator_tui.core.types import LogEvent, Snapshot, StoreMetrics
from operator_tui.tui.cluster_keys import ClusterKeys
from operator_tui.tui.console_keys import ConsoleKeys
from operator_tui.tui.deploy_run import DeployRuns
from operator_tui.tui.format import one_line
from operator_tui.tui.host import Clock, Runtime
from operator_tui.tui.keys import app_bindings
from operator_tui.tui.palette import OperatorCommands
from operator_tui.tui.pump import EventPump
from operator_tui.tui.screens.help import HelpScreen
from operator_tui.tui.screens.main import MainScreen
from operator_tui.tui.widgets.header import MonitorState

log = logging.getLogger(__name__)
RuntimeFactory = Callable[[], AbstractAsyncContextManager[Runtime]]
NARROW_BELOW = 116
SHORT_BELOW = 30
TALL_FROM = 50
WATCHED_GROUPS = ("monitor", "agent", "events", "chaos", "tickets")


def utc_now() -> datetime:
    return datetime.now(UTC)


def freeze_start_up_heap() -> None:
    """Keep the objects start-up made out of every later full garbage collection.

    A generation-2 collection scans every tracked object; with Textual's start-up heap
    that took 30-80 ms, landing on whichever frame triggered it.
    """
    gc.collect()
    gc.freeze()


class OperatorApp(ConsoleKeys, ClusterKeys, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "operator-tui"
    BINDINGS = app_bindings()
    COMMANDS = App.COMMANDS | {OperatorCommands}

    def __init__(
        self,
        settings: Settings | None = None,
        demo: DemoOptions | None = None,
        *,
        runtime: Runtime | None = None,
        runtime_factory: RuntimeFactory | None = None,
        start_monitor: bool = True,
        start_agent: bool = True,
        clock: Clock | None = None,
        animate: bool = True,
    ) -> None:
        """Either ``settings`` (the app opens and closes the runtime itself) or a built ``runtime``.

        ``runtime_factory`` replaces ``open_runtime(settings, demo=demo)`` as the way the
        app opens its own runtime (scripts and snapshots use a manual-clock simulator).

        ``start_monitor=False`` leaves ticks to the caller (``await runtime.tick_once()``);
        ``clock`` and ``animate=False`` make ages and spinners deterministic for snapshots.
        """
        super().__init__()
        if runtime is None and settings is None:
            raise ValueError("OperatorApp needs settings or a runtime")
        self.settings: Settings = settings if settings is not None else Settings()
        self.demo_options = demo
        self.runtime: Runtime | None = runtime
        self.runtime_factory = runtime_factory
        self.start_monitor = start_monitor
        self.start_agent = start_agent
        self.clock: Clock = clock or utc_now
        self.spinners = animate
        self.pump: EventPump | None = None
        self.main = MainScreen()
        self.deploys = DeployRuns(self, self.clock)
        self._quit_requested = asyncio.Event()
        self._owned_runtime_worker: Worker[None] | None = None

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text: its messages carry addresses, errors and
        model text, so none is read as markup (``markup`` is accepted and ignored)."""
        super().notify(
            plain(message, multiline=True),
            title=plain(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def get_default_screen(self) -> MainScreen:
        return self.main

    def on_mount(self) -> None:
        self._fit(self.size.width, self.size.height)
        self.call_after_refresh(freeze_start_up_heap)
        if self.runtime is not None:
            self._attach_runtime(self.runtime)
        else:
            self._owned_runtime_worker = self.run_worker(
                self._own_runtime(), group="runtime", exit_on_error=False, name="runtime"
            )

    # ---------------------------------------------------------------- runtime
    async def _own_runtime(self) -> None:
        try:
            if self.runtime_factory is not None:
                opened = self.runtime_factory()
            else:
                from operator_tui.bootstrap import open_runtime

                opened = open_runtime(self.settings, demo=self.demo_options)
            async with opened as runtime:
                self._attach_runtime(runtime)
                await self._quit_requested.wait()
                await self._stop_workers()
        except Exception as exc:
            self.exit(2, return_code=2, message=Text(f"operator-tui: error: {one_line(exc)}"))

    def _attach_runtime(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.pump = EventPump(self, runtime.bus.subscribe(), self.clock)
        self.run_worker(self.pump.run(), group="events", name="events", exit_on_error=False)
        if self.start_monitor:
            self.run_worker(
                runtime.run_monitor(), group="monitor", name="monitor", exit_on_error=False
            )
        if self.start_agent:
            self.run_worker(runtime.run_agent(), group="agent", name="agent", exit_on_error=False)
        if self.main.ready:
            self.main.runtime_attached()

    async def _stop_workers(self) -> None:
        workers = [w for w in self.workers if w.group in ("monitor", "agent", "events")]
        for worker in workers:
            worker.cancel()
        with suppress(Exception):
            await asyncio.wait_for(
                asyncio.gather(*(w.wait() for w in workers), return_exceptions=True), 5
            )

    async def action_quit(self) -> None:
        self._quit_requested.set()
        if self._owned_runtime_worker is not None and self._owned_runtime_worker.is_running:
            with suppress(Exception):
                await asyncio.wait_for(self._owned_runtime_worker.wait(), 15)
        await self.deploys.aclose()
        self.exit(0)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.group in WATCHED_GROUPS:
            message = (
                f"{worker.group} stopped: {one_line(worker.error) if worker.error else 'error'}"
            )
            self.report_failure(message)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Below 116 columns the lower panes stack and the stores table drops address and trend."""
        narrow = width < NARROW_BELOW
        self.set_class(narrow, "narrow")
        self.set_class(height < SHORT_BELOW, "short")
        self.set_class(height >= TALL_FROM, "tall")
        if self.main.ready:
            self.main.fit(narrow)

    async def settle(self, limit_s: float = 5.0) -> None:
        """Wait (bounded) until every published event has reached the screens; for tests and scripts."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        if self.pump is not None:
            await self.pump.settled(limit_s)
        while loop.time() < deadline:
            busy = [
                w
                for w in self.workers
                if w.group in ("tickets", "ticket-load")
                and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            ]
            if not busy:
                return
            await asyncio.sleep(0.02)

    # ------------------------------------------------------- what screens read
    @property
    def is_demo(self) -> bool:
        return self.demo_options is not None

    @property
    def last_tick_at(self) -> datetime | None:
        return self.pump.last_tick_at if self.pump is not None else None

    def latest_snapshot(self) -> Snapshot | None:
        return self.runtime.latest_snapshot if self.runtime is not None else None

    def metric_history(self, store_id: int) -> Sequence[tuple[datetime, StoreMetrics]]:
        return self.runtime.metric_history(store_id) if self.runtime is not None else ()

    def metric_tail(self, store_id: int, n: int) -> Sequence[tuple[datetime, StoreMetrics]]:
        """The last ``n`` points of a store's history: what a pane redrawn every tick reads."""
        return self.runtime.metric_tail(store_id, n) if self.runtime is not None else ()

    def metric_since(
        self, store_id: int, since: datetime
    ) -> Sequence[tuple[datetime, StoreMetrics]]:
        return self.runtime.metric_since(store_id, since) if self.runtime is not None else ()

    def log_events(self, store_id: int | None, limit: int) -> list[LogEvent]:
        return self.runtime.recent_log_events(store_id, limit) if self.runtime is not None else []

    def tickets(self) -> list[Ticket]:
        return self.main.tickets

    def incidents(self) -> list[Incident]:
        return self.main.incidents if self.main.ready else []

    def monitor_state(self) -> MonitorState:
        runtime, pump = self.runtime, self.pump
        snapshot = self.latest_snapshot()
        name = self.settings.subject
        if snapshot is not None and snapshot.cluster.cluster_id and not self.has_class("narrow"):
            name = f"{name} {snapshot.cluster.cluster_id}"
        return MonitorState(
            name=name,
            interval_s=runtime.interval_s
            if runtime is not None
            else self.settings.monitor.interval_s,
            mode=runtime.actions_mode if runtime is not None else self.settings.actions.mode,
            paused=runtime.paused if runtime is not None else False,
            demo=self.is_demo,
            last_tick_at=pump.last_tick_at if pump is not None else None,
            last_tick_error=pump.last_tick_error if pump is not None else None,
            figures=runtime.config.cluster_figures if runtime is not None else (),
        )

    # ------------------------------------------------------------ global keys
    def get_system_commands(self, screen):
        """Textual's own entries without the ones the app's keys already list (q, t, ?)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Theme", "Keys"):
                yield command

    def action_command_line(self) -> None:
        from operator_tui.tui.screens.command_line import CommandLine

        self.push_screen(CommandLine(), self.run_command)

    def run_command(self, line: str | None) -> None:
        """Run a ``:`` command: panes here, views by the app's ``open_*`` actions."""
        from operator_tui.tui.screens.command_line import parse

        if not line:
            return
        verb, args = parse(line)
        panes = {
            "stores": "stores",
            "regions": "hot",
            "hot": "hot",
            "incidents": "tickets",
            "tickets": "tickets",
        }
        if verb in ("q", "quit"):
            self.run_worker(self.action_quit(), name="quit")
            return
        if verb == "help":
            self.action_help()
            return
        if verb in panes:
            while self.screen is not self.main and len(self.screen_stack) > 1:
                self.pop_screen()
            self.main.action_focus_pane(panes[verb])
            return
        views = {
            "logs": "open_logs",
            "fault": "open_faults",
            "graphs": "open_graphs",
            "endpoints": "open_endpoints",
        }
        action = views.get(verb)
        if action is None:
            self.main.note(
                f":{plain(line)}: unknown command (try :stores, :regions, :incidents, :q)", "yellow"
            )
            return
        if not hasattr(self, f"action_{action}"):
            self.main.note(f":{plain(line)}: no such view here", "yellow")
            return
        params = ", ".join(repr(int(a)) if a.isdigit() else repr(a) for a in args)
        self.run_worker(self.run_action(f"{action}({params})"), name="command")

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
        else:
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_toggle_pause(self) -> None:
        if (runtime := self._runtime_or_say()) is None:
            return
        if runtime.paused:
            runtime.resume()
            self.notify("monitoring resumed")
        else:
            runtime.pause()
            self.notify("monitoring paused; p resumes, r still ticks once")
        self.main.draw_header()

    def action_tick_now(self) -> None:
        if (runtime := self._runtime_or_say()) is None:
            return
        if not self.start_monitor:
            self.notify(
                "the monitor loop is not running here; ticks are driven by the caller",
                severity="warning",
            )
            return
        runtime.tick_now()
        self.notify("tick requested")

    def action_interval(self, delta: float) -> None:
        if (runtime := self._runtime_or_say()) is None:
            return
        current = runtime.interval_s
        wanted = max(1.0, current + delta)
        if wanted == current:
            self.notify("the interval is already at its 1 s floor", severity="warning")
            return
        in_force = runtime.set_interval(wanted)
        self.notify(f"refresh interval {in_force:g} s")
        self.main.draw_header()


def run_tui(settings: Settings, demo: DemoOptions | None = None, record: Path | None = None) -> int:
    """Run the full-screen app until the user quits; returns the process exit code.

    Log records go to Textual's devtools console, never to the terminal the app draws on.
    """
    from textual.logging import TextualHandler

    root = logging.getLogger()
    root.handlers[:] = [TextualHandler()]
    root.setLevel(settings.log_level)
    factory = None
    if record is not None:
        from operator_tui.bootstrap import open_runtime

        def factory() -> AbstractAsyncContextManager[Runtime]:
            return open_runtime(settings, demo=demo, record=record)

    app = OperatorApp(settings, demo, runtime_factory=factory)
    app.run()
    return app.return_code or 0
