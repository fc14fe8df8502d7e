"""Every key of the main screen and the drill-downs, driven with Pilot over the in-memory runtime."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import events
from textual.widgets import Input, Markdown, OptionList

from operator_tui.core.ticket import TicketStatus
from operator_tui.tui.screens.approve import ApproveScreen
from operator_tui.tui.screens.confirm import ConfirmScreen
from operator_tui.tui.screens.help import HelpScreen, keys_table
from operator_tui.tui.screens.incident import IncidentScreen
from operator_tui.tui.screens.store import StoreScreen
from operator_tui.tui.screens.ticket import TicketScreen
from operator_tui.tui.widgets.event_strip import EventStrip
from operator_tui.tui.widgets.hot_regions import HotRegionsTable
from operator_tui.tui.widgets.incidents import IncidentTable
from operator_tui.tui.widgets.stores import StoresTable

SIZE = (120, 40)


async def ready(app, pilot, runtime, ticks: int = 2) -> None:
    for _ in range(ticks):
        runtime.clock.advance(2)
        await runtime.tick_once()
    await app.settle()
    await pilot.pause()


async def chaos_done(app) -> None:
    """Wait for the command workers (kill, start, approve, deploy), never for the endless loops."""
    running = [w for w in app.workers if w.group == "chaos"]
    if running:  # an empty list would mean "every worker", the event pump included
        await app.workers.wait_for_complete(running)
    await app.settle()


def cell(table, row_key, column) -> str:
    value = table.get_cell(str(row_key), column)
    return value.plain if isinstance(value, Text) else str(value)


async def test_panes_fill_from_ticks(runtime, app_factory) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        stores = app.query_one(StoresTable)
        assert stores.row_count == 3
        assert cell(stores, 2, "state") == "Up"
        assert app.query_one(HotRegionsTable).row_count == 6
        assert app.query_one(IncidentTable).row_count == 0
        assert "stores 3/3 up" in str(app.query_one("#header").render())


async def test_store_rows_update_in_place_and_cursor_stays(runtime, app_factory) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        stores = app.query_one(StoresTable)
        await pilot.press("down", "down")
        assert stores.selected_store_id == 3
        before = cell(stores, 1, "qps")
        await ready(app, pilot, runtime, ticks=1)
        assert cell(stores, 1, "qps") != before
        assert stores.selected_store_id == 3


async def test_kill_confirm_yes_runs_chaos_and_ticket_appears(runtime, app_factory) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        await pilot.press("down", "ctrl+k")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Kill store 2 (127.0.0.1:20162)" in str(
            app.screen.query_one("#confirm-question").render()
        )
        await pilot.press("y")
        await pilot.pause()
        await chaos_done(app)
        assert runtime.calls.killed == [2]
        await ready(app, pilot, runtime, ticks=1)
        assert cell(app.query_one(StoresTable), 2, "state") == "Disconnected"
        tickets = app.query_one(IncidentTable)
        assert tickets.row_count == 1
        assert cell(tickets, 1, "cause") == "store_down"
        assert any("ticket #1 opened" in line for line in app.query_one(EventStrip).lines_written)


async def test_kill_cancel_with_n_and_escape(runtime, app_factory) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        for key in ("n", "escape"):
            await pilot.press("ctrl+k")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmScreen)
        assert runtime.calls.killed == []


async def test_kill_and_start_say_why_when_they_do_not_apply(
    runtime, app_factory, notes_of
) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        await ready(app, pilot, runtime)
        await pilot.press("s")
        assert "store 1 is Up and answering; nothing to start" in notes.text()
        runtime.stores[0].state = "Disconnected"
        await ready(app, pilot, runtime, ticks=1)
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert "store 1 is down already (Disconnected, not answering)" in notes.text()
        await pilot.press("s")
        await pilot.pause()
        await chaos_done(app)
        assert runtime.calls.started == [1]


async def test_enter_opens_store_and_escape_returns(runtime, app_factory) -> None:
    runtime.logs.clear()
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, StoreScreen) and app.screen.store_id == 1
        assert "127.0.0.1:20161" in str(app.screen.query_one("#store-title").render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, StoreScreen)
        # Both keys queued at once, as a terminal delivers keys typed quickly.
        app.post_message(events.Key("2", "2"))
        app.post_message(events.Key("enter", "\r"))
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, StoreScreen) and app.screen.store_id == 1


async def test_enter_right_after_a_pane_key_opens_that_panes_row(runtime, app_factory) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        await pilot.press("down")
        assert app.query_one(StoresTable).selected_store_id == 2
        # Both keys queued at once, as a terminal delivers keys typed quickly.
        app.post_message(events.Key("2", "2"))
        app.post_message(events.Key("enter", "\r"))
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, StoreScreen)
        assert app.screen.store_id == app.query_one(HotRegionsTable).selected_leader_store == 1


async def test_ticket_screen_streams_then_shows_structured_result(
    runtime, app_factory, diagnosis_text
) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        await runtime.kill_store(2)
        await ready(app, pilot, runtime, ticks=1)
        await pilot.press("3", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen.ticket_id == 1
        await app.settle()
        half = len(diagnosis_text) // 2
        await runtime.diagnose(1, [diagnosis_text[:half]], finish=False)
        await app.settle()
        await pilot.pause()
        assert screen._live and screen.narrative_text == diagnosis_text[:half]
        await runtime.diagnose(1, [diagnosis_text[half:]], finish=False)
        runtime.finish(1, diagnosis_text)
        await app.settle()
        await pilot.pause()
        assert not screen._live and screen.narrative_text == diagnosis_text
        # The structured result replaces the narrative: the same diagnosis is not shown twice.
        assert not screen.query_one("#narrative").display
        summary = rendered(screen.query_one("#diagnosis-summary"))
        assert "Root cause store_down on store 2" in summary
        assert "set_replica_schedule_limit(n=8) · risk low" in summary
        structured = screen.query_one("#structured", Markdown).source
        assert "drain store 2" in structured and "## Observation" in structured
        assert "Root cause" not in structured and "set_replica_schedule_limit" not in structured


async def test_finished_diagnosis_is_loaded_from_the_database(
    runtime, app_factory, diagnosis_text
) -> None:
    runtime.stores[2].state = "Down"
    await runtime.tick_once()
    runtime.finish(1, diagnosis_text)
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime, ticks=1)
        assert cell(app.query_one(IncidentTable), 1, "status") == "diagnosed"
        await pilot.press("3", "enter")
        await pilot.pause()
        await app.settle()
        await pilot.pause()
        assert app.screen.narrative_text == diagnosis_text
        assert "store_down" in rendered(app.screen.query_one("#diagnosis-summary"))
        await pilot.press("R")
        await pilot.pause()
        await chaos_done(app)
        assert runtime.calls.rediagnosed == [1]


async def test_ticket_queue_orders_and_filters(runtime_factory, app_factory) -> None:
    runtime = runtime_factory(stores=4)
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        runtime.stores[0].state = "Down"
        await ready(app, pilot, runtime, ticks=1)
        runtime.stores[3].state = "Down"
        await ready(app, pilot, runtime, ticks=1)
        runtime.stores[0].state = "Up"
        await ready(app, pilot, runtime, ticks=1)
        tickets = app.query_one(IncidentTable)
        assert [i.id for i in tickets.shown_incidents()] == [2, 1]
        assert runtime.tickets[1].status == TicketStatus.RESOLVED
        await pilot.press("3", "slash")
        await pilot.pause()
        box = app.query_one("#ticket-filter", Input)
        assert box.display and app.focused is box
        await pilot.press(*"store-4")
        await pilot.pause()
        assert tickets.row_count == 1
        await pilot.press("escape")
        await pilot.pause()
        assert not box.display and tickets.row_count == 2
        await pilot.press("3", "slash", *"store-1", "enter")
        await pilot.pause()
        assert app.focused is tickets and tickets.row_count == 1
        await pilot.press("escape")
        await pilot.pause()
        assert not box.display and tickets.row_count == 2


async def test_pause_tick_and_interval_keys(runtime, app_factory, notes_of) -> None:
    app = app_factory(runtime, start_monitor=True)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        await pilot.press("p")
        assert runtime.paused
        await app.settle()
        await pilot.pause()
        assert "PAUSED" in str(app.query_one("#header").render())
        await pilot.press("p")
        assert not runtime.paused
        await pilot.press("r")
        assert runtime.calls.ticks_requested == 1
        await pilot.press("plus")
        assert runtime.interval_s == 3.0
        await pilot.press("minus", "minus")
        assert runtime.interval_s == 1.0
        await pilot.press("minus")
        assert runtime.interval_s == 1.0
        assert "1 s floor" in notes[-1]


async def test_tick_key_says_why_without_monitor(runtime, app_factory, notes_of) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        await pilot.press("r")
        assert runtime.calls.ticks_requested == 0
        assert "not running" in notes.text()


async def test_approve_only_in_approve_mode(
    runtime_factory, app_factory, notes_of, diagnosis_text
) -> None:
    observe = runtime_factory()
    app = app_factory(observe)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        await pilot.press("a")
        assert "only in approve mode" in notes.text() and "observe" in notes.text()
    approving = runtime_factory(mode="approve")
    approving.stores[1].state = "Down"
    await approving.tick_once()
    approving.finish(1, diagnosis_text)
    app = app_factory(approving)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        await open_approve_dialog(app, pilot, approving)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ApproveScreen)
        assert approving.calls.approved == []
        await pilot.press("a")
        await pilot.pause()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await chaos_done(app)
        assert approving.calls.approved == [(1, 0)]
        assert "set_replica_schedule_limit done: n=8" in notes.text()


async def open_approve_dialog(app, pilot, runtime) -> ApproveScreen:
    """On the tickets pane, ``a`` on ticket 1: the dialog is on top."""
    await ready(app, pilot, runtime, ticks=1)
    await pilot.press("3", "a")
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, ApproveScreen)
    return app.screen


async def test_approve_lists_every_action_and_runs_the_chosen_one(
    two_action_runtime, app_factory, notes_of
) -> None:
    approving = two_action_runtime
    await approving.finish_two_actions()
    app = app_factory(approving)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        screen = await open_approve_dialog(app, pilot, approving)
        options = screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert len(prompts) == 2
        assert "set_replica_schedule_limit(n=8)" in prompts[0] and "risk low" in prompts[0]
        assert "transfer_leaders(from_store=2, to_store=3)" in prompts[1]
        assert "risk medium" in prompts[1] and "remaining leaders" in prompts[1]
        await pilot.press("down", "enter")
        await pilot.pause()
        await chaos_done(app)
        assert approving.calls.approved == [(1, 1)]
        assert "transfer_leaders done: from_store=2, to_store=3" in notes.text()


async def test_approve_says_why_without_a_finished_diagnosis(
    runtime_factory, app_factory, notes_of
) -> None:
    approving = runtime_factory(mode="approve")
    approving.stores[1].state = "Down"
    await approving.tick_once()
    app = app_factory(approving)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        await ready(app, pilot, approving, ticks=1)
        await pilot.press("3", "a")
        await chaos_done(app)
        assert "ticket #1 has no finished diagnosis yet" in notes.text()
        assert approving.calls.approved == []


async def test_deploy_key_in_demo_and_help_and_theme(runtime, app_factory, notes_of) -> None:
    from operator_tui.core.subject import DemoOptions

    app = app_factory(runtime, demo=DemoOptions())
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        await pilot.press("D")
        assert "deploy is for the compose lab" in notes.text()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = list(keys_table().columns[0].cells)
        for label in (
            "enter",
            "esc",
            "tab",
            "1",
            "2",
            "3",
            "/",
            "p",
            "r",
            "+",
            "-",
            "ctrl+k",
            "s",
            "D",
            "a",
            "R",
            "t",
            "q",
            "?",
        ):
            assert label in shown, label
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        dark = app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark != dark


async def test_deploy_menu_outside_demo_calls_the_lab(runtime, app_factory, notes_of) -> None:
    from operator_tui.core.deploy import Endpoint, UpResult
    from operator_tui.tui.screens.deploy import DeployScreen

    calls: list[str] = []

    class Lab:
        project = "operator-tikv"

        async def up(self, *, on_progress=None):
            calls.append("up")
            return UpResult((), 3, (Endpoint("Grafana", "http://127.0.0.1:3000"),))

        async def down(self):
            calls.append("down")
            return "lab down"

        async def status(self):
            return []

    runtime.lab = Lab()
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, DeployScreen)
        await pilot.press("u")
        await pilot.pause()
        await chaos_done(app)
        assert calls == ["up"]
        assert "3 stores Up" in notes.text() and "Grafana http://127.0.0.1:3000" in notes.text()


class GatedLab:
    """A deployment whose ``up`` reports the core's progress steps, each held until released."""

    project = "operator-tikv"

    def __init__(self, fail_after_first: bool = False) -> None:
        self.gates = [asyncio.Event() for _ in range(3)]
        self.fail_after_first = fail_after_first

    async def up(self, *, on_progress=None):
        from operator_tui.core.deploy import DeployError, Endpoint, UpProgress, UpResult

        on_progress(UpProgress("starting", 0, 8, detail="pulling images, creating containers"))
        await self.gates[0].wait()
        if self.fail_after_first:
            raise DeployError("pd0 did not become healthy within 120s")
        on_progress(UpProgress("starting", 5, 8, detail="waiting for health checks"))
        await self.gates[1].wait()
        on_progress(UpProgress("starting", 8, 8, detail="healthy"))
        on_progress(UpProgress("stores", stores_up=1, stores_expected=3))
        await self.gates[2].wait()
        on_progress(UpProgress("stores", stores_up=3, stores_expected=3))
        return UpResult((), 3, (Endpoint("Grafana", "http://127.0.0.1:3000"),))


async def until(pilot, condition, what: str) -> None:
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def start_deploy_up(app, pilot):
    """``D`` then ``u``: the deploy dialog stays open on the running ``up``."""
    from operator_tui.tui.screens.deploy import DeployScreen

    await pilot.press("D", "u")
    assert isinstance(app.screen, DeployScreen)
    return app.screen


async def test_deploy_up_shows_its_steps_and_progress(runtime, app_factory, notes_of) -> None:
    from textual.widgets import ProgressBar

    from operator_tui.tui.screens.deploy import DeployScreen

    lab = GatedLab()
    runtime.lab = lab
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        screen = await start_deploy_up(app, pilot)
        bar = screen.query_one("#deploy-bar", ProgressBar)
        await until(pilot, lambda: bar.total == 8, "the first step")
        assert bar.progress == 0
        assert [m for m, _ in screen.step_marks()] == ["current", "pending"]
        steps = str(screen.query_one("#deploy-steps").render())
        assert "▶ start the services" in steps and "· wait until PD reports" in steps

        lab.gates[0].set()
        await until(pilot, lambda: bar.progress == 5, "5 of 8 services ready")
        detail = str(screen.query_one("#deploy-detail").render())
        assert "5/8 services ready · waiting for health checks" in detail

        lab.gates[1].set()
        await until(pilot, lambda: bar.total == 3, "the stores step")
        assert bar.progress == 1
        assert [m for m, _ in screen.step_marks()] == ["done", "current"]

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DeployScreen)
        await pilot.press("D")
        await pilot.pause()
        reopened = app.screen
        assert isinstance(reopened, DeployScreen) and reopened.state == "running"
        assert reopened.query_one("#deploy-bar", ProgressBar).progress == 1
        await pilot.press("d")
        assert "deploy up is running" in notes.text()

        lab.gates[2].set()
        await chaos_done(app)
        await pilot.pause()
        assert reopened.state == "done"
        assert [m for m, _ in reopened.step_marks()] == ["done", "done"]
        assert "lab up: 3 stores Up" in str(reopened.query_one("#deploy-detail").render())
        assert "3 stores Up" in notes.text()
        strip = app.query_one(EventStrip).lines_written
        assert "deploy up: stores" in strip and "deploy up: starting healthy" in strip


async def test_deploy_failure_marks_the_step_that_failed(runtime, app_factory, notes_of) -> None:

    lab = GatedLab(fail_after_first=True)
    runtime.lab = lab
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        screen = await start_deploy_up(app, pilot)
        lab.gates[0].set()
        await chaos_done(app)
        await pilot.pause()
        assert screen.state == "failed"
        assert [m for m, _ in screen.step_marks()] == ["failed", "pending"]
        assert "pd0 did not become healthy" in str(screen.query_one("#deploy-detail").render())
        assert "deploy up failed: pd0 did not become healthy within 120s" in notes.text()


async def test_pane_keys_focus_and_palette_lists_actions(runtime, app_factory) -> None:
    from operator_tui.tui.palette import OperatorCommands

    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        await pilot.press("3")
        assert app.focused is app.query_one(IncidentTable)
        await pilot.press("2")
        assert app.focused is app.query_one(HotRegionsTable)
        await pilot.press("1")
        assert app.focused is app.query_one(StoresTable)
        await pilot.press("tab")
        assert app.focused is app.query_one(HotRegionsTable)
        provider = OperatorCommands(app.screen)
        titles = [hit.text for hit in [h async for h in provider.discover()]]
        for action in (
            "Kill the selected store",
            "Pause / resume",
            "Deploy menu",
            "Approve",
            "Filter the focused pane",
            "Quit",
        ):
            assert any(action in str(t) for t in titles), action


async def test_quit_key_exits(runtime, app_factory) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_narrow_terminal_stacks_panes_and_drops_columns(runtime, app_factory) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, runtime)
        stores = app.query_one(StoresTable)
        assert "address" not in stores.column_keys
        assert app.has_class("narrow") and app.has_class("short")
        strip = app.query_one(EventStrip)
        strip.note("a long event line " * 8, runtime.clock())
        await pilot.pause()
        assert not strip.show_horizontal_scrollbar, "a scrollbar would hide the strip's one line"
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert "address" in stores.column_keys
        assert stores.row_count == 3


async def test_command_palette_opens_searches_and_runs(runtime, app_factory, notes_of) -> None:
    from textual.command import CommandPalette

    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        await ready(app, pilot, runtime)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"filter")
        await pilot.pause(0.3)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"approve")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert "only in approve mode" in notes.text()


async def test_hot_pane_says_how_old_the_subjects_answer_is(runtime, app_factory) -> None:
    """A subject that reads hot regions every few ticks reports the age; the pane shows it."""
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        pane = app.query_one("#hot-pane")
        assert pane.border_subtitle == ""
        runtime.extra = {"read_age_s": {"hot_write_regions": 6.0}}
        await ready(app, pilot, runtime, ticks=1)
        assert pane.border_subtitle == "read 6s ago"
        runtime.extra = {"read_age_s": {"hot_write_regions": 0.0}}
        await ready(app, pilot, runtime, ticks=1)
        assert pane.border_subtitle == ""


async def test_ticket_opened_mid_stream_shows_what_streamed_before(
    runtime, app_factory, diagnosis_text
) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        await runtime.kill_store(2)
        await ready(app, pilot, runtime, ticks=1)
        half = len(diagnosis_text) // 2
        await runtime.diagnose(1, [diagnosis_text[:half]], finish=False)
        await app.settle()
        await pilot.press("3", "enter")
        await pilot.pause()
        await app.settle()
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen._live
        assert screen.narrative_text == diagnosis_text[:half]
        assert screen.query_one("#narrative", Markdown).source == diagnosis_text[:half]
        runtime.bus.publish("diagnosis.chunk", ticket_id=1, text=diagnosis_text[half:])
        await app.settle()
        assert screen.narrative_text == diagnosis_text and screen.chunks_streamed == 1


async def test_main_screen_keys_on_a_drill_down_say_where_they_work(
    runtime, app_factory, notes_of
) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, StoreScreen)
        notes = notes_of(app)
        await pilot.press("2", "slash")
        await pilot.pause()
        assert "panes are on the main screen" in notes.text()
        assert "the ticket filter is on the main screen" in notes.text()
        assert isinstance(app.screen, StoreScreen)


async def test_a_high_risk_action_is_never_preselected_and_needs_a_second_yes(
    two_action_runtime, diagnosis_result, app_factory, notes_of
) -> None:
    approving = two_action_runtime
    first = diagnosis_result["recommended_actions"][0]
    first.update(action="drain_store", args={"store_id": 2}, risk="high")
    diagnosis_result["recommended_actions"][1]["risk"] = "high"
    await approving.finish_two_actions()
    app = app_factory(approving)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        screen = await open_approve_dialog(app, pilot, approving)
        assert screen.query_one(OptionList).highlighted is None
        await pilot.press("enter")  # nothing highlighted: enter alone picks nothing
        await pilot.pause()
        assert isinstance(app.screen, ApproveScreen) and approving.calls.approved == []
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert (
            "drain_store(store_id=2)" in app.screen.question and "high-risk" in app.screen.question
        )
        await pilot.press("n")
        await chaos_done(app)
        assert approving.calls.approved == [] and "drain_store(store_id=2) not run" in notes.text()
        await pilot.press("a")
        await pilot.pause()
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.pause()
        await pilot.press("y")
        await chaos_done(app)
        assert approving.calls.approved == [(1, 0)]


async def test_a_low_risk_action_after_a_high_one_is_the_one_highlighted(
    two_action_runtime, diagnosis_result, app_factory
) -> None:
    diagnosis_result["recommended_actions"][0]["risk"] = "high"
    await two_action_runtime.finish_two_actions()
    app = app_factory(two_action_runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_approve_dialog(app, pilot, two_action_runtime)
        assert screen.query_one(OptionList).highlighted == 1


def rendered(static) -> str:
    import io

    from rich.console import Console

    console = Console(width=100, record=True, file=io.StringIO())
    console.print(static.content)
    return console.export_text()


async def test_enter_on_the_queue_opens_the_incident(runtime, app_factory) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        await runtime.kill_store(2)
        await ready(app, pilot, runtime, ticks=1)
        queue = app.query_one(IncidentTable)
        assert cell(queue, 1, "tickets") == "1" and cell(queue, 1, "target") == "store-2"
        assert "Incidents [3]" in str(app.query_one("#tickets-pane").border_title)
        await pilot.press("3", "enter")
        await pilot.pause()
        await app.settle()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, IncidentScreen) and screen.incident_id == 1
        assert screen.incident is not None and [t.id for t in screen.members] == [1]
        facts = rendered(screen.query_one("#incident-facts"))
        assert "cause" in facts and "store_down" in facts and "#1 store_down open (lead)" in facts
        assert "incident opened" in facts
        assert "Lead ticket" in rendered(screen.query_one("#ticket-facts"))
        title = str(screen.query_one("#ticket-title").render())
        assert "Incident #1" in title and "1 ticket" in title


async def test_jk_move_capital_letter_sorts_and_palette_has_no_duplicates(
    runtime, app_factory
) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        stores = app.query_one(StoresTable)
        await pilot.press("j", "j")
        assert stores.selected_store_id == 3
        await pilot.press("k")
        assert stores.selected_store_id == 2
        await pilot.press("G")
        assert stores.cursor_row == stores.row_count - 1
        await pilot.press("g")
        assert stores.cursor_row == 0
        letter = next(k for k, v in stores.sort_letters.items() if v == "id")
        await pilot.press(letter)
        await pilot.press(letter)
        assert stores.row_keys == ["3", "2", "1"]
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Quit" not in titles and "Theme" not in titles
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*"fault slow_disk 2", "enter")
        await pilot.pause()
        from operator_tui.tui.screens.faults import FaultMenuScreen

        if isinstance(app.screen, FaultMenuScreen):
            assert app.screen.wanted_kind == "slow_disk"
            await pilot.press("escape")
            await pilot.pause()
        else:
            lines = app.main.query_one("#events").lines_written
            assert any("fault" in line for line in lines), lines
        await pilot.press("colon", *"regions", "enter")
        await pilot.pause()
        assert app.focused is app.query_one(HotRegionsTable)
