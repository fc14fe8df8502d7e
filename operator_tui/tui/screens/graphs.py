"""The cluster's last minutes as charts (``m``): requests, p99 latency, disk used and CPU, the
cluster's line and the busiest stores', with the incidents opened in the window marked on the
time axis. Redrawn on every tick; ``w`` switches the window between 5, 15 and 30 minutes.

Given a store (``m`` on the store screen, ``:graphs 3``) the same charts show that store
alone, its own line only, and only the incidents on that store are marked."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual_plotext import PlotextPlot

from operator_tui.core.incident import IncidentStatus
from operator_tui.tui.graphs import (
    CHARTS,
    CLUSTER_LINE,
    WINDOWS_MIN,
    ChartData,
    chart_data,
    incident_marks,
)
from operator_tui.tui.messages import TicketListLoaded, TickObserved
from operator_tui.tui.screens.page import PageScreen

STORE_COLORS = ("cyan", "green", "magenta", "yellow", "blue", "orange", "gray", "white")


class GraphsScreen(PageScreen):
    PREFIX = "graphs"
    BINDINGS = [Binding("w", "next_window", "Window")]
    DEFAULT_CSS = """
    GraphsScreen #graphs-grid { grid-size: 2 2; height: 1fr; }
    GraphsScreen PlotextPlot { height: 1fr; }
    """

    def __init__(self, window_min: int = WINDOWS_MIN[0], store_id: int | None = None) -> None:
        super().__init__()
        self.window_min = window_min
        self.store_id = store_id
        """The one store drawn, or None for the cluster and its busiest stores."""
        self.data: dict[str, ChartData] = {}

    def compose_body(self) -> ComposeResult:
        with Grid(id="graphs-grid"):
            for chart in CHARTS:
                yield PlotextPlot(id=f"graph-{chart.key}")

    def on_mount(self) -> None:
        self.redraw()

    @on(TickObserved)
    @on(TicketListLoaded)
    def _changed(self) -> None:
        self.redraw()

    def action_next_window(self) -> None:
        at = WINDOWS_MIN.index(self.window_min) if self.window_min in WINDOWS_MIN else -1
        self.window_min = WINDOWS_MIN[(at + 1) % len(WINDOWS_MIN)]
        self.redraw()

    def redraw(self) -> None:
        host = self.host
        now = host.clock()
        snapshot = host.latest_snapshot()
        store_ids = [s.id for s in snapshot.stores] if snapshot is not None else []
        if self.store_id is not None:
            store_ids = [self.store_id]
        since = now - timedelta(minutes=self.window_min)
        history = {sid: host.metric_since(sid, since) for sid in store_ids}
        open_incidents = [
            (i.id, i.opened_at)
            for i in host.incidents()
            if i.status != IncidentStatus.RESOLVED
            and (self.store_id is None or i.store_id == self.store_id)
        ]
        marks = incident_marks(open_incidents, now, self.window_min)
        for chart in CHARTS:
            data = chart_data(chart, history, now, self.window_min)
            self.data[chart.key] = data
            self._draw(self.query_one(f"#graph-{chart.key}", PlotextPlot), data, marks)
        title = Text("Graphs ", style="bold")
        if self.store_id is not None:
            title.append(f"store {self.store_id} ", style="bold")
        title.append(f"last {self.window_min} min", style="bold cyan")
        if self.store_id is None:
            title.append(f"  {len(store_ids)} stores", style="dim")
        if marks:
            title.append("  incidents: ", style="dim")
            title.append(" ".join(f"#{i}" for i, _ in marks), style="bold red")
        self.set_title(title)
        lines = "the store's line" if self.store_id is not None else "thick line: cluster"
        self.set_status(f"w: 5 / 15 / 30 min · {lines} · red lines: open incidents · esc back")

    def _draw(self, widget: PlotextPlot, data: ChartData, marks: list[tuple[int, float]]) -> None:
        plt = widget.plt
        plt.clear_figure()
        chart = data.chart
        extra = f", +{data.hidden_stores} stores not drawn" if data.hidden_stores else ""
        plt.title(f"{chart.title} ({chart.unit}){extra}")
        plt.xlabel("minutes ago")
        plt.xlim(-self.window_min, 0)
        plt.ylim(0, data.top)
        step = 1 if self.window_min <= 5 else 5
        ticks = list(range(-self.window_min, 1, step))
        plt.xticks(ticks, [str(-t) for t in ticks])
        top = data.top
        plt.yticks([0, top / 2, top], [_tick(0), _tick(top / 2), _tick(top)])
        for n, (store_id, line) in enumerate(data.stores.items()):
            xs, ys = zip(*line, strict=True)
            plt.plot(xs, ys, color=STORE_COLORS[n % len(STORE_COLORS)], label=f"s{store_id}")
        if data.cluster and self.store_id is None:
            xs, ys = zip(*data.cluster, strict=True)
            plt.plot(
                xs, ys, color="red+", marker="braille", label=f"cluster {CLUSTER_LINE[chart.key]}"
            )
        for incident_id, x in marks:
            plt.vline(x, "red")
            plt.text(f"#{incident_id}", x, top * 0.95, color="red")
        if not data.stores and (self.store_id is not None or not data.cluster):
            plt.text("no data yet", -self.window_min * 0.6, top / 2)
        widget.refresh()

    def context_store_id(self) -> int | None:
        return self.store_id

    def copy_text(self) -> str | None:
        lines = []
        for key, data in self.data.items():
            for x, v in data.cluster if self.store_id is None else ():
                lines.append(f"{key}\tcluster\t{x:.2f}\t{v:g}")
            for store_id, line in data.stores.items():
                lines.extend(f"{key}\ts{store_id}\t{x:.2f}\t{v:g}" for x, v in line)
        return "\n".join(lines) or None


def _tick(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"
