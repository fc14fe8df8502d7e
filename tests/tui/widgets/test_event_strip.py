"""The event strip cuts a line at its own width, and lays its lines out again on resize."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult

from operator_tui.tui.widgets.event_strip import EventStrip

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LONG = "ticket #1 opened: " + " ".join(f"word{i}" for i in range(40))


class StripApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventStrip(id="events")


def _shown(strip: EventStrip) -> list[str]:
    return [strip.render_line(y).text.rstrip() for y in range(strip.size.height)]


async def test_a_line_uses_the_whole_width_and_follows_a_resize() -> None:
    app = StripApp()
    async with app.run_test(size=(200, 10)) as pilot:
        strip = app.query_one(EventStrip)
        strip.note(LONG, T0)  # written before the strip knows its size
        await pilot.pause()
        width = strip.scrollable_content_region.width
        assert width > 190
        assert _shown(strip)[0] == ("00:00:00 " + LONG)[: width - 1] + "…"
        await pilot.resize_terminal(100, 10)
        await pilot.pause()
        width = strip.scrollable_content_region.width
        assert _shown(strip)[0] == ("00:00:00 " + LONG)[: width - 1] + "…"
        await pilot.resize_terminal(300, 10)
        await pilot.pause()
        assert _shown(strip)[0] == "00:00:00 " + LONG
        strip.note("short", T0)
        await pilot.pause()
        assert _shown(strip)[:2] == ["00:00:00 " + LONG, "00:00:00 short"]
