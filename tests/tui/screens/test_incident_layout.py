"""The incident screen at 80x24, 120x40 and 200x60: what a reader sees first, what one key
away, and that the extra room goes to the facts (wider sparklines, more log lines)."""

from __future__ import annotations

import pytest
from textual.widgets import Markdown

from operator_tui.core.ticket import TicketStatus
from operator_tui.tui.screens.incident import IncidentScreen

from .slow_disk import slow_disk_app, slow_disk_incident

SIZES = [(80, 24), (120, 40), (200, 60)]


async def _open(app, runtime, pilot) -> IncidentScreen:
    await slow_disk_incident(runtime)
    await app.settle()
    await pilot.press("3", "enter")
    await pilot.pause()
    await app.settle()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, IncidentScreen) and screen.record is not None
    return screen


def _visible(screen, selector: str) -> bool:
    """Shown and inside the screen: displayed, with a non-empty region within its size."""
    widget = screen.query_one(selector)
    if not widget.display or not widget.parent.display:
        return False
    region = widget.region
    return region.area > 0 and region.y < screen.size.height and region.right <= screen.size.width


def _text(widget, width: int = 300) -> str:
    import io

    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_root_cause_and_action_are_above_the_fold(size) -> None:
    runtime, app = slow_disk_app()
    async with app.run_test(size=size) as pilot:
        screen = await _open(app, runtime, pilot)
        summary = screen.query_one("#diagnosis-summary")
        assert _visible(screen, "#diagnosis-summary")
        # Whole, under the title and the status line, above the footer.
        assert summary.region.y <= 4 and summary.region.bottom <= size[1] - 1
        words = _text(summary)
        assert "Root cause slow_disk on store 2" in words
        assert "evict_leader(store_id=2) · risk medium · store_id: None -> 2" in words
        # The structured sections follow without repeating it; the narrative is not shown.
        structured = screen.query_one("#structured", Markdown).source
        assert "## Observation" in structured and "Root cause" not in structured
        assert "evict_leader" not in structured
        assert "p99 write latency: 5.74s, usually 3.20ms" in structured
        assert "RocksDB write stall p99: 1.80s, usually 0" in structured
        assert not screen.query_one("#narrative").display


async def test_at_80x24_the_facts_are_one_key_away() -> None:
    runtime, app = slow_disk_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, runtime, pilot)
        assert not _visible(screen, "#incident-facts")
        await pilot.press("v")
        await pilot.pause()
        assert _visible(screen, "#incident-facts") and not _visible(screen, "#diagnosis-summary")
        assert screen.query_one("#ticket-facts-col").region.width == 80
        assert "slow_store" in _text(screen.query_one("#incident-facts"))
        await pilot.press("v")
        await pilot.pause()
        assert _visible(screen, "#diagnosis-summary") and not _visible(screen, "#incident-facts")


@pytest.mark.parametrize("size", [(120, 40), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_wide_screens_show_both_columns_and_v_gives_the_diagnosis_the_width(size) -> None:
    runtime, app = slow_disk_app()
    async with app.run_test(size=size) as pilot:
        screen = await _open(app, runtime, pilot)
        assert _visible(screen, "#incident-facts") and _visible(screen, "#diagnosis-summary")
        column = screen.query_one("#ticket-diagnosis-col")
        narrow_width = column.region.width
        await pilot.press("v")
        await pilot.pause()
        assert not _visible(screen, "#incident-facts")
        assert column.region.width == size[0] > narrow_width


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_no_metric_figure_is_cut_in_the_facts_column(size) -> None:
    runtime, app = slow_disk_app()
    async with app.run_test(size=size) as pilot:
        screen = await _open(app, runtime, pilot)
        if size[0] < 116:
            await pilot.press("v")
            await pilot.pause()
        side = screen.query_one("#ticket-facts-col").scrollable_content_region.width
        metrics = _text(screen.query_one("#ticket-metrics"), side)
        assert "…" not in metrics and metrics.count("ms") == 3, metrics


async def test_the_extra_room_goes_to_sparklines_log_lines_and_the_event_strip() -> None:
    seen: dict[tuple[int, int], tuple[int, int, int]] = {}
    for size in [(120, 40), (200, 60)]:
        runtime, app = slow_disk_app()
        async with app.run_test(size=size) as pilot:
            strip = app.query_one("#events").region.height
            screen = await _open(app, runtime, pilot)
            metrics = _text(screen.query_one("#ticket-metrics")).splitlines()
            qps = next(line for line in metrics if line.strip().startswith("qps"))
            logs = _text(screen.query_one("#ticket-logs")).strip().splitlines()
            seen[size] = (len(qps.rstrip()), len(logs), strip)
    small, large = seen[(120, 40)], seen[(200, 60)]
    assert large[0] > small[0], seen  # wider sparklines
    assert large[1] > small[1], seen  # more log lines (the store has 40 slow operations)
    assert large[2] > small[2], seen  # a taller event strip on the main screen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_incident_screen_snapshot(snap_compare, size) -> None:
    """A slow-disk incident with its diagnosis: the root cause and the action first."""
    runtime, app = slow_disk_app()

    async def run_before(pilot) -> None:
        await _open(app, runtime, pilot)

    assert snap_compare(app, run_before=run_before, terminal_size=size)


async def test_before_a_diagnosis_the_first_screen_says_what_fired() -> None:
    runtime, app = slow_disk_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await slow_disk_incident(runtime)
        del runtime.diagnoses[1]
        runtime.tickets[1].status = TicketStatus.OPEN
        await app.settle()
        await pilot.press("3", "enter")
        await pilot.pause()
        await app.settle()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, IncidentScreen) and screen.record is None
        assert _visible(screen, "#diagnosis-summary")
        words = _text(screen.query_one("#diagnosis-summary"))
        assert "What fired slow_store on store-2" in words and "slow score is 92" in words
