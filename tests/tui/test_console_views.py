"""Pilot tests of the console views: logs (l), raw (y), copy (c), fault menu (f), graphs (m),
endpoints, and failed actions landing in the event strip."""

from __future__ import annotations

from datetime import timedelta

from operator_tikv.records import TikvLogEvent

from operator_tui.tui.screens.endpoints import EndpointsScreen
from operator_tui.tui.screens.faults import FaultMenuScreen
from operator_tui.tui.screens.graphs import GraphsScreen
from operator_tui.tui.screens.logs import LogsScreen
from operator_tui.tui.screens.raw import RawScreen
from operator_tui.tui.widgets.event_strip import EventStrip

from .conftest import T0


def add_logs(runtime) -> None:
    for i in range(6):
        runtime.logs.append(
            TikvLogEvent(
                time=T0 + timedelta(seconds=i),
                level="WARN" if i % 2 else "INFO",
                source="raft.rs:1",
                message=f"line {i}",
                kind="election" if i % 2 else "other",
                store_id=1 + i % 2,
                raw=f"[2026/11/22] [INFO] line {i} \x1b[31mred[/b]",
            )
        )


async def test_logs_view_filters_by_store_kind_and_text(runtime, app_factory) -> None:
    add_logs(runtime)
    app = app_factory(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await runtime.tick_once()
        await app.settle()
        await pilot.press("l")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LogsScreen) and screen.store_id == 1
        assert len(screen.shown_lines) == 3
        assert all("\x1b" not in line for line in screen.shown_lines)
        await pilot.press("o")
        assert {screen.kind} <= {"other", "election"} and screen.kind
        await pilot.press("o")
        assert screen.kind == ""
        await pilot.press("slash")
        await pilot.press(*"line 4")
        await pilot.pause()
        assert screen.shown_lines == ["[2026/11/22] [INFO] line 4 red[/b]"]
        await pilot.press("escape")
        await pilot.press("w")
        assert screen.wrap
        runtime.logs.append(
            TikvLogEvent(
                time=T0 + timedelta(seconds=9),
                level="INFO",
                source="x",
                message="new",
                store_id=1,
                raw="fresh line",
            )
        )
        await runtime.tick_once()
        await app.settle()
        await pilot.pause()
        assert screen.shown_lines[-1] == "fresh line"
        await pilot.press("escape")
        assert not isinstance(app.screen, LogsScreen)


async def test_raw_store_and_diagnosis(runtime, app_factory, notes_of) -> None:
    runtime.raw_bodies[("store", 1)] = '{"store": {"id": 1}}\n'
    app = app_factory(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await runtime.tick_once()
        await app.settle()
        await pilot.press("y")
        await app.settle()
        await pilot.pause()
        assert isinstance(app.screen, RawScreen)
        assert app.screen.body == '{"store": {"id": 1}}\n'
        notes = notes_of(app)
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("c")
        assert copied == ['{"store": {"id": 1}}\n'] and "OSC 52" in notes.text()
        await pilot.press("escape", "down", "y")
        await app.settle()
        await pilot.pause()
        assert not isinstance(app.screen, RawScreen)
        assert "cannot read store 2 raw" in notes.text()
        strip = app.main.query_one(EventStrip)
        assert any("cannot read store 2 raw" in line for line in strip.lines_written)


async def test_copy_selected_row(runtime, app_factory, notes_of) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await runtime.tick_once()
        await app.settle()
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        notes_of(app)
        await pilot.press("c")
        assert copied and copied[0].startswith("1\t")


async def test_fault_menu_injects_with_parameters_and_clears(runtime, app_factory) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await runtime.tick_once()
        await app.settle()
        await pilot.press("down", "f")
        await pilot.pause()
        menu = app.screen
        assert isinstance(menu, FaultMenuScreen)
        assert [k.name for k in menu.kinds][:4] == [
            "kill_store",
            "pause_store",
            "partition_store",
            "slow_disk",
        ]
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert menu.kind is not None and menu.kind.name == "slow_disk"
        await pilot.press("enter")
        await pilot.pause()
        assert menu.focused is not None and menu.focused.id == "fault-store"
        await pilot.press("tab", *"800", "enter")
        await app.settle()
        await pilot.pause()
        assert runtime.calls.faults[0].kind == "slow_disk"
        assert runtime.calls.faults[0].store_id == 2
        assert runtime.calls.faults[0].params == {"latency_ms": 800.0}
        assert not isinstance(app.screen, FaultMenuScreen)
        await pilot.press("f")
        await pilot.pause()
        await app.settle()
        await pilot.pause()
        menu = app.screen
        assert isinstance(menu, FaultMenuScreen) and [f.id for f in menu.active] == ["f1"]
        menu.clear("f1")
        await app.settle()
        await pilot.pause()
        assert runtime.calls.cleared == ["f1"] and menu.active == []


async def test_fault_refused_lands_in_the_event_strip(runtime, app_factory) -> None:
    runtime.fault_error = "store 9 not found"
    app = app_factory(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await runtime.tick_once()
        await app.settle()
        app.action_open_faults("kill_pd_leader")
        await pilot.pause()
        await pilot.press("enter")
        await app.settle()
        await pilot.pause()
        strip = app.main.query_one(EventStrip)
        assert any("store 9 not found" in line for line in strip.lines_written)


async def test_no_fault_menu_without_a_simulator(runtime_factory, app_factory) -> None:
    runtime = runtime_factory(demo=False)
    app = app_factory(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        assert not isinstance(app.screen, FaultMenuScreen)
        strip = app.main.query_one(EventStrip)
        assert any("no fault menu here" in line for line in strip.lines_written)


async def test_graphs_and_endpoints(runtime, app_factory) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3):
            await runtime.tick_once()
            runtime.clock.advance(2)
        await app.settle()
        await pilot.press("m")
        await pilot.pause()
        graphs = app.screen
        assert isinstance(graphs, GraphsScreen)
        assert len(graphs.data["qps"].cluster) == 3
        assert graphs.data["qps"].cluster[-1][1] > 0
        await pilot.press("w")
        assert graphs.window_min == 15
        await pilot.press("escape")
        app.action_open_endpoints()
        await pilot.pause()
        await app.settle()
        await pilot.pause()
        assert isinstance(app.screen, EndpointsScreen)
        assert app.screen.endpoints[0].name == "PD API"


async def test_one_store_graphs(runtime, app_factory) -> None:
    """``m`` on the store screen and ``:graphs 2`` draw that store alone; ``m`` on the main
    screen stays the cluster's view."""
    app = app_factory(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await runtime.kill_store(3)
        for _ in range(3):
            await runtime.tick_once()
            runtime.clock.advance(2)
        await app.settle()
        await pilot.pause()
        assert [i.store_id for i in app.incidents()] == [3]
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        graphs = app.screen
        assert isinstance(graphs, GraphsScreen) and graphs.store_id == 2
        assert "#" not in str(graphs.query_one("#graphs-title").render())  # store 3's incident
        for data in graphs.data.values():
            assert set(data.stores) <= {2} and data.hidden_stores == 0
        qps = graphs.data["qps"]
        assert [v for _, v in qps.stores[2]] == [
            m.qps for _, m in runtime.metric_history(2) if m.qps is not None
        ]
        title = str(graphs.query_one("#graphs-title").render())
        assert "store 2" in title
        await runtime.tick_once()
        await app.settle()
        await pilot.pause()
        assert len(graphs.data["qps"].stores[2]) == 4  # live: redrawn on the tick
        await pilot.press("escape", "escape")
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, GraphsScreen) and app.screen.store_id is None
        assert len(app.screen.data["qps"].stores) > 1
        await pilot.press("escape")
        app.run_command("graphs 3")
        await pilot.pause()
        await app.settle()
        await pilot.pause()
        assert isinstance(app.screen, GraphsScreen) and app.screen.store_id == 3
        assert "incidents: #" in str(app.screen.query_one("#graphs-title").render())
        assert app.screen.data["qps"].stores == {}  # down since the first tick: no QPS
