"""The main screen: header, stores, hot regions, the incident queue with its filter, the event strip.

It draws from the runtime (latest snapshot, metric history, ticket list) when the pump says
something changed, and owns what its keys mean: the pane keys, the filter, ``enter``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from operator_tui.core.incident import Incident, IncidentStatus
from operator_tui.core.ticket import Ticket
from operator_tui.tui.format import one_line
from operator_tui.tui.host import Host
from operator_tui.tui.messages import (
    DeployEnded,
    DeployProgress,
    EventsArrived,
    MonitorChanged,
    Note,
    TicketListLoaded,
    TicketsChanged,
    TickObserved,
)
from operator_tui.tui.screens.incident import IncidentScreen
from operator_tui.tui.screens.store import StoreScreen
from operator_tui.tui.widgets.event_strip import EventStrip
from operator_tui.tui.widgets.header import ClusterHeader
from operator_tui.tui.widgets.hot_regions import HotRegionsTable
from operator_tui.tui.widgets.incidents import IncidentTable
from operator_tui.tui.widgets.row_table import RowTable
from operator_tui.tui.widgets.stores import StoresTable

log = logging.getLogger(__name__)
TICKET_LIMIT = 1000
TREND_POINTS = 12  # the stores pane's QPS sparkline reads no more than this each tick
PANES = {"stores": "#stores", "hot": "#hot", "tickets": "#tickets"}
FILTERS = {"stores": "#stores-filter", "hot": "#hot-filter", "tickets": "#ticket-filter"}
PANE_OF_FILTER = {v.lstrip("#"): k for k, v in FILTERS.items()}


def open_by_severity(incidents: list[Incident]) -> dict[str, int]:
    """Unresolved incidents counted by severity, most severe first."""
    counts: dict[str, int] = {}
    for incident in sorted(incidents, key=lambda i: -i.severity.rank):
        if incident.status != IncidentStatus.RESOLVED:
            counts[incident.severity.value] = counts.get(incident.severity.value, 0) + 1
    return counts


class MainScreen(Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.ready = False
        self._deploy_line = ""
        self._tickets: list[Ticket] = []
        self._hot_age = ""

    @property
    def host(self) -> Host:
        return cast(Host, self.app)

    def compose(self) -> ComposeResult:
        yield ClusterHeader(id="header")
        with Vertical(id="main"):
            with Vertical(id="stores-pane", classes="pane"):
                yield Input(
                    placeholder="filter stores (esc clears)", id="stores-filter", classes="filter"
                )
                yield StoresTable(id="stores")
            with Horizontal(id="lower"):
                with Vertical(id="hot-pane", classes="pane"):
                    yield Input(
                        placeholder="filter regions (esc clears)", id="hot-filter", classes="filter"
                    )
                    yield HotRegionsTable(id="hot")
                with Vertical(id="tickets-pane", classes="pane"):
                    yield Input(
                        placeholder="filter incidents (esc clears)",
                        id="ticket-filter",
                        classes="filter",
                    )
                    yield IncidentTable(id="tickets")
        yield EventStrip(id="events")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        if self.app.return_code is not None:  # exiting before the screen was composed
            return
        self.query_one("#stores-pane").border_title = "Stores [1]"
        self.query_one("#hot-pane").border_title = "Hot write regions [2]"
        self.query_one("#tickets-pane").border_title = "Incidents [3]"
        self.query_one("#events").border_title = "Events"
        self.query_one(IncidentTable).frame = 0 if self.host.spinners else None
        self.query_one("#stores", StoresTable).focus()
        self.set_interval(1.0, self._every_second)
        if self.host.spinners:
            self.set_interval(0.125, self._spin)
        self.ready = True
        self.fit(self.app.has_class("narrow"))
        if self.host.runtime is not None:
            self.runtime_attached()
        else:
            self.draw_header()

    # ------------------------------------------------------------- what it shows
    @property
    def tickets(self) -> list[Ticket]:
        return self._tickets

    @property
    def incidents(self) -> list[Incident]:
        return self.query_one(IncidentTable).incidents

    def context_store_id(self) -> int | None:
        return self.query_one(StoresTable).selected_store_id

    def context_ticket_id(self) -> int | None:
        return self.query_one(IncidentTable).selected_ticket_id

    def note(self, line: str, style: str = "") -> None:
        self.query_one(EventStrip).note(line, self.host.clock(), style)

    @contextmanager
    def _display_errors(self, what: str) -> Iterator[None]:
        # One failed redraw must not stop the panes from following the cluster.
        try:
            yield
        except Exception as exc:
            log.exception("main screen: %s failed", what)
            self.note(f"display error: {one_line(exc)}", "bold red")

    def fit(self, narrow: bool) -> None:
        """Below the app's width threshold the stores table drops address and trend."""
        if self.query_one(StoresTable).set_narrow(narrow):
            self.draw_snapshot()

    def draw_header(self) -> None:
        host = self.host
        state = host.monitor_state()
        state.alerts = open_by_severity(self.query_one(IncidentTable).incidents)
        self.query_one(ClusterHeader).show(host.latest_snapshot(), state, host.clock())

    def _pane_counts(self) -> None:
        """``n/m`` under a pane while its filter is on."""
        for pane, selector in PANES.items():
            table = self.query_one(selector, RowTable)
            box = self.query_one(f"#{pane}-pane")
            count = f"/{table.filter_text} {table.row_count}/{table.total_rows}"
            extra = self._hot_age if pane == "hot" else ""
            parts = [p for p in ((count if table.filter_text else ""), extra) if p]
            subtitle = " · ".join(parts)
            if box.border_subtitle != subtitle:  # setting it repaints the whole pane
                box.border_subtitle = subtitle

    def draw_snapshot(self) -> None:
        self.draw_header()
        snapshot = self.host.latest_snapshot()
        if snapshot is None:
            return
        runtime = self.host.runtime
        measures = runtime.config.measures if runtime is not None else ()
        self.query_one(StoresTable).apply(
            snapshot,
            lambda store_id: self.host.metric_tail(store_id, TREND_POINTS),
            runtime.config.store_figures if runtime is not None else (),
            measures,
        )
        self.query_one(HotRegionsTable).apply(snapshot.hot_write_regions, measures)
        age = (snapshot.extra.get("read_age_s") or {}).get("hot_write_regions")
        self._hot_age = f"read {age:.0f}s ago" if isinstance(age, int | float) and age >= 1 else ""
        self._pane_counts()

    def runtime_attached(self) -> None:
        self.draw_snapshot()
        self._reload_tickets()

    @work(group="tickets", exit_on_error=False, name="tickets")
    async def _reload_tickets(self) -> None:
        await self.load_tickets()

    async def load_tickets(self) -> None:
        runtime = self.host.runtime
        if runtime is None:
            return
        try:
            tickets = await runtime.list_tickets(include_resolved=True, limit=TICKET_LIMIT)
            incidents = await runtime.list_incidents(include_resolved=True, limit=TICKET_LIMIT)
        except Exception as exc:
            self.note(f"cannot read tickets: {one_line(exc)}", "bold red")
            return
        self._tickets = tickets
        self.query_one(IncidentTable).apply(incidents, self.host.clock())
        self._pane_counts()
        self.draw_header()
        pump = self.host.pump
        if pump is not None:
            pump.broadcast(TicketListLoaded)

    def _every_second(self) -> None:
        self.draw_header()
        self.query_one(IncidentTable).redraw(self.host.clock())

    def _spin(self) -> None:
        table = self.query_one(IncidentTable)
        if table.diagnosing:
            table.spin()

    # ------------------------------------------------------------ what changed
    @on(EventsArrived)
    def _events(self, message: EventsArrived) -> None:
        strip = self.query_one(EventStrip)
        for event in message.events:
            strip.add(event, message.at)

    @on(Note)
    def _note(self, message: Note) -> None:
        self.query_one(EventStrip).note(message.text, message.at, message.style)

    @on(TickObserved)
    def _tick(self) -> None:
        with self._display_errors("drawing the snapshot"):
            self.draw_snapshot()

    @on(MonitorChanged)
    def _monitor(self) -> None:
        self.draw_header()

    @on(TicketsChanged)
    async def _tickets_changed(self) -> None:
        with self._display_errors("drawing the tickets"):
            await self.load_tickets()

    @on(DeployProgress)
    def _deploy_progress(self, message: DeployProgress) -> None:
        step = message.step
        line = f"deploy {message.verb}: {step.phase} {step.detail}".strip()
        if line != self._deploy_line:
            self._deploy_line = line
            self.query_one(EventStrip).note(line, message.at)

    @on(DeployEnded)
    def _deploy_ended(self, message: DeployEnded) -> None:
        self._deploy_line = ""
        strip = self.query_one(EventStrip)
        if not message.ok:
            strip.note(message.message, message.at, "bold red")
            return
        for line in message.message.splitlines():
            strip.note(line, message.at)

    # ------------------------------------------------------------- navigation
    @on(RowTable.RowSelected, "#stores")
    def _open_store(self, event: RowTable.RowSelected) -> None:
        self.app.push_screen(StoreScreen(int(event.row_key)))

    @on(RowTable.RowSelected, "#hot")
    def _open_hot(self, event: RowTable.RowSelected) -> None:
        leader = self.query_one(HotRegionsTable).selected_leader_store
        if leader is not None:
            self.app.push_screen(StoreScreen(leader))

    @on(RowTable.RowSelected, "#tickets")
    def _open_incident(self, event: RowTable.RowSelected) -> None:
        incident = self.query_one(IncidentTable).incident(int(event.row_key))
        if incident is not None:
            self.app.push_screen(IncidentScreen(incident.id, incident.lead_ticket_id))

    def action_open_selected(self) -> None:
        focused = self.focused
        table = focused if isinstance(focused, RowTable) else self.query_one(StoresTable)
        if not table.row_count:
            self.notify("nothing to open: the pane is empty")
            return
        table.action_select_cursor()

    def action_focus_pane(self, pane: str) -> None:
        # At once, not deferred like Widget.focus(): a key typed right after (3 then enter)
        # must reach the pane just chosen.
        self.set_focus(self.query_one(PANES[pane]))

    def _focused_pane(self) -> str:
        focused = self.focused
        for pane, selector in PANES.items():
            if focused is self.query_one(selector):
                return pane
        if isinstance(focused, Input) and focused.id in PANE_OF_FILTER:
            return PANE_OF_FILTER[focused.id]
        return "stores"

    def action_back(self) -> None:
        for pane, selector in FILTERS.items():
            if self.query_one(selector, Input).display:
                self._clear_filter(pane)

    def action_filter(self) -> None:
        """``/`` filters the focused pane; its border says how many rows match (n/m)."""
        box = self.query_one(FILTERS[self._focused_pane()], Input)
        box.display = True
        box.focus()

    @on(Input.Changed, ".filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        pane = PANE_OF_FILTER.get(event.input.id or "")
        if pane is None:
            return
        self.query_one(PANES[pane], RowTable).set_filter(event.value)
        self._pane_counts()

    @on(Input.Submitted, ".filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        pane = PANE_OF_FILTER.get(event.input.id or "")
        if pane is None:
            return
        if not event.value.strip():
            self._clear_filter(pane)
        else:
            self.query_one(PANES[pane]).focus()

    def on_key(self, event: events.Key) -> None:
        focused = self.focused
        if event.key == "escape" and isinstance(focused, Input) and focused.id in PANE_OF_FILTER:
            event.stop()
            self._clear_filter(PANE_OF_FILTER[focused.id])

    def _clear_filter(self, pane: str = "tickets") -> None:
        box = self.query_one(FILTERS[pane], Input)
        box.value = ""
        box.display = False
        table = self.query_one(PANES[pane], RowTable)
        table.set_filter("")
        self._pane_counts()
        table.focus()

    def action_sort(self, pane: str, column: str) -> None:
        """Sort a pane by a column (what ``:sort`` and the capital letters do)."""
        table = self.query_one(PANES[pane], RowTable)
        if column in table.column_keys:
            table.sort_by(column)
