"""A DataTable that takes whole rows keyed by id and touches only the cells that changed."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from typing import Any, Self

from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widgets import DataTable
from textual.widgets._data_table import default_cell_formatter
from textual.widgets.data_table import ColumnKey, RowKey

CellLines = list[list[Segment]]


class KeyedTable(DataTable[Any]):
    """Rows are replaced by a keyed diff so the cursor and scroll stay put while data moves.

    DataTable keys every render cache on one table-wide update counter, so changing a single
    cell re-renders every visible cell (about 0.1 ms each). This table also caches each
    rendered cell under a version of that cell alone, bumped only when its value changes,
    so a refresh re-renders just the cells whose content (or row position) changed.

    This leans on DataTable internals of Textual 8.2 (``_data``, ``_update_count``,
    ``_render_cell``, ``_get_styles_to_render_cell``); ``test_cached_cells_render_exactly_as
    _datatable_does`` compares every frame with a plain DataTable, so a Textual upgrade that
    changes them fails there rather than on screen.
    """

    COLUMNS: Sequence[tuple[str, str, int | None]] = ()
    """(label, key, width); a width of None sizes the column to its content."""
    NARROW_HIDDEN: frozenset[str] = frozenset()
    """Column keys dropped when the terminal is narrow."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._row_cells: dict[str, tuple[Any, ...]] = {}
        self._row_order: list[str] = []
        self._serial = count(1)
        self._row_serial: dict[str, int] = {}
        self._cell_serial: dict[tuple[str, str], int] = {}
        self._hold_layout = False
        self._layout_held = False
        self._cell_cache: LRUCache[tuple[Any, ...], CellLines] = LRUCache(4000)
        self._content_cache: LRUCache[tuple[Any, ...], CellLines] = LRUCache(4000)
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
        self._forget_rows()
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
        if len(shown) == len(self.COLUMNS):
            wanted = [(str(key), tuple(cells)) for key, cells in rows]
        else:
            wanted = [(str(key), tuple(cells[i] for i in shown)) for key, cells in rows]
        wanted_keys = [key for key, _ in wanted]
        selected = self.selected_key
        changed = False
        rows_before = self.row_count
        self._layout_held = False
        with self.app.batch_update(), self._holding_layout():
            stale = set(self._row_cells) - set(wanted_keys)
            order = [key for key in self._row_order if key not in stale]
            if stale and len(stale) > len(self._row_cells) // 2:
                self.clear()
                self._forget_rows()
                order = []
            else:
                for key in stale:
                    self.remove_row(key)
                    del self._row_cells[key]
                    self._row_serial.pop(key, None)
                    for column in column_keys:
                        self._cell_serial.pop((key, column), None)
            changed = bool(stale)
            edited = False
            for key, cells in wanted:
                old = self._row_cells.get(key)
                if old is None:
                    self.add_row(*cells, key=key)
                    self._row_serial[key] = next(self._serial)
                    order.append(key)
                    changed = True
                elif old != cells:
                    row = self._data[RowKey(key)]
                    for column, before, after in zip(column_keys, old, cells, strict=True):
                        if before is not after and before != after:
                            row[ColumnKey(column)] = after
                            self._cell_serial[key, column] = next(self._serial)
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
        if self._layout_held:
            self.refresh(layout=self.row_count != rows_before)
        return changed

    @contextmanager
    def _holding_layout(self) -> Iterator[None]:
        """Turn the layout refreshes of ``remove_row``/``clear`` into repaints while held.

        With as many rows as before the table's size is unchanged, and a change of its
        virtual size (a column grew) still asks for a layout on its own; a layout repaints
        the whole screen, which costs more than the table itself.
        """
        self._hold_layout = True
        try:
            yield
        finally:
            self._hold_layout = False

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        if layout and getattr(self, "_hold_layout", False):
            self._layout_held = True
            layout = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

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
            self._cell_serial[key, column] = next(self._serial)
        self._update_count += 1
        self.refresh()

    def _forget_rows(self) -> None:
        self._row_cells.clear()
        self._row_order = []
        self._row_serial.clear()
        self._cell_serial.clear()

    def notify_style_update(self) -> None:
        self._cell_cache.clear()
        self._content_cache.clear()
        super().notify_style_update()

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> CellLines:
        if row_index < 0 or column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key, column_key = self.coordinate_to_cell_key(Coordinate(row_index, column_index))
        row, column = str(row_key.value), str(column_key.value)
        row_serial = self._row_serial.get(row)
        if row_serial is None or self.rows[row_key].height != 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            row,
            column,
            row_serial,
            self._cell_serial.get((row, column), 0),
            row_index,
            column_index,
            base_style,
            width,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self.cell_padding,
            self._pseudo_class_state,
        )
        lines = self._cell_cache.get(key)
        if lines is None:
            lines = self._style_cell(row_index, column_index, base_style, width, cursor, hover)
            self._cell_cache.set(key, lines)
        return lines

    def _style_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> CellLines:
        """Style the cell's content lines as DataTable does, reusing lines of equal content.

        A cell's unstyled lines depend only on what it shows and its width, so cells that show
        the same text (the same figure in another row, a row that moved) render once.
        """
        value = self.get_cell_at(Coordinate(row_index, column_index))
        content_key = _content_key(value, width, self.cell_padding)
        content = None if content_key is None else self._content_cache.get(content_key)
        if content is None:
            if content_key is None or value is None:
                return super()._render_cell(
                    row_index, column_index, base_style, width, cursor, hover
                )
            cell = default_cell_formatter(value, wrap=False, height=1) or Text()
            options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
            content = self.app.console.render_lines(Padding(cell, (0, self.cell_padding)), options)
            self._content_cache.set(content_key, content)
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            row_index < self.fixed_rows or column_index < self.fixed_columns,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = (
            base_style + Style.from_meta({"row": row_index, "column": column_index})
        ) + component_style
        return [list(Segment.apply_style(line, pre_style, post_style)) for line in content]


def _content_key(value: Any, width: int, padding: int) -> tuple[Any, ...] | None:
    """What a cell's unstyled rendering depends on, or None when that cannot be told cheaply."""
    if isinstance(value, Text):
        return (
            "text",
            value.plain,
            value.style,
            value.justify,
            value.overflow,
            value.no_wrap,
            value.end,
            tuple(value.spans),
            width,
            padding,
        )
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return (type(value).__name__, value, width, padding)
    return None
