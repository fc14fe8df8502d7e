"""Pure parts of the panes: ordering, filtering, sparklines, ages, the keyed diff, the error path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from operator_tui.core.events import Event
from operator_tui.core.incident import Incident, IncidentStatus
from operator_tui.core.subject import Figure, StoreFigure
from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.types import ClusterMetrics, Health, Severity, Snapshot, Store, StoreHealth
from operator_tui.tui.app import OperatorApp
from operator_tui.tui.format import HEALTH_STYLES, age, health_text, rate_bytes, right, sparkline
from operator_tui.tui.widgets.event_strip import describe
from operator_tui.tui.widgets.header import MonitorState, header_text
from operator_tui.tui.widgets.incidents import (
    STILL_SPINNER,
    IncidentTable,
    matches,
    queue_order,
    status_text,
)
from operator_tui.tui.widgets.row_table import RowTable
from operator_tui.tui.widgets.stores import StoresTable

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def ticket(
    id_: int, severity: Severity, status: TicketStatus, seconds: int, invariant: str = "store_down"
) -> Ticket:
    when = T0 + timedelta(seconds=seconds)
    return Ticket(
        id=id_,
        violation_key=f"{invariant}:store-{id_}",
        invariant=invariant,
        subject="tikv",
        target=f"store-{id_}",
        store_id=id_,
        severity=severity,
        status=status,
        message=f"store {id_} is down",
        first_seen=when,
        last_seen=when,
    )


def test_health_cell_shows_the_label_coloured_by_level() -> None:
    store = Store(id=1, address="a", state="Up")
    assert health_text(store).plain == "Up"
    store.health = StoreHealth(Health.UNREACHABLE, "Unreachable", "refused")
    cell = health_text(store)
    assert cell.plain == "Unreachable"
    assert cell.style == HEALTH_STYLES[Health.UNREACHABLE]
    store.health = StoreHealth(Health.DOWN, "")
    assert health_text(store).plain == "Up"
    assert health_text(store).style == HEALTH_STYLES[Health.DOWN]


def incident(
    id_: int, severity: Severity, status: IncidentStatus, seconds: int, cause: str = "store_down"
) -> Incident:
    when = T0 + timedelta(seconds=seconds)
    return Incident(
        id=id_,
        subject="tikv",
        target=f"store-{id_}",
        store_id=id_,
        cause=cause,
        title=f"store {id_}: {cause}",
        severity=severity,
        status=status,
        opened_at=when,
        updated_at=when,
        lead_ticket_id=id_,
        ticket_ids=[id_],
        open_tickets=1,
    )


def test_queue_order_open_then_severity_then_newest() -> None:
    incidents = [
        incident(1, Severity.CRITICAL, IncidentStatus.RESOLVED, 50),
        incident(2, Severity.WARNING, IncidentStatus.OPEN, 40),
        incident(3, Severity.CRITICAL, IncidentStatus.DIAGNOSED, 10),
        incident(4, Severity.CRITICAL, IncidentStatus.OPEN, 30),
        incident(5, Severity.INFO, IncidentStatus.OPEN, 60),
    ]
    assert [i.id for i in queue_order(incidents)] == [4, 3, 2, 5, 1]


def test_filter_needs_every_term() -> None:
    i = incident(7, Severity.WARNING, IncidentStatus.DIAGNOSING, 0, cause="high_write_latency")
    assert matches(i, "latency store-7")
    assert matches(i, "#7 WARNING")
    assert not matches(i, "latency store-8")


def test_status_cell_spins_only_when_animated() -> None:
    i = incident(1, Severity.CRITICAL, IncidentStatus.DIAGNOSING, 0)
    assert status_text(i, None).plain == f"{STILL_SPINNER} diagnosing"
    assert status_text(i, 0).plain != status_text(i, 1).plain
    i.status = IncidentStatus.OPEN
    assert status_text(i, 0).plain == "open"


def test_sparkline_ages_and_rates() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([None, 5, 5]) == " ▄▄"
    assert sparkline([]) == ""
    assert sparkline(range(100), width=5) == "▁▃▅▆█"
    assert age(T0, T0 - timedelta(seconds=42)) == "42s"
    assert age(T0, T0 - timedelta(hours=2, minutes=5)) == "2h05m"
    assert age(T0, T0 + timedelta(seconds=5)) == "0s"
    assert rate_bytes(512) == "512B/s" and rate_bytes(3 * 1024 * 1024) == "3.00MiB/s"


def test_event_strip_lines() -> None:
    opened = Event("ticket.opened", {"ticket": {"id": 3, "message": "store 2 is down"}})
    assert describe(opened) == "ticket #3 opened: store 2 is down"
    proposed = Event(
        "action.proposed",
        {
            "ticket_id": 3,
            "action": "set_replica_schedule_limit",
            "args": {"n": 16},
            "risk": "medium",
        },
    )
    assert describe(proposed) == "ticket #3: proposed set_replica_schedule_limit(n=16), risk medium"
    assert describe(Event("tick", {})) is None
    assert describe(Event("diagnosis.chunk", {"ticket_id": 1, "text": "x"})) is None


class Numbers(RowTable):
    COLUMNS = (("N", "n", 4), ("Square", "sq", 6))


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Numbers()


async def test_keyed_diff_updates_reorders_and_keeps_the_cursor() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(Numbers)
        assert table.set_rows([(n, (n, n * n)) for n in (1, 2, 3)])
        await pilot.pause()
        table.move_cursor(row=2)
        assert table.selected_key == "3"
        assert not table.set_rows([(n, (n, n * n)) for n in (1, 2, 3)])
        assert table.set_rows([(n, (n, -n)) for n in (3, 1, 2)])
        assert table.selected_key == "3" and table.cursor_row == 0
        assert table.get_cell("1", "sq") == -1
        assert table.set_rows([(4, (4, 16)), (3, (3, 9))])
        assert table.row_keys == ["4", "3"]
        assert table.selected_key == "3" and table.cursor_row == 1
        assert table.set_rows([(4, (4, Text("16", style="red"))), (3, (3, 9))])
        assert table.set_rows([(4, (4, Text("16", style="green"))), (3, (3, 9))]), "a new style"
        assert not table.set_rows([(4, (4, Text("16", style="green"))), (3, (3, 9))])
        assert table.set_rows([(4, (4, 16))])
        assert table.selected_key == "4" and table.cursor_row == 0
        assert table.set_rows([])
        assert table.selected_key is None and table.row_count == 0


async def test_keys_move_the_cursor_and_enter_selects() -> None:
    selected: list[str] = []

    class Picking(App[None]):
        def compose(self) -> ComposeResult:
            yield Numbers()

        def on_row_table_row_selected(self, event: RowTable.RowSelected) -> None:
            selected.append(event.row_key)

    app = Picking()
    async with app.run_test(size=(30, 6)) as pilot:
        table = app.query_one(Numbers)
        table.set_rows([(n, (n, n * n)) for n in range(1, 21)])
        table.focus()
        await pilot.pause()
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert selected == ["3"]
        await pilot.press("end")
        await pilot.pause()
        assert table.selected_key == "20"
        assert table.scroll_offset.y > 0, "the cursor row is scrolled into view"
        last = table.render_lines(Region(0, 0, *table.size))[-1]
        assert last.text.split()[:2] == ["20", "400"]
        await pilot.press("home", "pagedown")
        assert table.cursor_row == table.size.height - 1, "a page is the rows under the header"
        await pilot.click(Numbers, offset=(2, 2))
        await pilot.pause()
        assert table.cursor_row == table.scroll_offset.y + 1
        await pilot.click(Numbers, offset=(2, 2))
        await pilot.pause()
        assert selected[-1] == table.selected_key


async def test_runtime_that_cannot_open_exits_2_with_one_line(tmp_path) -> None:
    from contextlib import asynccontextmanager

    from operator_tui.config import Settings
    from operator_tui.core.subject import SubjectError

    @asynccontextmanager
    async def broken():
        raise SubjectError("no PD endpoint answered\nsecond line")
        yield

    app = OperatorApp(Settings(db_path=tmp_path / "t.db"), runtime_factory=broken)
    async with app.run_test() as pilot:
        await pilot.pause(0.2)
    assert app.return_code == 2


async def test_spinner_turns_only_the_diagnosing_rows() -> None:
    class Queue(App[None]):
        def compose(self) -> ComposeResult:
            yield IncidentTable()

    app = Queue()
    async with app.run_test() as pilot:
        table = app.query_one(IncidentTable)
        table.apply(
            [
                incident(1, Severity.CRITICAL, IncidentStatus.DIAGNOSING, 0),
                incident(2, Severity.WARNING, IncidentStatus.OPEN, 5),
            ],
            T0,
        )
        await pilot.pause()
        before = table.get_cell("1", "status").plain
        table.spin()
        assert table.get_cell("1", "status").plain != before
        assert table.get_cell("2", "status").plain == "open"
        table.redraw(T0)
        assert table.get_cell("1", "status").plain.endswith("diagnosing")


async def test_event_pump_survives_a_bad_event(runtime, app_factory) -> None:
    from operator_tui.tui.widgets.event_strip import EventStrip

    app = app_factory(runtime)
    async with app.run_test() as pilot:
        runtime.bus.publish("ticket.opened", ticket="not a dict")
        runtime.bus.publish("diagnosis.started", ticket_id=["not", "hashable"])
        runtime.bus.publish("diagnosis.chunk", ticket_id=99, text=None)
        await runtime.tick_once()
        await app.settle()
        await pilot.pause()
        assert app.last_tick_at is not None
        assert any(w.group == "events" and w.is_running for w in app.workers)
        lines = app.query_one(EventStrip).lines_written
        assert any(line.startswith("display error on diagnosis.started") for line in lines)


class Mixed(RowTable):
    COLUMNS = (("N", "n", 4), ("Word", "word", 8), ("Rate", "rate", 7))


class TwinApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Mixed(id="kept")
        yield Mixed(id="fresh")


def mixed_rows(ns: list[int], salt: int) -> list[tuple[int, tuple[object, ...]]]:
    return [
        (
            n,
            (
                n,
                Text(f"w{(n * salt) % 5}", style="bold" if n % 2 else "cyan"),
                right(f"{(n + salt) % 4}k"),
            ),
        )
        for n in ns
    ]


def frame(table: RowTable) -> list[list[Segment]]:
    return [list(strip) for strip in table.render_lines(Region(0, 0, *table.size))]


async def test_kept_strips_draw_exactly_what_a_fresh_table_draws() -> None:
    """The table keeps row Strips across diffs; every frame must match a table built anew."""
    app = TwinApp()
    async with app.run_test(size=(40, 14)) as pilot:
        kept = app.query_one("#kept", Mixed)
        rounds = [[1, 2, 3, 4], [4, 1, 2, 3], [4, 1, 2, 3], [2, 5, 6, 7], [7, 6, 5, 2, 8]]
        for salt, ns in enumerate(rounds, start=1):
            rows = mixed_rows(ns, salt)
            kept.set_rows(rows)
            kept.move_cursor(row=salt % len(ns))
            await app.query_one("#fresh").remove()
            fresh = Mixed(id="fresh")
            await app.mount(fresh)
            fresh.set_rows(rows)
            fresh.move_cursor(row=salt % len(ns))
            app.set_focus(None)
            # A loaded machine can need more than one pause for the new table's layout and
            # cursor scroll; both settle within a few.
            for _ in range(20):
                await pilot.pause()
                if frame(kept) == frame(fresh):
                    break
            assert frame(kept) == frame(fresh), f"round {salt}"
        kept.set_cells("word", {"8": Text("changed", style="red")})
        await pilot.pause()
        assert "changed" in "".join(s.text for s in frame(kept)[-1 - (kept.size.height - 6)])


async def test_cells_are_padded_justified_cropped_and_styled() -> None:
    app = TwinApp()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one("#kept", Mixed)
        table.set_rows(
            [
                (1, (1, Text("Disconnected", style="bold yellow"), right("12k"))),
                (2, (22, "up", None)),
            ]
        )
        table.move_cursor(row=1)
        app.set_focus(None)
        await pilot.pause()
        header, first, second = ("".join(s.text for s in line) for line in frame(table)[:3])
        # widths 4, 8 and 7, each with a space either side
        assert header.startswith(" N     Word      Rate    ")
        assert first.startswith(" 1     Disconn…      12k ")
        assert second.startswith(" 22    up                ")
        cursor = table.get_component_rich_style("row-table--cursor")
        word = next(s for s in frame(table)[2] if s.text == "up")
        assert word.style is not None and word.style.bgcolor == cursor.bgcolor
        assert frame(table)[2][-1].style.bgcolor == cursor.bgcolor, "the cursor spans the width"
        state = next(s for s in frame(table)[1] if s.text.startswith("Disconn"))
        assert state.style is not None and state.style.bold
        assert state.style.color not in (None, table.rich_style.color), "the state keeps its colour"


def test_the_header_shows_the_figures_the_subject_declares_where_it_declares_them() -> None:
    figures = (
        Figure("lag", "lag"),
        Figure("primary", "primary", lead=True),
        Figure("ratio", "ratio"),
        Figure("absent", "absent"),
    )
    cluster = ClusterMetrics(
        stores_up=2, stores_total=3, figures={"primary": "n1", "lag": 7, "ratio": 0.4}
    )
    state = MonitorState("db", 2.0, "observe", paused=False, demo=False, figures=figures)
    first = header_text(Snapshot(taken_at=T0, cluster=cluster), state, T0).plain.split("\n")[0]
    assert "  primary n1  stores 2/3 up  lag 7  ratio 0  absent -  QPS " in first
    bare = MonitorState("db", 2.0, "observe", paused=False, demo=False)
    first = header_text(Snapshot(taken_at=T0, cluster=cluster), bare, T0).plain.split("\n")[0]
    assert "  stores 2/3 up  QPS " in first and "n1" not in first


class StoresApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StoresTable(id="stores")


async def test_the_stores_table_shows_the_figures_the_subject_declares() -> None:
    """A subject's store record carries its own figures; the table shows the ones it marks as
    columns, between State and Used, and a store without one shows ``-``."""

    @dataclass(slots=True)
    class ShardStore(Store):
        shards: int = 0
        weight: float = 0.0

    figures = (
        StoreFigure("shards", "Shards", "shards"),
        StoreFigure("weight", "Weight", "weight", column=False, digits=1),
    )
    snapshot = Snapshot(
        taken_at=T0,
        stores=[ShardStore(1, "a:1", "Up", shards=12), Store(2, "b:1", "Up")],
    )
    app = StoresApp()
    async with app.run_test() as pilot:
        table = app.query_one(StoresTable)
        table.apply(snapshot)
        assert "fig:shards" not in table.column_keys
        table.apply(snapshot, figures=figures)
        await pilot.pause()
        keys = table.column_keys
        assert keys[keys.index("state") + 1] == "fig:shards" and "fig:weight" not in keys
        assert str(table.get_cell("1", "fig:shards")) == "12"
        assert table.get_cell("2", "fig:shards") == "-"
