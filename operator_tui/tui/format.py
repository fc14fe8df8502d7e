"""Plain formatting of figures, ages and sparklines shared by panes and screens."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from rich.text import Text

from operator_tui.core.subject import Measure
from operator_tui.core.text import plain
from operator_tui.core.ticket import TicketStatus
from operator_tui.core.types import Health, Severity, Store

# The unit formatters live in core (core's narrative writes figures too); re-exported here.
from operator_tui.core.units import count as count
from operator_tui.core.units import duration_s as duration_s
from operator_tui.core.units import in_words as in_words
from operator_tui.core.units import ms as ms
from operator_tui.core.units import num as num
from operator_tui.core.units import pct as pct
from operator_tui.core.units import rate_bytes as rate_bytes
from operator_tui.core.units import scaled
from operator_tui.core.units import size as size

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"

HEALTH_STYLES: dict[str, str] = {
    Health.SERVING: "bold green",
    Health.DEGRADED: "bold magenta",
    Health.UNREACHABLE: "bold yellow",
    Health.DOWN: "bold red",
    Health.REMOVED: "dim",
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
    tail = values[-width:] if isinstance(values, list | tuple) else list(values)[-width:]
    return _sparkline(tuple(tail))


@lru_cache(maxsize=2048)
def _sparkline(tail: tuple[float | None, ...]) -> str:
    """Kept per series tail: a store whose recent figures did not move draws from here."""
    known = [v for v in tail if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    if span <= 0:
        flat = SPARK_BLOCKS[0] if high == 0 else SPARK_BLOCKS[3]
        return "".join(" " if v is None else flat for v in tail)
    top = len(SPARK_BLOCKS) - 1
    return "".join(" " if v is None else SPARK_BLOCKS[round((v - low) / span * top)] for v in tail)


def shown(value: object, style: str = "", *, multiline: bool = False) -> Text:
    """Data (from the cluster, a log, a model, the database) as a Rich ``Text``: never markup,
    no control or escape sequence (``core.text.plain``)."""
    return Text(plain(value, multiline=multiline), style=style)


@lru_cache(maxsize=64)
def _health_cell(label: str, level: str) -> Text:
    return shown(label, HEALTH_STYLES.get(level, ""))


def health_text(store: Store) -> Text:
    """The store's label coloured by its health; shared per value, since tables compare cells
    by identity first and a repeated cell costs nothing."""
    return _health_cell(store.label, store.health.level)


@lru_cache(maxsize=16)
def severity_text(severity: str) -> Text:
    return Text(str(severity), style=SEVERITY_STYLES.get(severity, ""))


@lru_cache(maxsize=4096)
def right(value: str, style: str = "") -> Text:
    """A right-justified cell, shared per value like ``health_text``."""
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


def clock_time(ts: datetime) -> str:
    return ts.strftime("%H:%M:%S")


def series(points: Sequence[tuple[datetime, object]], attr: str) -> list[float | None]:
    """One attribute of each ``(time, StoreMetrics)`` point of a metric history."""
    return [getattr(m, attr, None) for _, m in points]


def one_line(exc: BaseException) -> str:
    """The first line of an error, for a notification or a line of the event strip."""
    text = str(exc).strip().splitlines()
    return plain(text[0]) if text else type(exc).__name__


NEAR = 0.9
"""A figure past this share of its first threshold is shown as near it."""

LEVEL_STYLES: dict[str, str] = {
    "near": "yellow",
    "warning": "bold dark_orange",
    "critical": "bold red",
}


def level(value: float | None, measure: Measure | None) -> str:
    """``critical``, ``warning``, ``near`` or "": where ``value`` stands against the thresholds
    the subject declares for it (beyond a threshold counts, as the invariants fire)."""
    if value is None or measure is None or math.isnan(value):
        return ""
    sign = 1.0 if measure.above else -1.0
    v = sign * value
    if measure.critical is not None and v > sign * measure.critical:
        return "critical"
    if measure.warning is not None and v > sign * measure.warning:
        return "warning"
    first = measure.warning if measure.warning is not None else measure.critical
    if first and measure.above and first > 0 and value > NEAR * first:
        return "near"
    return ""


def measured(value: float | None, measure: Measure | None, unit: str = "", digits: int = 0) -> Text:
    """A right-justified figure in its unit, coloured by its level (``level``)."""
    shown_unit = measure.unit if measure is not None and measure.unit else unit
    return right(scaled(value, shown_unit, digits), LEVEL_STYLES.get(level(value, measure), ""))
