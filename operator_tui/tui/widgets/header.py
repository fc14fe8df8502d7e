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


def _figures(text: Text, values: dict[str, Any], figures: list[Figure]) -> None:
    for f in figures:
        text.append(f"  {f.label} ", style="dim")
        value = values.get(f.name)
        if value is None or value == "":
            text.append("-")
        else:
            text.append(num(value) if isinstance(value, float) else plain(value, limit=40))


def header_text(snapshot: Snapshot | None, state: MonitorState, now: datetime) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f" {plain(state.name, limit=60)} ", style="bold reverse")
    if state.demo:
        text.append(" demo", style="bold magenta")
    text.append("  ")
    text.append_text(alerts_text(state.alerts))
    if snapshot is None:
        waiting = "no observation yet" if state.last_tick_at else "waiting for the first tick…"
        text.append(f"  {waiting}", style="dim")
    else:
        c = snapshot.cluster
        up_style = "green" if c.stores_up == c.stores_total else "bold red"
        _figures(text, c.figures, [f for f in state.figures if f.lead])
        text.append("  stores ", style="dim")
        text.append(f"{c.stores_up}/{c.stores_total} up", style=up_style)
        _figures(text, c.figures, [f for f in state.figures if not f.lead])
        text.append("  QPS ", style="dim")
        text.append(num(c.qps))
        text.append("  p99 ", style="dim")
        text.append(ms(c.p99_latency_ms))
    text.append("\n")
    text.append(" interval ", style="dim")
    text.append(f"{state.interval_s:g}s")
    text.append("  mode ", style="dim")
    text.append(state.mode, style="bold yellow" if state.mode != "observe" else "")
    text.append("  source ", style="dim")
    text.append(plain(snapshot.source, limit=60) if snapshot and snapshot.source else "-")
    text.append("  last tick ", style="dim")
    seen = state.last_tick_at
    if seen is None:
        text.append("-")
    else:
        text.append(f"{clock_time(seen)} ({age(now, seen)} ago)")
        late = (now - seen).total_seconds() > stale_after(state.interval_s)
        if late and not state.paused:
            text.append("  STALE", style="bold red")
    if state.paused:
        text.append("  PAUSED", style="bold reverse yellow")
    if state.last_tick_error:
        text.append(f"\n unreachable: {plain(state.last_tick_error)}", style="bold red")
    elif snapshot is not None and snapshot.errors:
        text.append(f"  {plain(snapshot.errors[0])}", style="red")
    return text


class ClusterHeader(Static):
    def show(self, snapshot: Snapshot | None, state: MonitorState, now: datetime) -> None:
        self.update(header_text(snapshot, state, now), layout=False)
