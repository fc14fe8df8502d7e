"""The monitor's history: fresh points only, bounded rings, log events by store."""

from __future__ import annotations

import math
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

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


@dataclass(slots=True)
class RichMetrics(StoreMetrics):
    """Every kind of field a subject's metrics class may add."""

    count: int | None = None
    ratio: float | None = None
    flag: bool | None = None
    by_peer: dict[int, float] | None = None
    label: str | None = None


def test_every_field_type_comes_back_as_recorded() -> None:
    points = [
        RichMetrics(store_id=1),
        RichMetrics(
            store_id=1,
            reachable=False,
            qps=1.5,
            capacity_bytes=2**40,
            error="connect refused <b>[red]",
            count=7,
            ratio=0.25,
            flag=True,
            by_peer={2: 3.5},
            label="x",
        ),
        RichMetrics(store_id=1, by_peer={}, flag=False, count=0, ratio=0.0),
        # values that do not fit their column go to the point's own slot
        RichMetrics(store_id=1, qps=3, ratio=math.nan, count=2**70, flag=None),  # type: ignore[arg-type]
    ]
    history = History(points=10)
    for i, metrics in enumerate(points):
        history.record(
            Snapshot(taken_at=T0 + timedelta(seconds=i, microseconds=7), store_metrics={1: metrics})
        )
    got = history.metric_history(1)
    assert [t for t, _ in got] == [T0 + timedelta(seconds=i, microseconds=7) for i in range(4)]
    assert all(type(m) is RichMetrics for _, m in got)
    assert [m.as_dict() for _, m in got[:3]] == [m.as_dict() for m in points[:3]]
    last = got[3][1]
    assert type(last.qps) is int and last.qps == 3
    assert math.isnan(last.ratio) and last.count == 2**70 and last.flag is None
    assert got[2][1].by_peer == {} and got[2][1].by_peer is not got[1][1].by_peer


def test_the_ring_wraps_in_order_and_the_tail_reads_the_newest() -> None:
    history = History(points=4)
    for i in range(11):
        history.record(snap(i, {1: float(i)}))
    assert [m.qps for _, m in history.metric_history(1)] == [7.0, 8.0, 9.0, 10.0]
    assert [m.qps for _, m in history.metric_tail(1, 2)] == [9.0, 10.0]
    assert [m.qps for _, m in history.metric_tail(1, 99)] == [7.0, 8.0, 9.0, 10.0]
    assert history.metric_tail(1, 0) == [] and history.metric_tail(5, 3) == []
    assert [t for t, _ in history.metric_tail(1, 1)] == [T0 + timedelta(seconds=10)]


def test_a_store_whose_metrics_class_changes_starts_a_new_trend() -> None:
    history = History(points=3)
    history.record(snap(0, {1: 1.0}))
    later = RichMetrics(store_id=1, count=4)
    history.record(Snapshot(taken_at=T0 + timedelta(seconds=1), store_metrics={1: later}))
    assert [m for _, m in history.metric_history(1)] == [later]


def test_a_ring_holds_its_full_size_from_the_first_point_and_never_grows() -> None:
    """Memory is fixed when a store's ring is made; a full ring taking a day of points
    allocates nothing that stays."""
    history = History(points=50)

    def point(i: int) -> Snapshot:
        metrics = {
            sid: RichMetrics(store_id=sid, qps=float(i), count=i, flag=True, by_peer={}, ratio=0.5)
            for sid in range(20)
        }
        return Snapshot(taken_at=T0 + timedelta(seconds=i), store_metrics=metrics)

    def held(snapshot: tracemalloc.Snapshot) -> int:
        core = ("core/history.py", "core/metric_ring.py")
        return sum(
            s.size
            for s in snapshot.statistics("filename")
            if s.traceback[0].filename.endswith(core)
        )

    tracemalloc.start()
    try:
        history.record(point(0))
        first = held(tracemalloc.take_snapshot())
        for i in range(1, 300):  # past the ring's size and the small-int cache
            history.record(point(i))
        full = held(tracemalloc.take_snapshot())
        for i in range(300, 2000):
            history.record(point(i))
        later = held(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    assert full <= first * 1.1, (first, full)
    assert later <= full, (full, later)
    assert len(history.metric_history(3)) == 50


def test_a_window_reads_the_points_taken_since_its_start() -> None:
    history = History(points=5)
    for i in range(8):
        history.record(snap(10 * i, {1: float(i)}))
    since = history.metric_since
    assert [m.qps for _, m in since(1, T0 + timedelta(seconds=55))] == [6.0, 7.0]
    assert [m.qps for _, m in since(1, T0 + timedelta(seconds=60))] == [6.0, 7.0]
    assert [m.qps for _, m in since(1, T0)] == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert since(1, T0 + timedelta(seconds=71)) == [] and since(2, T0) == []


@pytest.mark.parametrize("misfit", [False, True], ids=["every value fits", "values kept aside"])
@pytest.mark.parametrize("fill", [7, 30], ids=["part full", "wrapped"])
def test_a_ring_round_trips_through_its_columns(misfit: bool, fill: int) -> None:
    history = History(points=20)
    plus_two = timezone(timedelta(hours=2))
    for i in range(fill):
        metrics = RichMetrics(
            store_id=1, qps=float(i), count=i, flag=i % 2 == 0, by_peer={} if i % 3 else {2: 1.0}
        )
        if misfit and i == fill - 5:
            metrics.ratio = math.inf
            metrics.count = 2**70
            metrics.qps = 3  # an int in a float field
        at = T0 + timedelta(seconds=i)
        history.record(
            Snapshot(taken_at=at.astimezone(plus_two) if i == 4 else at, store_metrics={1: metrics})
        )
    ((sid, header, buffers),) = list(history.metric_columns())
    assert bool(header["extra"]) is misfit
    restored = History(points=20)
    restored.restore_metric_columns(sid, RichMetrics, header, [bytes(b) for b in buffers])
    assert restored.metric_history(1) == history.metric_history(1)
    assert [type(m.qps) for _, m in restored.metric_history(1)] == [
        type(m.qps) for _, m in history.metric_history(1)
    ]
    assert [t.utcoffset() for t, _ in restored.metric_history(1)] == [
        t.utcoffset() for t, _ in history.metric_history(1)
    ]
    assert restored.metric_tail(1, 3) == history.metric_tail(1, 3)
    more = RichMetrics(store_id=1, qps=99.0)
    for h in (history, restored):
        h.record(Snapshot(taken_at=T0 + timedelta(seconds=fill), store_metrics={1: more}))
    assert restored.metric_history(1) == history.metric_history(1)


def test_columns_of_another_layout_are_refused() -> None:
    history = History(points=5)
    history.record(Snapshot(taken_at=T0, store_metrics={1: RichMetrics(store_id=1, qps=1.0)}))
    ((_sid, header, buffers),) = list(history.metric_columns())
    with pytest.raises(ValueError, match="changed"):
        History(points=5).restore_metric_columns(1, StoreMetrics, header, buffers)
    with pytest.raises(ValueError):
        History(points=5).restore_metric_columns(1, RichMetrics, header, buffers[:-1])
