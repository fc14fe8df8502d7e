"""Two-line cluster header: topology and load, then how the monitor is running."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widgets import Static

from operator_tui.core.subject import Figure
from operator_tui.core.text import plain
from operator_tui.core.types import Snapshot
from operator_tui.tui.format import SEVERITY_STYLES, age, clock_time, ms, num


@dataclass(slots=True)
class MonitorState:
    name: str
    interval_s: float
    mode: str
    paused: bool
    demo: bool
    last_tick_at: datetime | None = None
    """When the front end last saw a ``tick`` event (its own clock)."""
    last_tick_error: str | None = None
    """The error of the last tick when the subject could not be observed."""
    figures: tuple[Figure, ...] = ()
    """The subject's own cluster figures, as it declares them (``SubjectConfig.cluster_figures``)."""
    alerts: dict[str, int] = field(default_factory=dict)
    """Open incidents by severity, most severe first."""


SHORT_SEVERITY = {"critical": "crit", "warning": "warn", "info": "info"}


def alerts_text(alerts: dict[str, int]) -> Text:
    """``2 crit · 1 warn`` in the severities' colours; ``no incidents`` when none is open."""
    text = Text()
    if not alerts:
        text.append("no incidents", style="green")
        return text
    for i, (severity, n) in enumerate(alerts.items()):
        if i:
            text.append(" · ", style="dim")
        text.append(
            f"{n} {SHORT_SEVERITY.get(severity, severity)}", style=SEVERITY_STYLES.get(severity, "")
        )
    return text


def stale_after(interval_s: float) -> float:
    """A tick older than two intervals plus a grace second is late."""
    return 2 * interval_s + 1.0


def _figures(values: dict[str, Any], figures: list[Figure]) -> list[Text]:
    parts = []
    for f in figures:
        text = Text()
        text.append(f"  {f.label} ", style="dim")
        value = values.get(f.name)
        if value is None or value == "":
            text.append("-")
        else:
            text.append(num(value) if isinstance(value, float) else plain(value, limit=40))
        parts.append(text)
    return parts


def _part(label: str, value: str, style: str = "") -> Text:
    text = Text()
    text.append(label, style="dim")
    text.append(value, style=style)
    return text


def fitted(parts: list[tuple[int, Text]], width: int | None) -> Text:
    """The parts in order, leaving out the least important (lowest rank, rightmost first) until
    the line fits ``width``: a figure is shown whole or not at all, never cut."""
    kept = list(parts)
    if width is not None:
        while sum(t.cell_len for _, t in kept) > width and len(kept) > 1:
            lowest = min(rank for rank, _ in kept)
            at = max(i for i, (rank, _) in enumerate(kept) if rank == lowest)
            del kept[at]
    line = Text()
    for _, text in kept:
        line.append_text(text)
    return line


def header_text(
    snapshot: Snapshot | None, state: MonitorState, now: datetime, width: int | None = None
) -> Text:
    """Two lines (three with an error); with ``width`` each of the first two drops its least
    important parts (the subject's figures first, then the source, ...) rather than cut one."""
    first: list[tuple[int, Text]] = [
        (9, Text(f" {plain(state.name, limit=60)} ", style="bold reverse"))
    ]
    if state.demo:
        first.append((5, Text(" demo", style="bold magenta")))
    first.append((8, Text("  ") + alerts_text(state.alerts)))
    if snapshot is None:
        waiting = "no observation yet" if state.last_tick_at else "waiting for the first tick…"
        first.append((7, Text(f"  {waiting}", style="dim")))
    else:
        c = snapshot.cluster
        up_style = "green" if c.stores_up == c.stores_total else "bold red"
        first += [(3, t) for t in _figures(c.figures, [f for f in state.figures if f.lead])]
        first.append((7, _part("  stores ", f"{c.stores_up}/{c.stores_total} up", up_style)))
        first += [(2, t) for t in _figures(c.figures, [f for f in state.figures if not f.lead])]
        first.append((6, _part("  QPS ", num(c.qps))))
        first.append((7, _part("  p99 ", ms(c.p99_latency_ms))))
    second: list[tuple[int, Text]] = [
        (4, _part(" interval ", f"{state.interval_s:g}s")),
        (5, _part("  mode ", state.mode, "bold yellow" if state.mode != "observe" else "")),
        (
            2,
            _part(
                "  source ",
                plain(snapshot.source, limit=60) if snapshot and snapshot.source else "-",
            ),
        ),
    ]
    seen = state.last_tick_at
    if seen is None:
        second.append((6, _part("  last tick ", "-")))
    else:
        second.append((6, _part("  last tick ", f"{clock_time(seen)} ({age(now, seen)} ago)")))
        late = (now - seen).total_seconds() > stale_after(state.interval_s)
        if late and not state.paused:
            second.append((9, Text("  STALE", style="bold red")))
    if state.paused:
        second.append((9, Text("  PAUSED", style="bold reverse yellow")))
    if not state.last_tick_error and snapshot is not None and snapshot.errors:
        second.append((1, Text(f"  {plain(snapshot.errors[0])}", style="red")))
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append_text(fitted(first, width))
    text.append("\n")
    text.append_text(fitted(second, width))
    if state.last_tick_error:
        text.append(f"\n unreachable: {plain(state.last_tick_error)}", style="bold red")
    return text


class ClusterHeader(Static):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[Snapshot | None, MonitorState, datetime] | None = None
        self._text = Text()

    def show(self, snapshot: Snapshot | None, state: MonitorState, now: datetime) -> None:
        self._shown = (snapshot, state, now)
        width = self.content_region.width if self.size.width else None
        text = header_text(snapshot, state, now, width)
        if text == self._text and text.style == self._text.style:
            return  # a repaint of the same two lines costs a millisecond of Textual's render
        self._text = text
        self.update(text, layout=False)

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)
