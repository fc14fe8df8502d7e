"""Plain formatting of figures, ages and sparklines shared by panes and screens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from rich.text import Text

from operator_tui.core.ticket import TicketStatus
from operator_tui.core.types import Severity, StoreState

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"

STATE_STYLES: dict[str, str] = {
    StoreState.UP: "bold green",
    StoreState.SERVING: "bold green",
    StoreState.DISCONNECTED: "bold yellow",
    StoreState.DOWN: "bold red",
    StoreState.OFFLINE: "bold magenta",
    StoreState.REMOVING: "bold magenta",
    StoreState.TOMBSTONE: "dim",
    StoreState.REMOVED: "dim",
}

SEVERITY_STYLES: dict[str, str] = {
    Severity.CRITICAL: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}

STATUS_STYLES: dict[str, str] = {
    TicketStatus.OPEN: "bold",
    TicketStatus.DIAGNOSING: "bold cyan",
    TicketStatus.DIAGNOSED: "green",
    TicketStatus.RESOLVED: "dim",
}


def sparkline(values: Iterable[float | None], width: int = 12) -> str:
    """Block-character sparkline of the last ``width`` values; gaps (None) show as spaces."""
    tail = list(values)[-width:]
    known = [v for v in tail if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    out = []
    for v in tail:
        if v is None:
            out.append(" ")
        elif span <= 0:
            out.append(SPARK_BLOCKS[0] if high == 0 else SPARK_BLOCKS[3])
        else:
            out.append(SPARK_BLOCKS[round((v - low) / span * (len(SPARK_BLOCKS) - 1))])
    return "".join(out)


@lru_cache(maxsize=64)
def state_text(state: str) -> Text:
    """Shared per value: tables compare cells by identity first, so a repeated cell costs nothing."""
    return Text(str(state), style=STATE_STYLES.get(state, ""))


UNREACHABLE = Text("Unreachable", style="bold red")


def store_state_text(state: str, reachable: bool | None) -> Text:
    """PD's state, unless PD still says Up while the store's own status port does not answer.

    PD waits 20 s without heartbeats before saying Disconnected; the operator knows sooner.
    """
    if reachable is False and state in (StoreState.UP, StoreState.SERVING):
        return UNREACHABLE
    return state_text(state)


@lru_cache(maxsize=16)
def severity_text(severity: str) -> Text:
    return Text(str(severity), style=SEVERITY_STYLES.get(severity, ""))


@lru_cache(maxsize=4096)
def right(value: str, style: str = "") -> Text:
    """A right-justified cell, shared per value like ``state_text``."""
    return Text(value, justify="right", style=style)


def age(now: datetime, then: datetime | None) -> str:
    """Compact age such as ``42s``, ``3m``, ``2h05m``, ``4d``; never negative."""
    if then is None:
        return "-"
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d"


def num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    if abs(value) >= 10_000:
        return f"{value / 1000:.1f}k"
    return f"{value:.{digits}f}"


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}ms"


def pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.0f}%"


def rate_bytes(value: float | None) -> str:
    """Bytes per second with a binary unit."""
    if value is None:
        return "-"
    for unit in ("B/s", "KiB/s", "MiB/s", "GiB/s"):
        if abs(value) < 1024 or unit == "GiB/s":
            return f"{value:.0f}{unit}" if unit == "B/s" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}GiB/s"


def clock_time(ts: datetime) -> str:
    return ts.strftime("%H:%M:%S")


def series(points: Sequence[tuple[datetime, object]], attr: str) -> list[float | None]:
    """One attribute of each ``(time, StoreMetrics)`` point of a metric history."""
    return [getattr(m, attr, None) for _, m in points]
