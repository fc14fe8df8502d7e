"""The whole story in the demo, end to end through the keys: kill a store, watch the ticket, read the
diagnosis as it streams, start the store, see the ticket resolve. Loopback only, every wait bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Markdown

from operator_tui.config import load_settings
from operator_tui.core.subject import DemoOptions
from operator_tui.core.ticket import TicketStatus
from operator_tui.tui.app import OperatorApp
from operator_tui.tui.screens.ticket import TicketScreen
from operator_tui.tui.widgets.incidents import IncidentTable
from operator_tui.tui.widgets.stores import StoresTable

from .test_app import rendered

pytest.importorskip("operator_tikv.sim")

pytestmark = pytest.mark.slow


async def until(pilot, condition: Callable[[], bool], what: str, limit_s: float = 60.0) -> None:
    for _ in range(int(limit_s / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def state_of(app: OperatorApp, store_id: int) -> str:
    table = app.query_one(StoresTable)
    if not table.has_row(store_id):
        return ""
    value = table.get_cell(str(store_id), "state")
    return value.plain if isinstance(value, Text) else str(value)


async def test_kill_ticket_diagnosis_start_resolve(tmp_path: Path) -> None:
    settings = load_settings(
        storage={"db_path": tmp_path / "tickets.db"},
        monitor={"interval_s": 1.0},
        diagnosis={"backend": "offline"},
    )
    app = OperatorApp(settings, DemoOptions(speed=10.0, max_store_down_time_s=3600, seed=7))
    async with asyncio.timeout(300):
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: state_of(app, 2) == "Up", "store 2 Up")
            await until(
                pilot, lambda: all(state_of(app, i) == "Up" for i in (1, 2, 3)), "3 stores Up"
            )

            await pilot.press("1", "home", "down", "ctrl+k")
            await pilot.pause()
            await pilot.press("y")
            await until(pilot, lambda: state_of(app, 2) == "Disconnected", "store 2 Disconnected")

            tickets = app.query_one(IncidentTable)

            def store_down_ticket():
                return next(
                    (t for t in app.tickets() if t.invariant == "store_down" and t.store_id == 2),
                    None,
                )

            await until(pilot, lambda: store_down_ticket() is not None, "the store_down ticket")
            ticket = store_down_ticket()
            assert ticket is not None and tickets.selected_ticket_id is not None
            await until(pilot, lambda: bool(tickets.incidents), "its incident in the queue")
            assert any(i.lead_ticket_id == ticket.id for i in tickets.incidents)

            await pilot.press("3", "home", "enter")
            await until(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket screen")
            screen = app.screen
            assert isinstance(screen, TicketScreen) and screen.ticket_id == ticket.id
            await until(
                pilot,
                lambda: screen.record is not None and screen.record.result is not None,
                "the first diagnosis",
            )
            await pilot.press("R")
            await until(
                pilot, lambda: screen.chunks_streamed > 0, "diagnosis chunks on the open screen"
            )
            await until(
                pilot,
                lambda: (
                    not screen._live
                    and screen.record is not None
                    and screen.record.finished_at is not None
                    and screen.narrative_text == screen.record.text
                    and bool(screen.record.text)
                ),
                "the re-run diagnosis to finish",
            )
            assert not screen.query_one("#narrative").display
            assert "store_down" in rendered(screen.query_one("#diagnosis-summary"))
            assert "## Observation" in screen.query_one("#structured", Markdown).source

            await pilot.press("s")
            await until(pilot, lambda: state_of(app, 2) == "Up", "store 2 Up again")
            await until(
                pilot,
                lambda: (
                    (t := store_down_ticket()) is not None and t.status == TicketStatus.RESOLVED
                ),
                "the ticket to resolve",
            )
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("q")
            await pilot.pause()
    assert app.return_code == 0
