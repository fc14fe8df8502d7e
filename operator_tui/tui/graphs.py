"""The series the graphs view draws, read from the core's metric history.

Four charts (requests, p99 latency, disk used, CPU), each with the cluster's line and the
busiest stores' lines, over a window of the last 5, 15 or 30 minutes. Axes are fixed for a
window: x runs from minus the window to now in minutes; y starts at zero and ends at a round
number above the largest value in the window (percentages at 100 unless a value is above it),
so noise stays small and only a real change reaches the top.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from operator_tui.core.types import StoreMetrics

WINDOWS_MIN = (5, 15, 30)
STORE_LINES = 8
"""Stores drawn one by one; beyond that, the busiest by their latest value."""

Point = tuple[float, float]
"""(minutes before now, value)."""


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    unit: str
    value: Callable[[StoreMetrics], float | None]
    combine: Callable[[Sequence[StoreMetrics]], float | None]
    """The cluster's value from every store measured at one instant."""
    floor_top: float = 0.0
    """The y axis reaches at least this (100 for a percentage)."""


def _ratio(m: StoreMetrics) -> float | None:
    if not m.capacity_bytes or m.used_bytes is None:
        return None
    return 100.0 * m.used_bytes / m.capacity_bytes


def _values(
    ms: Iterable[StoreMetrics], value: Callable[[StoreMetrics], float | None]
) -> list[float]:
    return [v for v in (value(m) for m in ms) if v is not None]


def _sum(value: Callable[[StoreMetrics], float | None]):
    return lambda ms: sum(vs) if (vs := _values(ms, value)) else None


def _max(value: Callable[[StoreMetrics], float | None]):
    return lambda ms: max(vs) if (vs := _values(ms, value)) else None


def _mean(value: Callable[[StoreMetrics], float | None]):
    return lambda ms: sum(vs) / len(vs) if (vs := _values(ms, value)) else None


def _disk(ms: Sequence[StoreMetrics]) -> float | None:
    known = [m for m in ms if m.capacity_bytes and m.used_bytes is not None]
    capacity = sum(m.capacity_bytes or 0 for m in known)
    return 100.0 * sum(m.used_bytes or 0 for m in known) / capacity if capacity else None


def _qps(m: StoreMetrics) -> float | None:
    return m.qps


def _p99(m: StoreMetrics) -> float | None:
    return m.p99_latency_ms


def _cpu(m: StoreMetrics) -> float | None:
    return None if m.cpu_ratio is None else 100.0 * m.cpu_ratio


CHARTS: tuple[Chart, ...] = (
    Chart("qps", "Requests", "ops/s", _qps, _sum(_qps)),
    Chart("p99", "p99 latency", "ms", _p99, _max(_p99)),
    Chart("disk", "Disk used", "%", _ratio, _disk, floor_top=100.0),
    Chart("cpu", "CPU", "% of quota", _cpu, _mean(_cpu), floor_top=100.0),
)
CLUSTER_LINE = {"qps": "sum", "p99": "max", "disk": "total", "cpu": "mean"}


def nice_top(value: float, floor: float = 0.0) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above ``value`` (and ``floor``)."""
    value = max(value, floor)
    if value <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * base >= value * (1 - 1e-9):
            return step * base
    return 10 * base


@dataclass(slots=True)
class ChartData:
    chart: Chart
    cluster: list[Point]
    stores: dict[int, list[Point]]
    hidden_stores: int
    top: float


def chart_data(
    chart: Chart,
    history: dict[int, Sequence[tuple[datetime, StoreMetrics]]],
    now: datetime,
    window_min: int,
) -> ChartData:
    """The chart's points within the window, minutes before ``now`` (negative x)."""
    by_time: dict[datetime, list[StoreMetrics]] = defaultdict(list)
    stores: dict[int, list[Point]] = {}
    latest: dict[int, float] = {}
    for store_id, points in history.items():
        line: list[Point] = []
        for at, m in points:
            x = (at - now).total_seconds() / 60.0
            if x < -window_min or x > 0:
                continue
            by_time[at].append(m)
            v = chart.value(m)
            if v is not None:
                line.append((x, v))
                latest[store_id] = v
        if line:
            stores[store_id] = line
    cluster: list[Point] = []
    for at in sorted(by_time):
        v = chart.combine(by_time[at])
        if v is not None:
            cluster.append(((at - now).total_seconds() / 60.0, v))
    shown_ids = sorted(stores, key=lambda s: (-latest.get(s, 0.0), s))[:STORE_LINES]
    highest = max(
        [v for _, v in cluster] + [v for s in shown_ids for _, v in stores[s]], default=0.0
    )
    return ChartData(
        chart,
        cluster,
        {s: stores[s] for s in sorted(shown_ids)},
        len(stores) - len(shown_ids),
        nice_top(highest, chart.floor_top),
    )


def incident_marks(
    opened: Iterable[tuple[int, datetime]], now: datetime, window_min: int
) -> list[tuple[int, float]]:
    """(incident id, minutes before now) of the incidents opened within the window."""
    marks = []
    for incident_id, at in opened:
        x = (at - now).total_seconds() / 60.0
        if -window_min <= x <= 0:
            marks.append((incident_id, x))
    return marks
