"""In the demo, the ticket of a killed store is there right after the kill is confirmed.

The interval is an hour, so no tick on the grid can open it: the closed connection to the
store's status port wakes the monitor. Loopback only, every wait bounded in count.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from operator_tui.config import load_settings
from operator_tui.core.subject import DemoOptions
from operator_tui.tui.app import OperatorApp
from operator_tui.tui.screens.confirm import ConfirmScreen

from .test_demo_story import state_of, until

pytest.importorskip("operator_tikv.sim")

PAUSES = 20
"""Pauses of 50 ms the ticket may take after the confirmation: one early tick's worth."""


async def test_the_ticket_opens_right_after_the_kill_is_confirmed(tmp_path: Path) -> None:
    settings = load_settings(
        storage={"db_path": tmp_path / "tickets.db"},
        monitor={"interval_s": 3600.0},
        diagnosis={"backend": "offline"},
    )
    app = OperatorApp(settings, DemoOptions(max_store_down_time_s=3600, seed=7))
    async with asyncio.timeout(120):
        async with app.run_test(size=(120, 40)) as pilot:
            await until(
                pilot, lambda: all(state_of(app, i) == "Up" for i in (1, 2, 3)), "3 stores Up"
            )
            runtime = app.runtime
            assert runtime is not None
            watch = runtime.subject.store_watch  # type: ignore[attr-defined]
            await until(pilot, lambda: watch.open_connections == 3, "watched stores")
            ticks_before = runtime.monitor.ticks

            await pilot.press("1", "home", "down", "ctrl+k")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation")
            await pilot.press("y")

            def ticket():
                return next(
                    (t for t in app.tickets() if t.invariant == "store_down" and t.store_id == 2),
                    None,
                )

            await until(
                pilot, lambda: ticket() is not None, "store_down ticket", limit_s=PAUSES * 0.05
            )
            assert not isinstance(app.screen, ConfirmScreen)
            assert runtime.monitor.wake_counts["confirmed"] >= 1
            assert runtime.monitor.ticks - ticks_before <= 2  # woken, and the kill's tick now
