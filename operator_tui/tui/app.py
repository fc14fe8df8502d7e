"""The full-screen operator: live panes over the core, drill-down screens, and keys that act on the cluster.

The app is a front end only. It reads the runtime's latest snapshot, its
tickets and its event bus, and sends commands through the ``Commands``
interface. The monitor loop, the agent and the event pump each run as a
Textual worker with its own group; nothing on the UI path awaits network or
disk except through a worker.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, suppress
from datetime import UTC, datetime
from time import monotonic
from typing import Any, Protocol

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerState

from operator_tui.config import Settings
from operator_tui.core.commands import Commands
from operator_tui.core.events import Event, EventBus, Subscription
from operator_tui.core.subject import DemoOptions
from operator_tui.core.ticket import Ticket
from operator_tui.core.types import LogEvent, Snapshot, Store, StoreMetrics
from operator_tui.tui.keys import app_bindings
from operator_tui.tui.palette import OperatorCommands
from operator_tui.tui.screens.approve import ApproveScreen
from operator_tui.tui.screens.confirm import ConfirmScreen
from operator_tui.tui.screens.deploy import DeployScreen
from operator_tui.tui.screens.help import HelpScreen
from operator_tui.tui.screens.store import StoreScreen
from operator_tui.tui.screens.ticket import TicketScreen
from operator_tui.tui.widgets.event_strip import EventStrip
from operator_tui.tui.widgets.header import ClusterHeader, MonitorState
from operator_tui.tui.widgets.hot_regions import HotRegionsTable
from operator_tui.tui.widgets.row_table import RowTable
from operator_tui.tui.widgets.stores import StoresTable
from operator_tui.tui.widgets.tickets import TicketTable

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
RuntimeFactory = Callable[[], AbstractAsyncContextManager["Runtime"]]
TICKET_LIMIT = 1000
PANES = {"stores": "#stores", "hot": "#hot", "tickets": "#tickets"}
NARROW_BELOW = 116
SHORT_BELOW = 30


class Runtime(Commands, Protocol):
    """What the app needs beyond ``Commands``: ``OperatorRuntime`` provides all of it."""

    settings: Settings
    subject: Any
    bus: EventBus

    async def run_monitor(self) -> None: ...
    async def run_agent(self) -> None: ...
    async def tick_once(self) -> Any: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def freeze_start_up_heap() -> None:
    """Keep the objects start-up made out of every later full garbage collection.

    A generation-2 collection scans every tracked object; with Textual's start-up heap
    that took 30-80 ms, landing on whichever frame triggered it.
    """
    gc.collect()
    gc.freeze()


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class OperatorApp(App[int]):
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
        self.settings: Settings = settings if settings is not None else runtime.settings  # type: ignore[union-attr]
        self.demo_options = demo
        self.runtime: Runtime | None = runtime
        self.runtime_factory = runtime_factory
        self.last_tick_at: datetime | None = None
        self.last_tick_error: str | None = None
        self.start_monitor = start_monitor
        self.start_agent = start_agent
        self.clock: Clock = clock or utc_now
        self.spinners = animate
        self._event_sub: Subscription | None = None
        self._pump_busy = False
        self._tickets_loading = False
        self._live_text: dict[int, str] = {}
        self._quit_requested = asyncio.Event()
        self._owned_runtime_worker: Worker[None] | None = None
        self._deploy_running: str | None = None
        self._deploy_step: Any = None
        self._deploy_view: DeployScreen | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield ClusterHeader(id="header")
        with Vertical(id="main"):
            with Vertical(id="stores-pane", classes="pane"):
                yield StoresTable(id="stores")
            with Horizontal(id="lower"):
                with Vertical(id="hot-pane", classes="pane"):
                    yield HotRegionsTable(id="hot")
                with Vertical(id="tickets-pane", classes="pane"):
                    yield Input(placeholder="filter tickets (esc clears)", id="ticket-filter")
                    yield TicketTable(id="tickets")
        yield EventStrip(id="events")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#stores-pane").border_title = "Stores [1]"
        self.query_one("#hot-pane").border_title = "Hot write regions [2]"
        self.query_one("#tickets-pane").border_title = "Tickets [3]"
        self.query_one("#events").border_title = "Events"
        tickets = self.query_one(TicketTable)
        tickets.frame = 0 if self.spinners else None
        self.query_one("#stores", StoresTable).focus()
        self.set_interval(1.0, self._every_second)
        if self.spinners:
            self.set_interval(0.125, self._spin)
        self._fit(self.size.width, self.size.height)
        self._draw_header()
        self.call_after_refresh(freeze_start_up_heap)
        if self.runtime is not None:
            self._attach(self.runtime)
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
                self._attach(runtime)
                await self._quit_requested.wait()
                await self._stop_workers()
        except Exception as exc:
            self.exit(2, return_code=2, message=f"operator-tui: error: {one_line(exc)}")

    def _attach(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._event_sub = runtime.bus.subscribe()
        self._pump(self._event_sub)
        if self.start_monitor:
            self.run_worker(
                runtime.run_monitor(), group="monitor", name="monitor", exit_on_error=False
            )
        if self.start_agent:
            self.run_worker(runtime.run_agent(), group="agent", name="agent", exit_on_error=False)
        self._draw_snapshot()
        self._reload_tickets()

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
        self.exit(0)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.group in (
            "monitor",
            "agent",
            "events",
            "chaos",
            "tickets",
        ):
            message = (
                f"{worker.group} stopped: {one_line(worker.error) if worker.error else 'error'}"
            )
            self.notify(message, severity="error", timeout=10)
            self.query_one(EventStrip).note(message, self.clock(), "bold red")

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Below 116 columns the lower panes stack and the stores table drops address and trend."""
        narrow = width < NARROW_BELOW
        self.set_class(narrow, "narrow")
        self.set_class(height < SHORT_BELOW, "short")
        stores = self.query_one_optional(StoresTable)
        if stores is not None and stores.is_mounted and stores.set_narrow(narrow):
            self._draw_snapshot()

    # ---------------------------------------------------------- what the panes read
    def latest_snapshot(self) -> Snapshot | None:
        return self.runtime.latest_snapshot if self.runtime is not None else None

    def metric_history(self, store_id: int) -> Sequence[tuple[datetime, StoreMetrics]]:
        subject = getattr(self.runtime, "subject", None)
        if subject is None:
            return ()
        try:
            return list(subject.metric_history(store_id))
        except Exception:
            return ()

    def log_events(self, store_id: int | None, limit: int) -> list[LogEvent]:
        subject = getattr(self.runtime, "subject", None)
        if subject is None:
            return []
        try:
            return list(subject.recent_log_events(store_id, limit))
        except Exception:
            return []

    def tickets(self) -> list[Ticket]:
        return self.query_one(TicketTable).tickets

    def live_diagnosis(self, ticket_id: int) -> str | None:
        """Text streamed so far for a diagnosis in progress, or None when none is streaming."""
        return self._live_text.get(ticket_id)

    @property
    def is_demo(self) -> bool:
        return self.demo_options is not None

    def monitor_state(self) -> MonitorState:
        runtime = self.runtime
        snapshot = self.latest_snapshot()
        name = self.settings.subject
        if snapshot is not None and snapshot.cluster.cluster_id and not self.has_class("narrow"):
            name = f"{name} {snapshot.cluster.cluster_id}"
        return MonitorState(
            name=name,
            interval_s=runtime.interval_s
            if runtime is not None
            else self.settings.monitor.interval_s,
            mode=self.settings.actions.mode,
            paused=runtime.paused if runtime is not None else False,
            demo=self.is_demo,
            last_tick_at=self.last_tick_at,
            last_tick_error=self.last_tick_error,
        )

    # ------------------------------------------------------------ event pump
    @work(group="events", exit_on_error=False, name="events")
    async def _pump(self, sub: Subscription) -> None:
        try:
            while True:
                batch = [await sub.get()]
                self._pump_busy = True
                try:
                    while not sub.queue.empty() and len(batch) < 2000:
                        batch.append(sub.queue.get_nowait())
                    await self._handle(batch)
                except Exception as exc:
                    # One bad event must not stop the panes from following the cluster.
                    log.exception("event pump: drawing %d events failed", len(batch))
                    self.query_one(EventStrip).note(
                        f"display error: {one_line(exc)}", self.clock(), "bold red"
                    )
                finally:
                    self._pump_busy = False
        finally:
            sub.close()

    async def _handle(self, batch: list[Event]) -> None:
        """Apply a batch of events: per-event bookkeeping, then at most one redraw of each pane."""
        changes: set[str] = set()
        strip = self.query_one(EventStrip)
        now = self.clock()
        for event in batch:
            try:
                await self._take(event, now, changes)
                strip.add(event, now)
            except Exception as exc:
                # One malformed event must not stop the panes from following the cluster.
                log.exception("event pump: %s event failed", event.event)
                strip.note(f"display error on {event.event}: {one_line(exc)}", now, "bold red")
        if "tick" in changes:
            self._draw_snapshot()
        elif "header" in changes:
            self._draw_header()
        if "tickets" in changes:
            await self._load_tickets()

    async def _take(self, event: Event, now: datetime, changes: set[str]) -> None:
        kind = event.event
        data = event.data
        ticket_id = data.get("ticket_id")
        if ticket_id is None and isinstance(data.get("ticket"), dict):
            ticket_id = data["ticket"].get("id")
        if kind == "tick":
            changes.add("tick")
            self.last_tick_at = now
            reachable = data.get("reachable", True)
            self.last_tick_error = None if reachable else str(data.get("error") or "unreachable")
        elif kind.startswith("ticket."):
            changes.add("tickets")
        elif kind == "diagnosis.started" and ticket_id is not None:
            self._live_text[ticket_id] = ""
            changes.add("tickets")
        elif kind == "diagnosis.chunk" and ticket_id is not None:
            text = data.get("text")
            self._live_text[ticket_id] = self._live_text.get(ticket_id, "") + (
                text if isinstance(text, str) else ""
            )
        elif kind in ("diagnosis.finished", "diagnosis.failed"):
            if ticket_id is not None:
                self._live_text.pop(ticket_id, None)
            changes.add("tickets")
        elif kind in ("monitor.paused", "monitor.resumed"):
            changes.add("header")
        if ticket_id is not None:
            for screen in self.screen_stack:
                if isinstance(screen, TicketScreen) and screen.ticket_id == ticket_id:
                    await screen.on_core_event(event)

    async def settle(self, limit_s: float = 5.0) -> None:
        """Wait (bounded) until every published event has reached the panes; for tests and scripts."""
        deadline = monotonic() + limit_s
        while monotonic() < deadline:
            await asyncio.sleep(0.02)
            queue_empty = self._event_sub is None or self._event_sub.queue.empty()
            if queue_empty and not self._pump_busy and not self._tickets_loading:
                busy_screens = [
                    w
                    for w in self.workers
                    if w.group == "ticket-load"
                    and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                ]
                if not busy_screens:
                    return

    # --------------------------------------------------------------- drawing
    def _draw_header(self) -> None:
        self.query_one(ClusterHeader).show(
            self.latest_snapshot(), self.monitor_state(), self.clock()
        )

    def _draw_snapshot(self) -> None:
        self._draw_header()
        snapshot = self.latest_snapshot()
        if snapshot is None:
            return
        self.query_one(StoresTable).apply(snapshot, self.metric_history)
        self.query_one(HotRegionsTable).apply(snapshot.hot_write_regions)
        age = (snapshot.extra.get("read_age_s") or {}).get("hot_write_regions")
        self.query_one("#hot-pane").border_subtitle = (
            f"read {age:.0f}s ago" if isinstance(age, int | float) and age >= 1 else ""
        )
        if isinstance(self.screen, StoreScreen):
            self.screen.redraw()

    @work(group="tickets", exit_on_error=False, name="tickets")
    async def _reload_tickets(self) -> None:
        await self._load_tickets()

    async def _load_tickets(self) -> None:
        if self.runtime is None:
            return
        self._tickets_loading = True
        try:
            tickets = await self.runtime.list_tickets(include_resolved=True, limit=TICKET_LIMIT)
        except Exception as exc:
            self.query_one(EventStrip).note(
                f"cannot read tickets: {one_line(exc)}", self.clock(), "bold red"
            )
            return
        finally:
            self._tickets_loading = False
        self.query_one(TicketTable).apply(tickets, self.clock())
        if isinstance(self.screen, StoreScreen):
            self.screen.redraw()

    def _every_second(self) -> None:
        self._draw_header()
        self.query_one(TicketTable).redraw(self.clock())

    def _spin(self) -> None:
        table = self.query_one(TicketTable)
        if table.diagnosing:
            table.spin()

    # ------------------------------------------------------------ navigation
    @on(RowTable.RowSelected, "#stores")
    def _open_store(self, event: RowTable.RowSelected) -> None:
        self.push_screen(StoreScreen(int(event.row_key)))

    @on(RowTable.RowSelected, "#hot")
    def _open_hot(self, event: RowTable.RowSelected) -> None:
        leader = self.query_one(HotRegionsTable).selected_leader_store
        if leader is not None:
            self.push_screen(StoreScreen(leader))

    @on(RowTable.RowSelected, "#tickets")
    def _open_ticket(self, event: RowTable.RowSelected) -> None:
        self.push_screen(TicketScreen(int(event.row_key)))

    def action_open_selected(self) -> None:
        if len(self.screen_stack) > 1:
            self.notify("enter opens a row of the main screen; esc goes back there")
            return
        focused = self.focused
        table = focused if isinstance(focused, RowTable) else self.query_one(StoresTable)
        if not table.row_count:
            self.notify("nothing to open: the pane is empty")
            return
        table.action_select_cursor()

    def action_back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.query_one("#ticket-filter", Input).display:
            self._clear_filter()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
        else:
            self.push_screen(HelpScreen())

    def action_focus_pane(self, pane: str) -> None:
        if len(self.screen_stack) > 1:
            self.notify("panes are on the main screen; esc goes back there")
            return
        # At once, not deferred like Widget.focus(): a key typed right after (3 then enter)
        # must reach the pane just chosen.
        self.set_focus(self.query_one(PANES[pane]))

    def action_filter(self) -> None:
        if len(self.screen_stack) > 1:
            self.notify("the ticket filter is on the main screen; esc goes back there")
            return
        box = self.query_one("#ticket-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#ticket-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        table = self.query_one(TicketTable)
        table.query_text = event.value.strip()
        table.redraw(self.clock())

    @on(Input.Submitted, "#ticket-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self._clear_filter()
        else:
            self.query_one(TicketTable).focus()

    def on_key(self, event: Any) -> None:
        if event.key == "escape" and self.focused is self.query_one("#ticket-filter", Input):
            event.stop()
            self._clear_filter()

    def _clear_filter(self) -> None:
        box = self.query_one("#ticket-filter", Input)
        box.value = ""
        box.display = False
        table = self.query_one(TicketTable)
        table.query_text = ""
        table.redraw(self.clock())
        table.focus()

    # ---------------------------------------------------------- monitor keys
    def _runtime_or_say(self) -> Runtime | None:
        if self.runtime is None:
            self.notify(
                "still connecting to the cluster; try again in a moment", severity="warning"
            )
        return self.runtime

    def action_toggle_pause(self) -> None:
        runtime = self._runtime_or_say()
        if runtime is None:
            return
        if runtime.paused:
            runtime.resume()
            self.notify("monitoring resumed")
        else:
            runtime.pause()
            self.notify("monitoring paused; p resumes, r still ticks once")
        self._draw_header()

    def action_tick_now(self) -> None:
        runtime = self._runtime_or_say()
        if runtime is None:
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
        runtime = self._runtime_or_say()
        if runtime is None:
            return
        current = runtime.interval_s
        wanted = max(1.0, current + delta)
        if wanted == current:
            self.notify("the interval is already at its 1 s floor", severity="warning")
            return
        in_force = runtime.set_interval(wanted)
        self.notify(f"refresh interval {in_force:g} s")
        self._draw_header()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    # ----------------------------------------------------------- chaos keys
    def _context_store(self) -> Store | None:
        screen = self.screen
        if isinstance(screen, StoreScreen):
            store_id: int | None = screen.store_id
        elif isinstance(screen, TicketScreen):
            store_id = screen.ticket.store_id if screen.ticket else None
        else:
            store_id = self.query_one(StoresTable).selected_store_id
        snapshot = self.latest_snapshot()
        if store_id is None or snapshot is None:
            self.notify("no store selected: pick one in the stores pane (1)", severity="warning")
            return None
        store = snapshot.store(store_id)
        if store is None:
            self.notify(f"store {store_id} is not in the latest snapshot", severity="warning")
        return store

    def _chaos_or_say(self, verb: str) -> bool:
        runtime = self._runtime_or_say()
        if runtime is None:
            return False
        if getattr(runtime, "chaos", True) is None:
            self.notify(
                f"cannot {verb} stores here: that works in --demo or against the compose lab "
                f"({getattr(self.settings.subject_settings, 'compose_file', 'compose file')} not found)",
                severity="warning",
                timeout=8,
            )
            return False
        return True

    def _is_running(self, store: Store) -> bool:
        return store.health.level.answering

    def action_kill_store(self) -> None:
        if not self._chaos_or_say("kill"):
            return
        store = self._context_store()
        if store is None:
            return
        if not self._is_running(store):
            self.notify(
                f"store {store.id} is down already ({store.label}, not answering); s starts it again",
                severity="warning",
            )
            return
        how = "the simulator's control API" if self.is_demo else "docker kill"
        question = f"Kill store {store.id} ({store.address}) through {how}?\n\ny kills it, n or esc cancels."

        def answered(yes: bool | None) -> None:
            if yes:
                self._chaos(f"kill store {store.id}", self.runtime.kill_store, store.id)  # type: ignore[union-attr]

        self.push_screen(ConfirmScreen(f"Kill store {store.id}", question, "Kill"), answered)

    def action_start_store(self) -> None:
        if not self._chaos_or_say("start"):
            return
        store = self._context_store()
        if store is None:
            return
        if self._is_running(store):
            self.notify(
                f"store {store.id} is {store.label} and answering; nothing to start",
                severity="warning",
            )
            return
        self._chaos(f"start store {store.id}", self.runtime.start_store, store.id)  # type: ignore[union-attr]

    @work(group="chaos", exit_on_error=False)
    async def _chaos(self, what: str, call: Callable[[int], Awaitable[str]], store_id: int) -> None:
        try:
            message = await call(store_id)
        except Exception as exc:
            self.notify(f"{what} failed: {one_line(exc)}", severity="error", timeout=10)
            return
        self.notify(message or f"{what}: done")

    # ---------------------------------------------------------- ticket keys
    def _context_ticket_id(self) -> int | None:
        screen = self.screen
        if isinstance(screen, TicketScreen):
            return screen.ticket_id
        if len(self.screen_stack) > 1:
            return None
        return self.query_one(TicketTable).selected_ticket_id

    def action_rediagnose(self) -> None:
        if self._runtime_or_say() is None:
            return
        ticket_id = self._context_ticket_id()
        if ticket_id is None:
            self.notify("no ticket selected: pick one in the tickets pane (3)", severity="warning")
            return
        self._rediagnose(ticket_id)

    @work(group="chaos", exit_on_error=False)
    async def _rediagnose(self, ticket_id: int) -> None:
        try:
            await self.runtime.rediagnose(ticket_id)  # type: ignore[union-attr]
        except Exception as exc:
            self.notify(
                f"cannot re-run the diagnosis of #{ticket_id}: {one_line(exc)}", severity="error"
            )
            return
        self.notify(f"diagnosis of ticket #{ticket_id} queued again")

    def action_approve(self) -> None:
        if self._runtime_or_say() is None:
            return
        mode = self.settings.actions.mode
        if mode != "approve":
            reason = "actions run on their own" if mode == "auto" else "the operator only observes"
            self.notify(
                f"a approves actions only in approve mode (--mode approve); mode is {mode}: {reason}",
                severity="warning",
            )
            return
        ticket_id = self._context_ticket_id()
        if ticket_id is None:
            self.notify("no ticket selected: pick one in the tickets pane (3)", severity="warning")
            return
        self._approve(ticket_id)

    @work(group="chaos", exit_on_error=False)
    async def _approve(self, ticket_id: int) -> None:
        runtime = self.runtime
        assert runtime is not None
        try:
            record = await runtime.latest_diagnosis(ticket_id)
        except Exception as exc:
            self.notify(f"cannot read ticket #{ticket_id}: {one_line(exc)}", severity="error")
            return
        if record is None or record.result is None:
            self.notify(
                f"ticket #{ticket_id} has no finished diagnosis yet; R runs one",
                severity="warning",
            )
            return
        actions = record.result.get("recommended_actions")
        if not actions:
            self.notify(
                f"ticket #{ticket_id} has no recommended action to approve", severity="warning"
            )
            return
        chosen = await self.push_screen_wait(ApproveScreen(ticket_id, actions))
        if chosen is None:
            return
        try:
            result = await runtime.approve(ticket_id, chosen)
        except Exception as exc:
            self.notify(f"approve failed: {one_line(exc)}", severity="error", timeout=10)
            return
        self.notify(result.message, severity="information" if result.ok else "error", timeout=8)

    # ------------------------------------------------------------ deploy key
    def action_deploy(self) -> None:
        if self.is_demo:
            self.notify(
                "deploy is for the compose lab; this demo runs an embedded simulated cluster "
                "(run operator-tui without --demo after `operator-tui deploy local up`)",
                severity="warning",
                timeout=8,
            )
            return
        project = self.settings.subject_settings.compose_project
        running = self._deploy_running
        screen = DeployScreen(
            project,
            self._start_deploy,
            running=running,
            last_step=self._deploy_step if running else None,
        )
        self._deploy_view = screen
        self.push_screen(screen)

    def _deploy_screen(self) -> DeployScreen | None:
        """The deploy dialog following the run, while it is open."""
        view = self._deploy_view
        return view if view is not None and view.is_attached else None

    def _start_deploy(self, choice: str) -> None:
        self._deploy_running = choice
        self._deploy_step = None
        self._deploy(choice)

    @work(group="chaos", exit_on_error=False)
    async def _deploy(self, choice: str) -> None:
        strip = self.query_one(EventStrip)
        last_phase = ""

        def progress(step: Any) -> None:
            nonlocal last_phase
            self._deploy_step = step
            view = self._deploy_screen()
            if view is not None:
                view.show_progress(step)
            line = f"deploy {choice}: {step.phase} {step.detail}".strip()
            if line != last_phase:
                last_phase = line
                strip.note(line, self.clock())

        try:
            import httpx

            from operator_tui.bootstrap import open_lab

            async with httpx.AsyncClient(timeout=5.0) as http:
                deployment = open_lab(self.settings, http)
                message = await deploy_verb(deployment, choice, progress)
        except Exception as exc:
            failure = f"deploy {choice} failed: {one_line(exc)}"
            self._deploy_ended(failure, ok=False)
            self.notify(failure, severity="error", timeout=10)
            strip.note(failure, self.clock(), "bold red")
            return
        self._deploy_ended(message, ok=True)
        self.notify(message, timeout=10)
        for line in message.splitlines():
            strip.note(line, self.clock())

    def _deploy_ended(self, message: str, *, ok: bool) -> None:
        self._deploy_running = None
        self._deploy_step = None
        view = self._deploy_screen()
        if view is not None:
            view.finish(message, ok)


async def deploy_verb(deployment: Any, choice: str, progress: Callable[[Any], None]) -> str:
    """Run ``up``, ``down`` or ``status`` on a ``Deployment`` and say what came of it."""
    if choice == "up":
        result = await deployment.up(on_progress=progress)
        endpoints = ", ".join(f"{e.name} {e.url}" for e in result.endpoints)
        return f"lab up: {result.stores_up} stores Up" + (f"; {endpoints}" if endpoints else "")
    if choice == "down":
        return str(await deployment.down())
    services = await deployment.status()
    if not services:
        return "lab status: no services"
    return "\n".join(
        f"{s.service}: {s.state}" + (f" ({s.health})" if s.health else "") for s in services
    )


def run_tui(settings: Settings, demo: DemoOptions | None = None) -> int:
    """Run the full-screen app until the user quits; returns the process exit code.

    Log records go to Textual's devtools console, never to the terminal the app draws on.
    """
    from textual.logging import TextualHandler

    root = logging.getLogger()
    root.handlers[:] = [TextualHandler()]
    root.setLevel(settings.log_level)
    app = OperatorApp(settings, demo)
    app.run()
    return app.return_code or 0
