"""The monitor's history: fresh points only, bounded rings, log events by store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from operator_tui.core.history import History
from operator_tui.core.types import LogEvent, Snapshot, StoreMetrics

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def snap(second: int, stores: dict[int, float], measured=None, logs=()) -> Snapshot:
    return Snapshot(
        taken_at=T0 + timedelta(seconds=second),
        store_metrics={sid: StoreMetrics(store_id=sid, qps=q) for sid, q in stores.items()},
        log_events=list(logs),
        measured=measured,
    )


def event(second: int, store_id: int | None, message: str = "") -> LogEvent:
    return LogEvent(
        time=T0 + timedelta(seconds=second),
        level="INFO",
        source="x.rs:1",
        message=message,
        store_id=store_id,
    )


def test_only_the_stores_measured_this_tick_add_a_point() -> None:
    history = History()
    history.record(snap(0, {1: 10.0, 2: 20.0}))
    history.record(snap(2, {1: 11.0, 2: 20.0}, measured=frozenset({1})))
    history.record(snap(4, {1: 12.0, 2: 21.0}, measured=frozenset()))
    assert [m.qps for _, m in history.metric_history(1)] == [10.0, 11.0]
    assert [t for t, _ in history.metric_history(2)] == [T0]
    assert history.metric_history(3) == []


def test_rings_are_bounded() -> None:
    history = History(points=3, log_events=4, store_log_events=2)
    for i in range(6):
        history.record(snap(i, {1: float(i)}, logs=[event(i, 1, f"a{i}"), event(i, None, f"c{i}")]))
    assert [m.qps for _, m in history.metric_history(1)] == [3.0, 4.0, 5.0]
    assert [e.message for e in history.recent_log_events()] == ["a4", "c4", "a5", "c5"]
    assert [e.message for e in history.recent_log_events(store_id=1)] == ["a4", "a5"]


def test_recent_log_events_by_store_and_limit() -> None:
    history = History()
    history.record(snap(0, {}, logs=[event(0, 1, "one"), event(1, 2, "two"), event(2, 1, "three")]))
    assert [e.message for e in history.recent_log_events(store_id=1)] == ["one", "three"]
    assert [e.message for e in history.recent_log_events(limit=2)] == ["two", "three"]
    assert history.recent_log_events(store_id=9) == []
    assert history.recent_log_events(limit=0) == []
