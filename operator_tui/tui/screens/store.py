"""Store drill-down: metric history, regions and leaders, hot regions it leads, log events, open tickets."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from operator_tui.core.ticket import TicketStatus
from operator_tui.tui.format import age, health_text, num, pct, rate_bytes, severity_text, shown
from operator_tui.tui.messages import TicketListLoaded, TickObserved
from operator_tui.tui.render import HISTORY_WIDTH, log_lines, store_history
from operator_tui.tui.screens.drilldown import DrillDownScreen, section
from operator_tui.tui.widgets.hot_regions import leading_entries
from operator_tui.tui.widgets.stores import figure_text


def gib(value: int | None) -> str:
    return "-" if not value else f"{value / 2**30:.1f} GiB"


class StoreScreen(DrillDownScreen):
    PREFIX = "store"
    SIDE_ID = "store-left"
    MAIN_ID = "store-right"

    def __init__(self, store_id: int) -> None:
        super().__init__()
        self.store_id = store_id

    def compose_side(self) -> ComposeResult:
        # The sparklines first: at 80x24 the side column shows a few lines, and they are what
        # moves tick by tick (the facts below rarely change).
        yield Static(id="store-history")
        yield Static(id="store-facts")
        yield Static(id="store-tickets")

    def compose_main(self) -> ComposeResult:
        yield Static(id="store-hot")
        yield Static(id="store-logs")

    def on_mount(self) -> None:
        self.redraw()

    def context_store_id(self) -> int | None:
        return self.store_id

    def context_ticket_id(self) -> int | None:
        return None

    @on(TickObserved)
    @on(TicketListLoaded)
    def _changed(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Drawn from memory only (latest snapshot, metric history, loaded tickets); called on every tick."""
        app = self.host
        snapshot = app.latest_snapshot()
        config = app.runtime.config if app.runtime is not None else None
        store = snapshot.store(self.store_id) if snapshot else None
        title = Text(f"Store {self.store_id} ", style="bold")
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style="dim", no_wrap=True)
        facts.add_column()
        if store is None:
            title.append("(not in the latest snapshot)", style="red")
        else:
            title.append_text(health_text(store))
            title.append("  ")
            title.append_text(shown(store.address))
            metrics = snapshot.store_metrics.get(store.id) if snapshot else None
            facts.add_row("address", shown(store.address))
            facts.add_row("status address", shown(store.status_address or "-"))
            facts.add_row("version", shown(store.version or "-"))
            facts.add_row("health", health_text(store))
            facts.add_row("state", shown(store.state))
            if store.health.reason:
                facts.add_row("why", shown(store.health.reason))
            facts.add_row("capacity", gib(store.capacity_bytes))
            facts.add_row(
                "used",
                f"{gib(store.used_bytes)} ({pct(store.used_ratio) if store.capacity_bytes else '-'})",
            )
            for figure in config.store_figures if config is not None else ():
                facts.add_row(figure.label.lower(), shown(figure_text(store, figure)))
            if store.labels:
                facts.add_row(
                    "labels",
                    shown(", ".join(f"{k}={v}" for k, v in sorted(store.labels.items()))),
                )
            if store.last_heartbeat is not None:
                facts.add_row("heartbeat", f"{age(app.clock(), store.last_heartbeat)} ago")
            if metrics is not None and metrics.error:
                facts.add_row("metrics", shown(metrics.error, "red"))
        self.query_one("#store-title", Static).update(title)
        self.query_one("#store-facts", Static).update(Group(Text(""), section("Store"), facts))
        self.query_one("#store-history", Static).update(
            Group(
                section("Metric history"),
                store_history(
                    app.metric_tail(self.store_id, HISTORY_WIDTH),
                    extra=config.metric_figures if config is not None else (),
                ),
            )
        )
        tickets = [
            t
            for t in app.tickets()
            if t.store_id == self.store_id and t.status != TicketStatus.RESOLVED
        ]
        ticket_table = Table.grid(padding=(0, 1))
        for _ in range(4):
            ticket_table.add_column(no_wrap=True)
        for t in tickets:
            ticket_table.add_row(
                f"#{t.id}", severity_text(t.severity), t.status.value, shown(t.invariant)
            )
        self.query_one("#store-tickets", Static).update(
            Group(
                Text(""),
                section("Open tickets"),
                ticket_table if tickets else Text("none", style="dim"),
            )
        )
        hot = [
            h
            for h in leading_entries(snapshot.hot_write_regions if snapshot else [])
            if h.store_id == self.store_id
        ]
        hot_table = Table.grid(padding=(0, 2))
        for _ in range(3):
            hot_table.add_column(no_wrap=True)
        for h in hot[:10]:
            hot_table.add_row(
                f"region {h.range_id}", rate_bytes(h.flow_bytes), f"{num(h.flow_keys)} keys/s"
            )
        self.query_one("#store-hot", Static).update(
            Group(
                section("Hot write regions it leads"),
                hot_table if hot else Text("none", style="dim"),
            )
        )
        self.query_one("#store-logs", Static).update(
            Group(
                Text(""),
                section("Recent log events"),
                log_lines(app.log_events(self.store_id, 100), limit=20),
            )
        )
