"""The incident screen's investigation: each turn's text, then its tool calls as collapsible
steps, then the next turn's text, as they happen; once finished, the summary first."""

from __future__ import annotations

from textual.widgets import Static
from textual.widgets._collapsible import CollapsibleTitle

from operator_tui.tui.screens.incident import IncidentScreen
from operator_tui.tui.widgets.trace import InvestigationTrace, TraceStep, TraceText, interleave

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
        assert not trace.query(TraceStep) and len(trace.query(TraceText)) == 1
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
        assert order.index("diagnosis-status") < order.index("investigation")
        assert not screen.query_one("#narrative").display  # the text is in the investigation


def _kinds(trace: InvestigationTrace) -> list[str]:
    return [
        f"step:{w.step['tool']}" if isinstance(w, TraceStep) else f"text:{w.text.strip()}"
        for w in trace.children
        if isinstance(w, TraceStep | TraceText)
    ]


def test_interleave_places_each_step_at_its_offset() -> None:
    steps = [{"tool": "a", "at": 5}, {"tool": "b", "at": 5}, {"tool": "c", "at": 9}]
    assert interleave("first then", steps) == [
        ("text", "first"),
        ("step", steps[0]),
        ("step", steps[1]),
        ("text", " the"),
        ("step", steps[2]),
        ("text", "n"),
    ]
    assert interleave("first then", steps, trailing=False)[-1] == ("step", steps[2])
    assert interleave("text", [{"tool": "old"}])[0] == ("step", {"tool": "old"})


async def test_turns_and_steps_alternate_live_then_summary_first(runtime, app_factory) -> None:
    """Text, a step, text, a step, text, as the bus brings them; once finished the summary
    comes first, the text between the steps and the steps below it, not the last turn."""
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_incident(app, pilot, runtime, "Looking at store 2.\n")
        trace = screen.query_one("#investigation", InvestigationTrace)
        bus = runtime.bus
        bus.publish("diagnosis.step", ticket_id=1, step={**STEPS[0], "at": 19})
        await app.settle()
        bus.publish("diagnosis.chunk", ticket_id=1, text="Logs show a kill. ")
        bus.publish("diagnosis.chunk", ticket_id=1, text="Check PD.\n")
        await app.settle()
        bus.publish("diagnosis.step", ticket_id=1, step={**STEPS[1], "at": 47})
        bus.publish("diagnosis.chunk", ticket_id=1, text="Store 2 is gone.\n")
        await app.settle()
        assert _kinds(trace) == [
            "text:Looking at store 2.",
            "step:search_logs",
            "text:Logs show a kill. Check PD.",
            "step:get_store",
            "text:Store 2 is gone.",
        ]
        text = "Looking at store 2.\nLogs show a kill. Check PD.\nStore 2 is gone.\n"
        runtime.finish(1, text)
        record = runtime.diagnoses[1]
        record.investigation = [{**STEPS[0], "at": 19}, {**STEPS[1], "at": 47}]
        await app.settle()
        await pilot.pause()
        assert _kinds(trace) == [
            "text:Looking at store 2.",
            "step:search_logs",
            "text:Logs show a kill. Check PD.",
            "step:get_store",
        ]
        column = screen.query_one("#ticket-diagnosis-col")
        order = [w.id for w in column.children]
        assert order.index("diagnosis-summary") < order.index("investigation")
        assert order.index("investigation") < order.index("structured")
        assert screen.query_one("#diagnosis-summary").display and trace.display


def test_incident_trace_snapshot(snap_compare, runtime, app_factory, diagnosis_text) -> None:
    """A turn's text, its three steps (the second open: titles with arguments, outcome, time
    and size), then the next turn's text."""
    app = app_factory(runtime)

    async def run_before(pilot) -> None:
        await _open_incident(app, pilot, runtime, diagnosis_text)
        await _steps(app, runtime)
        runtime.bus.publish("diagnosis.chunk", ticket_id=1, text="\n\nNext turn: store 2 is gone.")
        await app.settle()
        step = app.screen.query(TraceStep)[1]
        await pilot.click(step.query_one(CollapsibleTitle))
        await app.settle()
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
