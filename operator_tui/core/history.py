"""What the monitor remembers between ticks: per-store metric points and recent log events.

A snapshot holds one tick; the sparklines, the drill-down screens and the diagnosis need
the minutes before it. The monitor feeds every snapshot to ``History.record``; the subject
only says which stores it measured afresh (``Snapshot.measured``), so a store whose figures
were carried over from an earlier scrape adds no point and a trend is never flattened by
repeats.

A store's metric points are kept as columns (``metric_ring.MetricRing``) allocated in full
when the store is first seen, so memory is fixed per store and does not creep up over the
hours the ring takes to fill.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from operator_tui.core.metric_ring import MetricRing
from operator_tui.core.types import LogEvent, Snapshot, StoreMetrics

METRIC_POINTS = 900
LOG_EVENTS = 5000
STORE_LOG_EVENTS = 1000

MetricPoint = tuple[datetime, StoreMetrics]


class HistorySource(Protocol):
    """The reads a front end or the agent makes of the history."""

    def metric_history(self, store_id: int) -> Sequence[MetricPoint]: ...

    def recent_log_events(
        self, store_id: int | None = None, limit: int = 200
    ) -> list[LogEvent]: ...


class History:
    """Bounded rings: ``points`` metric points per store, ``log_events`` events in all and
    ``store_log_events`` per store, so memory stays flat however long the operator runs."""

    def __init__(
        self,
        *,
        points: int = METRIC_POINTS,
        log_events: int = LOG_EVENTS,
        store_log_events: int = STORE_LOG_EVENTS,
    ) -> None:
        self._points = points
        self._store_log_events = store_log_events
        self._metrics: dict[int, MetricRing] = {}
        self._logs: deque[LogEvent] = deque(maxlen=log_events)
        self._store_logs: dict[int, deque[LogEvent]] = {}

    def record(self, snapshot: Snapshot) -> None:
        measured = snapshot.measured
        for store_id, metrics in snapshot.store_metrics.items():
            if measured is not None and store_id not in measured:
                continue
            self._ring_for(store_id, metrics).append(snapshot.taken_at, metrics)
        for event in snapshot.log_events:
            self._logs.append(event)
            if event.store_id is not None:
                ring_logs = self._store_logs.get(event.store_id)
                if ring_logs is None:
                    ring_logs = self._store_logs[event.store_id] = deque(
                        maxlen=self._store_log_events
                    )
                ring_logs.append(event)

    def metric_history(self, store_id: int) -> list[MetricPoint]:
        """Every point held for the store, oldest first, rebuilt as recorded."""
        ring = self._metrics.get(store_id)
        return ring.tail(len(ring)) if ring is not None else []

    def metric_tail(self, store_id: int, n: int) -> list[MetricPoint]:
        """The store's last ``n`` points, oldest first: what a pane redrawn each tick reads."""
        ring = self._metrics.get(store_id)
        return ring.tail(n) if ring is not None else []

    def metric_since(self, store_id: int, since: datetime) -> list[MetricPoint]:
        """The store's points taken at or after ``since``: what a time window reads."""
        ring = self._metrics.get(store_id)
        return ring.tail(ring.count_since(since)) if ring is not None else []

    def metric_columns(self) -> Iterator[tuple[int, dict[str, Any], list[bytes]]]:
        """Every store's ring as held (``MetricRing.columns``): what a checkpoint writes."""
        for store_id, ring in self._metrics.items():
            yield store_id, *ring.columns()

    def restore_metric_columns(
        self, store_id: int, cls: type, header: dict[str, Any], buffers: list[bytes]
    ) -> None:
        """Put back a store's ring as a checkpoint wrote it (``MetricRing.from_columns``)."""
        self._metrics[store_id] = MetricRing.from_columns(cls, header, buffers)

    def _ring_for(self, store_id: int, metrics: StoreMetrics) -> MetricRing:
        ring = self._metrics.get(store_id)
        if ring is None or not ring.holds(metrics):
            # a subject does not change its metrics class mid-run; if one did, the
            # store's trend starts over rather than being rebuilt as the wrong class
            ring = self._metrics[store_id] = MetricRing(type(metrics), self._points)
        return ring

    def recent_log_events(self, store_id: int | None = None, limit: int = 200) -> list[LogEvent]:
        if limit <= 0:
            return []
        ring = self._logs if store_id is None else self._store_logs.get(store_id, ())
        return list(ring)[-limit:]
