"""Stores pane: one row per store, keyed by store id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from operator_tui.core.subject import Measure, StoreFigure
from operator_tui.core.types import Snapshot, Store, StoreMetrics
from operator_tui.tui.format import health_text, num, sparkline
from operator_tui.tui.widgets.cells import FigureCells, plain_cell, styled_cell
from operator_tui.tui.widgets.row_table import RowTable

History = Callable[[int], Sequence[tuple[datetime, StoreMetrics]]]

TREND = 12
"""Points in the QPS trend column (one a tick)."""


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
        self._columns: tuple[FigureCells, ...] = ()

    def _use_figures(self, figures: Sequence[StoreFigure]) -> None:
        shown = tuple(f for f in figures if f.column)
        if shown == self._figures:
            return
        self._figures = shown
        self._columns = ()
        self.FIT = frozenset({*StoresTable.FIT, *(f"fig:{f.name}" for f in shown)})
        self.set_columns(
            (
                *self.LEADING,
                *((f.label, f"fig:{f.name}", max(len(f.label), 5)) for f in shown),
                *self.TRAILING,
            )
        )

    def _use_measures(self, measures: Sequence[Measure]) -> tuple[FigureCells, ...]:
        """The figure columns' cells, one ``FigureCells`` per column (subject figures first)."""
        if len(measures) != len(self._measures) or not self._columns:
            self._measures = {m.name: m for m in measures}
            m_of = self._measures.get
            self._columns = (
                *(FigureCells(m_of(f.name), "count", f.digits) for f in self._figures),
                FigureCells(m_of("used_ratio"), "ratio"),
                FigureCells(m_of("qps"), "count"),
                FigureCells(m_of("p99_latency_ms"), "ms"),
                FigureCells(m_of("p99_write_latency_ms"), "ms"),
                FigureCells(m_of("cpu_ratio"), "ratio"),
            )
        return self._columns

    def apply(
        self,
        snapshot: Snapshot,
        history: History | None = None,
        figures: Sequence[StoreFigure] = (),
        measures: Sequence[Measure] = (),
    ) -> bool:
        """``history(store_id)`` gives at least the last ``TREND`` points of a store's figures
        (``OperatorApp.metric_tail``); the trend column draws them."""
        self._use_figures(figures)
        columns = self._use_measures(measures)
        subject_columns = columns[: len(self._figures)]
        used_cell, qps_cell, p99_cell, p99w_cell, cpu_cell = columns[len(self._figures) :]
        figure_names = [(f, f"fig:{f.name}") for f in self._figures]
        rows: list[tuple[int, tuple[Any, ...]]] = []
        raw: dict[str, dict[str, Any]] = {}
        store_metrics = snapshot.store_metrics
        for store in sorted(snapshot.stores, key=lambda s: s.id):
            metrics = store_metrics.get(store.id)
            points = history(store.id) if history is not None else ()
            trend = sparkline([m.qps for _, m in points[-TREND:]], width=TREND)
            used = store.used_ratio if store.capacity_bytes else None
            if metrics is not None:
                qps = metrics.qps
                p99 = metrics.p99_latency_ms
                p99w = metrics.p99_write_latency_ms
                cpu = metrics.cpu_ratio
            else:
                qps = p99 = p99w = cpu = None
            values = [_figure_value(store, f) for f in self._figures]
            row_raw = {"used": used, "qps": qps, "p99": p99, "p99w": p99w, "cpu": cpu}
            for (_, key), value in zip(figure_names, values, strict=True):
                row_raw[key] = value
            raw[str(store.id)] = row_raw
            rows.append(
                (
                    store.id,
                    (
                        store.id,
                        plain_cell(store.address),
                        health_text(store),
                        *(
                            cell(value) if value is not None else figure_text(store, f)
                            for cell, value, (f, _) in zip(
                                subject_columns, values, figure_names, strict=True
                            )
                        ),
                        used_cell(used),
                        qps_cell(qps),
                        p99_cell(p99),
                        p99w_cell(p99w),
                        cpu_cell(cpu),
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
