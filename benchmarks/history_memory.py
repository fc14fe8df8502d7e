"""Bytes and read cost of a store's metric history: the tuple ring before, the columns now.

Side by side in one run: ``before`` is the ring as it was kept until the columns came (a
``deque(maxlen=points)`` of ``(datetime, TikvStoreMetrics)`` tuples, one object per
figure); ``after`` is ``operator_tui.core.history.History``. Points are shaped as the
simulator's scrape yields them (every figure measured, integers for counts and bytes, an
empty ``unreachable_reports_per_s``), with values that change each point so nothing is
shared. Memory is what tracemalloc counts as held once the ring is full; read cost is the
median of repeated reads of the whole ring (``metric_history``) and of the last 12 points
(the stores pane's trend) and of a 15-minute window (the graphs view); a checkpoint's
write and restore of the rings, per store (before as tables of rows, after as columns).

    uv run python benchmarks/history_memory.py [--points 900] [--stores 20] [--repeat 30]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections import deque
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from functools import partial

from operator_tikv.records import TikvStoreMetrics

from operator_tui.core.history import METRIC_POINTS, History
from operator_tui.core.types import Snapshot

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TREND = 12
WINDOW_MIN = 15  # the graphs view's middle window


def point(store_id: int, i: int) -> TikvStoreMetrics:
    f = float(i)
    return TikvStoreMetrics(
        store_id=store_id,
        reachable=True,
        qps=1600.0 + f,
        p99_latency_ms=6.05 + f / 1000,
        p99_write_latency_ms=5.1 + f / 1000,
        cpu_ratio=0.06 + f / 1e6,
        capacity_bytes=334_685_326_540,
        available_bytes=239_293_197_423 - i,
        used_bytes=49_353_321_902 + i,
        region_count=600 + i % 7,
        leader_count=199 + i % 5,
        raft_log_lag=15.8 + f / 100,
        write_stall=0.0,
        channel_full_per_s=None,
        scheduler_busy_per_s=0.0,
        slow_score=1.0 + f / 1e4,
        critical_errors_per_s=None,
        unreachable_reports_per_s={},
    )


def snapshots(stores: int, points: int):
    for i in range(points):
        yield Snapshot(
            taken_at=T0 + timedelta(seconds=15 * i),
            store_metrics={sid: point(sid, i) for sid in range(1, stores + 1)},
        )


class Before:
    """The tuple ring, as ``History`` held metric points before the columns."""

    def __init__(self, points: int) -> None:
        self.points = points
        self.rings: dict[int, deque] = {}

    def record(self, snapshot: Snapshot) -> None:
        for sid, m in snapshot.store_metrics.items():
            ring = self.rings.get(sid)
            if ring is None:
                ring = self.rings[sid] = deque(maxlen=self.points)
            ring.append((snapshot.taken_at, m))

    def metric_history(self, store_id: int) -> list:
        return list(self.rings.get(store_id, ()))

    def metric_tail(self, store_id: int, n: int) -> list:
        return self.metric_history(store_id)[-n:]

    def metric_since(self, store_id: int, since: datetime) -> list:
        return [(t, m) for t, m in self.metric_history(store_id) if t >= since]

    def metric_tables(self):
        for sid, ring in self.rings.items():
            names = [f.name for f in fields(TikvStoreMetrics)]
            yield (
                sid,
                [t for t, _ in ring],
                names,
                [[getattr(m, n) for n in names] for _, m in ring],
            )

    def restore_metric_table(self, store_id, cls, times, rows) -> None:
        self.rings[store_id] = deque(
            zip(times, [cls(*row) for row in rows], strict=True), maxlen=self.points
        )


def held_bytes(make, stores: int, points: int, fill: int) -> tuple[object, int]:
    """What the history holds after ``fill`` snapshots, the snapshots themselves dropped."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        history = make(points)
        for snap in snapshots(stores, fill):
            history.record(snap)
        del snap
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    return history, held


def median_us(read, store_ids: range, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        for sid in store_ids:
            read(sid)
        samples.append((time.perf_counter() - t) / len(store_ids))
    return statistics.median(samples) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=METRIC_POINTS)
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    n, s = args.points, args.stores
    kinds = {"before": Before, "after": lambda p: History(points=p)}
    print(f"{s} stores, rings of {n} points (TikvStoreMetrics shaped as the simulator's scrape)")
    print(
        f"{'':>6} {'B/store 1 pt':>12} {'B/store half':>12} {'B/store full':>12} "
        f"{'MiB 1000 full':>13} {'full read us':>12} {'tail12 us':>9} {'15min us':>9}"
    )
    figures = {}
    checkpoint = {}
    for name, make in kinds.items():
        _, one = held_bytes(make, s, n, 1)
        _, half = held_bytes(make, s, n, n // 2)
        history, full = held_bytes(make, s, n, n + n // 3)
        full_us = median_us(history.metric_history, range(1, s + 1), args.repeat)
        tail_us = median_us(partial(history.metric_tail, n=TREND), range(1, s + 1), args.repeat)
        end = T0 + timedelta(seconds=15 * (n + n // 3 - 1))
        since = partial(history.metric_since, since=end - timedelta(minutes=WINDOW_MIN))
        window_us = median_us(since, range(1, s + 1), args.repeat)
        if isinstance(history, History):
            dumped = list(history.metric_columns())
            write_us = median_us(lambda _sid, h=history: list(h.metric_columns()), range(1), 5) / s
        else:
            dumped = list(history.metric_tables())
            write_us = median_us(lambda _sid, h=history: list(h.metric_tables()), range(1), 5) / s
        restored = make(n)

        def restore(_sid: int, restored=restored, dumped=dumped) -> None:
            for sid, *held in dumped:
                if isinstance(restored, History):
                    header, buffers = held
                    restored.restore_metric_columns(sid, TikvStoreMetrics, header, buffers)
                else:
                    times, _names, rows = held
                    restored.restore_metric_table(sid, TikvStoreMetrics, times, rows)

        restore_us = median_us(restore, range(1), 5) / s
        figures[name] = (one / s, half / s, full / s, full_us, tail_us, window_us)
        checkpoint[name] = (write_us, restore_us)
        print(
            f"{name:>6} {one / s:>12.0f} {half / s:>12.0f} {full / s:>12.0f} "
            f"{full / s * 1000 / 2**20:>13.1f} {full_us:>12.0f} {tail_us:>9.1f} {window_us:>9.1f}"
        )
    for name, (write_us, restore_us) in checkpoint.items():
        print(
            f"{name:>6} checkpoint per store ring: write {write_us:.0f} us, "
            f"restore {restore_us:.0f} us"
        )
    b, a = figures["before"], figures["after"]
    print(
        f"after/before: full ring bytes {a[2] / b[2]:.3f}, whole-ring read {a[3] / b[3]:.1f}x, "
        f"12-point tail read {a[4] / b[4]:.2f}x, 15-minute window read {a[5] / b[5]:.2f}x; after holds {a[0] / a[2]:.2f} of its full size "
        "from the first point"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
