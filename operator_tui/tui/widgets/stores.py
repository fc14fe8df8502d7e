"""Stores pane: one row per store, keyed by store id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rich.text import Text

from operator_tui.core.types import Snapshot, StoreMetrics
from operator_tui.tui.format import health_text, ms, num, pct, right, shown, sparkline
from operator_tui.tui.widgets.row_table import RowTable

History = Callable[[int], Sequence[tuple[datetime, StoreMetrics]]]


class StoresTable(RowTable):
    COLUMNS = (
        ("Store", "id", 5),
        ("Address", "address", 15),
        ("State", "state", 12),
        ("Leaders", "leaders", 7),
        ("Regions", "regions", 7),
        ("Used", "used", 4),
        ("QPS", "qps", 6),
        ("p99", "p99", 7),
        ("CPU", "cpu", 4),
        ("QPS trend", "trend", 12),
    )

    NARROW_HIDDEN = frozenset({"address", "trend"})

    def apply(self, snapshot: Snapshot, history: History | None = None) -> bool:
        rows: list[tuple[int, tuple[Any, ...]]] = []
        for store in sorted(snapshot.stores, key=lambda s: s.id):
            metrics = snapshot.store_metrics.get(store.id)
            points = history(store.id) if history is not None else ()
            trend = sparkline((m.qps for _, m in points[-12:]), width=12)
            used = store.used_ratio if store.capacity_bytes else None
            rows.append(
                (
                    store.id,
                    (
                        store.id,
                        shown(store.address),
                        health_text(store),
                        store.leader_count,
                        store.region_count,
                        pct(used),
                        right(num(metrics.qps if metrics else None)),
                        right(ms(metrics.p99_latency_ms if metrics else None)),
                        right(pct(metrics.cpu_ratio if metrics else None)),
                        Text(trend, style="cyan"),
                    ),
                )
            )
        return self.set_rows(rows)

    @property
    def selected_store_id(self) -> int | None:
        key = self.selected_key
        return None if key is None else int(key)
