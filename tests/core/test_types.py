"""``Snapshot.pick_stores``: which stores a ticket keeps and a diagnosis looks at."""

from __future__ import annotations

from datetime import UTC, datetime

from operator_tui.core.types import Health, Snapshot, Store, StoreHealth

DOWN = StoreHealth(Health.DOWN, "Down")


def _snapshot(count: int, down: tuple[int, ...] = ()) -> Snapshot:
    stores = [
        Store(id=i, address=f"s{i}", state="Up", **({"health": DOWN} if i in down else {}))
        for i in range(1, count + 1)
    ]
    return Snapshot(taken_at=datetime(2026, 1, 1, tzinfo=UTC), stores=stores)


def test_a_small_cluster_keeps_every_store() -> None:
    assert _snapshot(5).pick_stores(5, first=[9]) == {1, 2, 3, 4, 5}


def test_a_large_cluster_keeps_first_then_unhealthy_then_then_then_lowest_ids() -> None:
    snap = _snapshot(100, down=(50, 60))
    assert snap.pick_stores(4, first=[70], then=[80, 90]) == {70, 50, 60, 80}
    assert snap.pick_stores(5, first=[70, 70], then=[80]) == {70, 50, 60, 80, 1}
