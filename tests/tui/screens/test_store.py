"""The store screen at 80x24: what moves tick by tick (the sparklines) is on screen."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Static

from operator_tui.tui.screens.store import StoreScreen


def shown_text(widget: Static) -> str:
    return "\n".join(s.text for s in widget.render_lines(Region(0, 0, *widget.size)))


async def test_at_80x24_the_metric_history_is_in_view_and_follows_the_ticks(
    runtime, app_factory
) -> None:
    app = app_factory(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(4):
            await runtime.tick_once()
            runtime.clock.advance(2)
        await app.settle()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StoreScreen)
        history = screen.query_one("#store-history", Static)
        rows = [y for y in range(24) if screen.get_widget_at(2, y)[0] is history]
        assert rows and rows[0] < 6, rows
        before = shown_text(history)
        assert "Metric history" in before and "QPS" in before
        await runtime.tick_once()
        await app.settle()
        await pilot.pause()
        assert shown_text(history) != before
