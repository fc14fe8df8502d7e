"""Write SVG screenshots of the TUI's main states into ``screenshots/``.

The states are built by the same functions the snapshot tests in
``tests/tui/test_snapshots.py`` use: a simulated cluster on a manual clock
(seed 42), ticks driven one at a time, the offline diagnoser run on request,
and the app's clock reading the simulator's clock. So a screenshot and its
snapshot differ only if the code changed.

    uv run python scripts/make_screenshots.py [--out screenshots] [--size 120x40]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
from operator_tikv.diagnosis import offline_diagnoser
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings
from operator_tikv.sim.cluster import SimCluster
from operator_tikv.sim.config import MANUAL_EPOCH_S, SimConfig
from operator_tikv.sim.demo import SimChaos, subject_settings
from rich.console import Console
from textual.pilot import Pilot

from operator_tui.config import load_settings
from operator_tui.core.runtime import OperatorRuntime, RuntimeOptions
from operator_tui.core.subject import DemoOptions, SubjectContext
from operator_tui.core.tickets import TicketStore
from operator_tui.tui.app import OperatorApp

INTERVAL_S = 2.0
SIZE = (120, 40)
WAIT_S = 20.0


PATIENT = {
    "scrape_budget": "all",
    "scrape_timeout_s": 30.0,
    "scrape_parse_timeout_s": 30.0,
    "pd_timeout_s": 30.0,
    "pd_call_budget_s": 60.0,
    "tick_timeout_s": 120.0,
}
"""The simulator answers from this same process, so on a loaded machine a read can take
seconds of wall time: no store is ever skipped or timed out, whatever the load, and every
store is read every tick (time is the manual clock's, so the pictures stay exact)."""

# The states whose picture shows a store's status URL (the diagnosis of a dead store) run
# on fixed ports; the others on free ones, so states run back to back never wait for a port.
# Below Linux's ephemeral range (32768-60999): a port the kernel hands to another socket
# (a client's, a simulator's beside the tests) would be taken when the state starts.
FIXED_PORTS = {"ticket-diagnosis": 29180, "main-dead-store": 29190}


class ManualDemo:
    """The demo cluster on a manual clock: time moves only when a state says so."""

    def __init__(
        self,
        db_path: Path,
        *,
        stores: int = 3,
        regions: int = 100,
        seed: int = 42,
        store_port_base: int = 0,
    ) -> None:
        self.db_path = db_path
        self.config = SimConfig(
            stores=stores,
            regions=regions,
            seed=seed,
            manual_clock=True,
            max_store_down_time_s=60,
            store_port_base=store_port_base,
        )
        self.cluster: SimCluster | None = None
        self.runtime: OperatorRuntime | None = None

    def now(self) -> datetime:
        if self.cluster is None or self.cluster.model is None:
            return datetime.fromtimestamp(MANUAL_EPOCH_S, UTC)
        return datetime.fromtimestamp(self.cluster.now_ns / 1e9, UTC)

    @asynccontextmanager
    async def open(self) -> AsyncIterator[OperatorRuntime]:
        async with SimCluster(self.config) as cluster, httpx.AsyncClient(timeout=5.0) as http:
            self.cluster = cluster
            chaos = SimChaos(cluster.pd_urls)
            section = TikvSettings(**subject_settings(cluster), metrics_source="direct", **PATIENT)
            ctx = SubjectContext(http=http, settings=section, interval_s=INTERVAL_S, clock=self.now)
            subject = plugin.create(ctx)
            tickets = await TicketStore.open(self.db_path, subject=subject.name)
            try:
                self.runtime = OperatorRuntime(
                    RuntimeOptions(interval_s=INTERVAL_S, actions_mode="observe"),
                    subject,
                    tickets,
                    offline_diagnoser(),
                    chaos=chaos,
                    clock=self.now,
                )
                # Tool calls timed on the manual clock too: a trace reads "0 ms" in every picture.
                self.runtime.agent.tool_limits = replace(
                    self.runtime.agent.tool_limits, timer=lambda: self.cluster.now_ns / 1e9
                )
                yield self.runtime
            finally:
                await tickets.aclose()
                await subject.aclose()
                await chaos.aclose()

    async def tick(self, seconds: float = INTERVAL_S) -> None:
        assert self.cluster is not None and self.runtime is not None
        await self.cluster.advance(seconds)
        await self.runtime.tick_once()


STORES = {"main-slow-disk": 20}
"""States drawn over a larger cluster than the demo's three stores."""


def demo_for(state: str, db_path: Path) -> ManualDemo:
    return ManualDemo(
        db_path, stores=STORES.get(state, 3), store_port_base=FIXED_PORTS.get(state, 0)
    )


def build_app(demo: ManualDemo) -> OperatorApp:
    """The app as ``--demo`` builds it, but over the manual-clock cluster, with ticks left to the states."""
    return OperatorApp(
        load_settings(interval_s=INTERVAL_S, actions_mode="observe", diagnosis_backend="offline"),
        DemoOptions(seed=demo.config.seed),
        runtime_factory=demo.open,
        start_monitor=False,
        start_agent=False,
        clock=demo.now,
        animate=False,
    )


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` every 20 ms for at most ``WAIT_S``."""
    for _ in range(int(WAIT_S / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"gave up waiting for {what}")


async def attached(app: OperatorApp) -> None:
    await until(lambda: app.runtime is not None, "the runtime")


async def settled(pilot: Pilot) -> None:
    app: OperatorApp = pilot.app  # type: ignore[assignment]
    await app.settle(WAIT_S)
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()


async def healthy(demo: ManualDemo, pilot: Pilot) -> None:
    """Three ticks of a healthy cluster: every store Up, sparklines filled, no tickets."""
    await attached(pilot.app)  # type: ignore[arg-type]
    for _ in range(4):
        await demo.tick()
    await settled(pilot)


async def dead_store(demo: ManualDemo, pilot: Pilot) -> None:
    """Store 2 killed with `k` `y`, one tick later: Disconnected, and its ticket open."""
    await healthy(demo, pilot)
    await pilot.press("down", "ctrl+k")
    await pilot.pause()
    await pilot.press("y")
    assert demo.cluster is not None and demo.cluster.model is not None
    store = demo.cluster.model.stores[2]
    await until(lambda: not store.alive, "store 2 to die")
    await demo.tick()  # the status port is closed: a store_down ticket opens
    await demo.tick(20.0)  # PD marks a store Disconnected after 20 s without heartbeats
    await settled(pilot)


async def ticket_finished(demo: ManualDemo, pilot: Pilot) -> None:
    """The store-down ticket diagnosed by the offline diagnoser, opened with `3` `enter`."""
    await dead_store(demo, pilot)
    assert demo.runtime is not None
    tickets = await demo.runtime.list_tickets()
    await demo.runtime.agent.diagnose_ticket(tickets[0].id)
    await settled(pilot)
    await pilot.press("3", "enter")
    await settled(pilot)


async def help_screen(demo: ManualDemo, pilot: Pilot) -> None:
    """The `?` screen over a healthy cluster."""
    await healthy(demo, pilot)
    await pilot.press("question_mark")
    await settled(pilot)


async def kill_confirm(demo: ManualDemo, pilot: Pilot) -> None:
    """`k` on store 2: the dialog names the store and waits for y, n or esc."""
    await healthy(demo, pilot)
    await pilot.press("down", "ctrl+k")
    await settled(pilot)


async def logs_view(demo: ManualDemo, pilot: Pilot) -> None:
    """`l` on store 1 of a healthy cluster: its log lines, full width, following."""
    await healthy(demo, pilot)
    await pilot.press("l")
    await settled(pilot)


async def graphs_view(demo: ManualDemo, pilot: Pilot) -> None:
    """`m` after a minute of a healthy cluster: requests, p99, disk and CPU over 5 minutes."""
    await attached(pilot.app)  # type: ignore[arg-type]
    for _ in range(30):
        await demo.tick()
    await settled(pilot)
    await pilot.press("m")
    await settled(pilot)


async def fault_menu(demo: ManualDemo, pilot: Pilot) -> None:
    """`f` on store 2, slow disk highlighted: its store and latency fields."""
    await healthy(demo, pilot)
    await pilot.press("down", "f")
    await pilot.pause()
    await pilot.press("down", "down", "down")
    await settled(pilot)


SLOW_STORE = 3
SLOW_MS = 1500.0
SLOW_TICKS = 5


async def slow_disk(demo: ManualDemo, pilot: Pilot) -> None:
    """20 stores, store 3's disk writes 1.5 s slower (the fault menu's default) for five ticks:
    its write p99 in seconds and coloured critical, its peers' in milliseconds. (Its incident
    opens after the write-latency invariant's 60 s grace; by then PD has moved its leaders
    away and it serves no requests, so its figures are blank.)"""
    await attached(pilot.app)  # type: ignore[arg-type]
    for _ in range(4):
        await demo.tick()
    assert demo.runtime is not None
    await demo.runtime.inject_fault("slow_disk", SLOW_STORE, {"latency_ms": SLOW_MS})
    for _ in range(SLOW_TICKS):
        await demo.tick()
    await settled(pilot)


State = Callable[[ManualDemo, Pilot], Awaitable[None]]
STATES: dict[str, State] = {
    "main-healthy": healthy,
    "main-dead-store": dead_store,
    "ticket-diagnosis": ticket_finished,
    "help": help_screen,
    "kill-confirm": kill_confirm,
    "logs": logs_view,
    "graphs": graphs_view,
    "fault-menu": fault_menu,
    "main-slow-disk": slow_disk,
}


def screen_text(app: OperatorApp) -> str:
    """The screen as plain text, for reading a state without an SVG viewer."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, color_system=None
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def shoot(name: str, out_dir: Path, size: tuple[int, int], text: bool = False) -> Path:
    with tempfile.TemporaryDirectory(prefix="operator-tui-shot-") as tmp:
        demo = demo_for(name, Path(tmp) / "tickets.db")
        app = build_app(demo)
        target = out_dir / f"{name}.svg"

        async def pilot_run(pilot: Pilot) -> None:
            await STATES[name](demo, pilot)
            svg = app.export_screenshot(title=f"operator-tui · {name}")
            target.write_text(svg, encoding="utf-8")
            if text:
                target.with_suffix(".txt").write_text(screen_text(app), encoding="utf-8")
            await app.action_quit()

        app.run(headless=True, size=size, auto_pilot=pilot_run)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--size", default=f"{SIZE[0]}x{SIZE[1]}", help="WIDTHxHEIGHT")
    parser.add_argument("--text", action="store_true", help="also write the screen as plain text")
    parser.add_argument("states", nargs="*", choices=[*STATES, []], help="default: all")
    args = parser.parse_args(argv)
    width, _, height = args.size.partition("x")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.states or list(STATES):
        print(shoot(name, args.out, (int(width), int(height)), args.text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
