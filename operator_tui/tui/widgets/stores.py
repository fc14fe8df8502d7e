"""Stores pane: one row per store, keyed by store id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rich.text import Text

from operator_tui.core.subject import StoreFigure
from operator_tui.core.types import Snapshot, Store, StoreMetrics
from operator_tui.tui.format import health_text, ms, num, pct, right, sparkline
from operator_tui.tui.widgets.row_table import RowTable

History = Callable[[int], Sequence[tuple[datetime, StoreMetrics]]]


def figure_text(store: Store, figure: StoreFigure) -> str:
    """A subject's per-store figure as text: ``-`` when this store's record lacks it."""
    value = getattr(store, figure.name, None)
    if isinstance(value, float):
        return num(value, figure.digits)
    return "-" if value is None else str(value)


class StoresTable(RowTable):
    """The subject's ``store_figures`` marked as columns sit between State and Used."""

    LEADING = (("Store", "id", 5), ("Address", "address", 15), ("State", "state", 12))
    TRAILING = (
        ("Used", "used", 4),
        ("QPS", "qps", 6),
        ("p99", "p99", 7),
        ("CPU", "cpu", 4),
        ("QPS trend", "trend", 12),
    )
    COLUMNS = (*LEADING, *TRAILING)

    NARROW_HIDDEN = frozenset({"address", "trend"})

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._figures: tuple[StoreFigure, ...] = ()

    def _use_figures(self, figures: Sequence[StoreFigure]) -> None:
        shown = tuple(f for f in figures if f.column)
        if shown == self._figures:
            return
        self._figures = shown
        self.set_columns(
            (
                *self.LEADING,
                *((f.label, f"fig:{f.name}", max(len(f.label), 5)) for f in shown),
                *self.TRAILING,
            )
        )

    def apply(
        self,
        snapshot: Snapshot,
        history: History | None = None,
        figures: Sequence[StoreFigure] = (),
    ) -> bool:
        self._use_figures(figures)
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
                        store.address,
                        health_text(store),
                        *(figure_text(store, f) for f in self._figures),
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
