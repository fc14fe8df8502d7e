"""The incident screen's investigation: each tool call a collapsible step, as it ends."""

from __future__ import annotations

from textual.widgets import Static
from textual.widgets._collapsible import CollapsibleTitle

from operator_tui.tui.screens.incident import IncidentScreen
from operator_tui.tui.widgets.trace import InvestigationTrace, TraceStep

SIZE = (120, 40)
STEPS = (
    {"tool": "search_logs", "input": {"store_id": 2}, "ok": True, "ms": 3.0, "result_chars": 340},
    {"tool": "get_store", "input": {"store_id": 2}, "ok": True, "ms": 12.4, "result_chars": 512},
    {"tool": "get_region", "input": {"region_id": 9}, "ok": False, "ms": 1.0, "result_chars": 80},
)
SUMMARIES = ("4 events", "[b]Down[/b]\x1b[2J", "PD: region 9 not found")


async def _open_incident(app, pilot, runtime, diagnosis_text) -> IncidentScreen:
    for _ in range(2):
        runtime.clock.advance(2)
        await runtime.tick_once()
    await app.settle()
    await runtime.kill_store(2)
    runtime.clock.advance(2)
    await runtime.tick_once()
    await app.settle()
    await runtime.diagnose(1, [diagnosis_text[:40]], finish=False)
    await app.settle()
    await pilot.press("3", "enter")
    await pilot.pause()
    await app.settle()
    screen = app.screen
    assert isinstance(screen, IncidentScreen)
    return screen


async def _steps(app, runtime, ticket_id: int = 1) -> None:
    for step, summary in zip(STEPS, SUMMARIES, strict=True):
        runtime.bus.publish(
            "diagnosis.step", ticket_id=ticket_id, step={**step, "summary": summary}
        )
        await app.settle()


async def test_tool_calls_appear_as_collapsible_steps(runtime, app_factory, diagnosis_text) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_incident(app, pilot, runtime, diagnosis_text)
        trace = screen.query_one("#investigation", InvestigationTrace)
        assert not trace.display and not trace.query(TraceStep)
        await _steps(app, runtime)
        runtime.bus.publish("diagnosis.step", ticket_id=99, step={"tool": "other_ticket"})
        await app.settle()
        assert trace.display
        steps = list(trace.query(TraceStep))
        assert [s.step["tool"] for s in steps] == ["search_logs", "get_store", "get_region"]
        assert all(s.collapsed for s in steps)
        titles = [s.query_one(CollapsibleTitle).label.plain for s in steps]
        assert titles == [
            "search_logs(store_id=2) ok 3 ms · 340 chars",
            "get_store(store_id=2) ok 12 ms · 512 chars",
            "get_region(region_id=9) failed 1 ms · 80 chars",
        ]
        await pilot.click(steps[1].query_one(CollapsibleTitle))
        await app.settle()
        assert not steps[1].collapsed
        body = steps[1].query_one(".trace-summary", Static).visual
        assert "[b]Down[/b]" in body.plain and "\x1b" not in body.plain  # text, never markup
        column = screen.query_one("#ticket-diagnosis-col")
        order = [w.id for w in column.children]
        assert (
            order.index("diagnosis-status")
            < order.index("investigation")
            < order.index("narrative")
        )


def test_incident_trace_snapshot(snap_compare, runtime, app_factory, diagnosis_text) -> None:
    """Three steps, the second open: titles with arguments, outcome, time and size."""
    app = app_factory(runtime)

    async def run_before(pilot) -> None:
        await _open_incident(app, pilot, runtime, diagnosis_text)
        await _steps(app, runtime)
        step = app.screen.query(TraceStep)[1]
        await pilot.click(step.query_one(CollapsibleTitle))
        await app.settle()
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
