"""A DataTable that takes whole rows keyed by id and touches only the cells that changed."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


class KeyedTable(DataTable[Any]):
    """Rows are replaced by a keyed diff so the cursor and scroll stay put while data moves."""

    COLUMNS: Sequence[tuple[str, str, int | None]] = ()
    """(label, key, width); a width of None sizes the column to its content."""
    NARROW_HIDDEN: frozenset[str] = frozenset()
    """Column keys dropped when the terminal is narrow."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._row_cells: dict[str, tuple[Any, ...]] = {}
        self._row_order: list[str] = []
        self.narrow = False
        self._shown = list(range(len(self.COLUMNS)))

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        hidden = self.NARROW_HIDDEN if self.narrow else frozenset()
        self._shown = [i for i, (_, key, _) in enumerate(self.COLUMNS) if key not in hidden]
        for i in self._shown:
            label, key, width = self.COLUMNS[i]
            self.add_column(label, key=key, width=width)

    def set_narrow(self, narrow: bool) -> bool:
        """Drop (or bring back) the ``NARROW_HIDDEN`` columns; the caller then re-applies its data."""
        if narrow == self.narrow or not self.NARROW_HIDDEN:
            return False
        self.narrow = narrow
        self.clear(columns=True)
        self._row_cells.clear()
        self._row_order = []
        self._add_columns()
        return True

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        row_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return None if row_key.value is None else str(row_key.value)

    def set_rows(self, rows: Sequence[tuple[Hashable, tuple[Any, ...]]]) -> bool:
        """Show exactly ``rows`` (key, cells) in that order; returns whether anything changed.

        The first cell of each row must be unique (it is what the reordering sorts on).
        """
        column_keys = [self.COLUMNS[i][1] for i in self._shown]
        shown = self._shown
        wanted = [(str(key), tuple(cells[i] for i in shown)) for key, cells in rows]
        wanted_keys = [key for key, _ in wanted]
        selected = self.selected_key
        changed = False
        with self.app.batch_update():
            stale = set(self._row_cells) - set(wanted_keys)
            order = [key for key in self._row_order if key not in stale]
            if stale and len(stale) > len(self._row_cells) // 2:
                self.clear()
                self._row_cells.clear()
                order = []
            else:
                for key in stale:
                    self.remove_row(key)
                    del self._row_cells[key]
            changed = bool(stale)
            edited = False
            for key, cells in wanted:
                old = self._row_cells.get(key)
                if old is None:
                    self.add_row(*cells, key=key)
                    order.append(key)
                    changed = True
                elif old != cells:
                    row = self._data[RowKey(key)]
                    for column, before, after in zip(column_keys, old, cells, strict=True):
                        if before is not after and before != after:
                            row[ColumnKey(column)] = after
                    edited = changed = True
                self._row_cells[key] = cells
            if edited:
                # What update_cell does per cell (store, bump the render cache key, refresh), done
                # once for the whole diff: a refresh per cell costs more than the diff itself.
                self._update_count += 1
                self.refresh()
            if order != wanted_keys:
                position = {cells[0]: i for i, (_, cells) in enumerate(wanted)}
                self.sort(column_keys[0], key=position.__getitem__)
                changed = True
            self._row_order = wanted_keys
            if selected is not None and selected in self._row_cells:
                index = self.get_row_index(selected)
                if index != self.cursor_row:
                    self.move_cursor(row=index, animate=False, scroll=False)
        return changed

    def set_cells(self, column: str, values: dict[str, Any]) -> None:
        """Replace one column's cell in the given rows (row key -> value) with a single refresh."""
        shown_keys = [self.COLUMNS[i][1] for i in self._shown]
        if column not in shown_keys:
            return
        index = shown_keys.index(column)
        for key, value in values.items():
            cells = self._row_cells.get(key)
            if cells is None or cells[index] is value:
                continue
            self._row_cells[key] = (*cells[:index], value, *cells[index + 1 :])
            self._data[RowKey(key)][ColumnKey(column)] = value
        self._update_count += 1
        self.refresh()
