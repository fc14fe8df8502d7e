"""Snapshots of the logs view, the graphs view and the fault menu at 80x24, 120x40 and 200x60,
over the fake runtime (manual clock, fixed figures)."""

from __future__ import annotations

import pytest

from .conftest import FakeRuntime, ManualClock, make_app
from .test_console_views import add_logs

SIZES = [(80, 24), (120, 40), (200, 60)]


def _app():
    clock = ManualClock()
    runtime = FakeRuntime(clock=clock)
    add_logs(runtime)
    return runtime, make_app(runtime)


async def _ticks(runtime, app, n: int = 6) -> None:
    for _ in range(n):
        await runtime.tick_once()
        runtime.clock.advance(20)
    await app.settle()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_logs_view(snap_compare, size) -> None:
    runtime, app = _app()

    async def run_before(pilot) -> None:
        await _ticks(runtime, app)
        await pilot.press("l")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_graphs_view(snap_compare, size) -> None:
    runtime, app = _app()

    async def run_before(pilot) -> None:
        await _ticks(runtime, app)
        await pilot.press("m")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fault_menu(snap_compare, size) -> None:
    runtime, app = _app()

    async def run_before(pilot) -> None:
        await _ticks(runtime, app, 1)
        await pilot.press("down", "f")
        await pilot.pause()
        await pilot.press("down", "down", "down")
        await pilot.pause()
        await app.settle()
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=size)
