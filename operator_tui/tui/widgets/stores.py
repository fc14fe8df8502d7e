"""Stores pane: one row per store, keyed by store id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from operator_tui.core.subject import Measure, StoreFigure
from operator_tui.core.types import Snapshot, Store, StoreMetrics
from operator_tui.tui.format import health_text, num, sparkline
from operator_tui.tui.widgets.cells import figure_cell, plain_cell, styled_cell
from operator_tui.tui.widgets.row_table import RowTable

History = Callable[[int], Sequence[tuple[datetime, StoreMetrics]]]


def figure_text(store: Store, figure: StoreFigure) -> str:
    """A subject's per-store figure as text: ``-`` when this store's record lacks it."""
    value = getattr(store, figure.name, None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return num(value, figure.digits)
    return "-" if value is None else str(value)


def _figure_value(store: Store, figure: StoreFigure) -> Any:
    value = getattr(store, figure.name, None)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


class StoresTable(RowTable):
    """The subject's ``store_figures`` marked as columns sit between State and Used.

    Figures are scaled to their unit and coloured by the thresholds the subject declares
    (``SubjectConfig.measures``); id and figure columns widen to their widest value.
    """

    LEADING = (("Store", "id", 5), ("Address", "address", 15), ("State", "state", 12))
    TRAILING = (
        ("Used", "used", 4),
        ("QPS", "qps", 6),
        ("p99", "p99", 6),
        ("p99 w", "p99w", 6),
        ("CPU", "cpu", 4),
        ("QPS trend", "trend", 12),
    )
    COLUMNS = (*LEADING, *TRAILING)
    FIT = frozenset({"id", "address", "used", "qps", "p99", "p99w", "cpu"})
    SHRINK = frozenset({"state", "trend"})
    NARROW_HIDDEN = frozenset({"address", "trend"})
    SORT_LETTERS = {"p99w": "W"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._figures: tuple[StoreFigure, ...] = ()
        self._measures: dict[str, Measure] = {}
        self._raw: dict[str, dict[str, Any]] = {}

    def _use_figures(self, figures: Sequence[StoreFigure]) -> None:
        shown = tuple(f for f in figures if f.column)
        if shown == self._figures:
            return
        self._figures = shown
        self.FIT = frozenset({*StoresTable.FIT, *(f"fig:{f.name}" for f in shown)})
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
        measures: Sequence[Measure] = (),
    ) -> bool:
        self._use_figures(figures)
        if len(measures) != len(self._measures):
            self._measures = {m.name: m for m in measures}
        m_of = self._measures.get
        rows: list[tuple[int, tuple[Any, ...]]] = []
        raw: dict[str, dict[str, Any]] = {}
        for store in sorted(snapshot.stores, key=lambda s: s.id):
            metrics = snapshot.store_metrics.get(store.id)
            points = history(store.id) if history is not None else ()
            trend = sparkline((m.qps for _, m in points[-12:]), width=12)
            used = store.used_ratio if store.capacity_bytes else None
            qps = metrics.qps if metrics else None
            p99 = metrics.p99_latency_ms if metrics else None
            p99w = metrics.p99_write_latency_ms if metrics else None
            cpu = metrics.cpu_ratio if metrics else None
            raw[str(store.id)] = {
                "used": used,
                "qps": qps,
                "p99": p99,
                "p99w": p99w,
                "cpu": cpu,
                **{f"fig:{f.name}": _figure_value(store, f) for f in self._figures},
            }
            rows.append(
                (
                    store.id,
                    (
                        store.id,
                        plain_cell(store.address),
                        health_text(store),
                        *(
                            figure_cell(_figure_value(store, f), m_of(f.name), "count", f.digits)
                            if _figure_value(store, f) is not None
                            else figure_text(store, f)
                            for f in self._figures
                        ),
                        figure_cell(used, m_of("used_ratio"), "ratio"),
                        figure_cell(qps, m_of("qps"), "count"),
                        figure_cell(p99, m_of("p99_latency_ms"), "ms"),
                        figure_cell(p99w, m_of("p99_write_latency_ms"), "ms"),
                        figure_cell(cpu, m_of("cpu_ratio"), "ratio"),
                        styled_cell(trend, "cyan"),
                    ),
                )
            )
        self._raw = raw
        return self.set_rows(rows)

    def sort_value_of(self, key: str, column: str, cell: Any) -> Any:
        raw = self._raw.get(key)
        if raw is not None and column in raw:
            return raw[column]
        return cell

    @property
    def selected_store_id(self) -> int | None:
        key = self.selected_key
        return None if key is None else int(key)
