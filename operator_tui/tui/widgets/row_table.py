"""A keyed table drawn with Textual's line API: one finished line (Strip) per row.

A refresh of the panes changes most visible rows every tick. A DataTable re-assembles each
changed line cell by cell through its own caches and Rich; this table keeps each row as one
Strip, rebuilt only when that row's values change, and repaints only the screen lines whose
row changed (or moved). Cells are plain values or Rich ``Text`` (its style, spans and
``justify`` are honoured); every cell is one line high and cropped with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from operator import is_
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from operator_tui.core.text import plain

Cells = tuple[Any, ...]
CELL_PADDING = 1


class RowTable(ScrollView, can_focus=True):
    """Rows keyed by id, replaced by a keyed diff; the cursor stays on its key while rows move.

    Subclasses set ``COLUMNS`` as (label, key, width) and may name ``NARROW_HIDDEN`` columns.
    Line 0 is the header (it stays put when the rows scroll); line ``1 + i`` is the i-th row
    from the scroll position.
    """

    COLUMNS: ClassVar[Sequence[tuple[str, str, int]]] = ()
    """(label, key, width in cells) per column; a cell also gets one space either side."""
    NARROW_HIDDEN: ClassVar[frozenset[str]] = frozenset()
    """Column keys dropped when the terminal is narrow."""
    FIT: ClassVar[frozenset[str]] = frozenset()
    """Column keys that widen to their widest value shown (ids, figures): never cut."""
    SHRINK: ClassVar[frozenset[str]] = frozenset()
    """Column keys of words that give up width (down to their label) when the row is wider
    than the table, so the ``FIT`` columns after them stay in view whole."""
    SORT_LETTERS: ClassVar[dict[str, str]] = {}
    """Column key -> the capital letter that sorts by it, when not the first free one of its label."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home,g", "cursor_home", "First row", show=False),
        Binding("end,ctrl+end,G", "cursor_end", "Last row", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"row-table--header", "row-table--cursor"}

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .row-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .row-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .row-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .row-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class RowSelected(Message):
        """``enter`` on a row, or a click on the row under the cursor."""

        def __init__(self, table: RowTable, row_key: str, cursor_row: int) -> None:
            super().__init__()
            self.table = table
            self.row_key = row_key
            self.cursor_row = cursor_row

        @property
        def control(self) -> RowTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.narrow = False
        self._shown = list(range(len(self.COLUMNS)))
        self._order: list[str] = []
        self._cells: dict[str, Cells] = {}
        self._cursor = 0
        self._strips: dict[str, Strip] = {}
        self._cursor_strip: tuple[str, Cells, Strip] | None = None
        self._header: Strip | None = None
        self._segments: LRUCache[tuple[Any, ...], list[Segment]] = LRUCache(8000)
        self._looks: tuple[Style, Style, Style] | None = None
        self._looks_for: tuple[Any, ...] | None = None
        self._cursor_fill = Style()
        self._fitted: dict[str, int] = {}
        self._width_list: list[int] = []
        self._rows_given: list[tuple[Hashable, Cells]] = []
        self.total_rows = 0
        """Rows given to ``set_rows`` before the filter."""
        self.filter_text = ""
        self.sort_key: str | None = None
        self.sort_reverse = False
        self._letters: dict[str, str] = {}
        self._recompute_widths()
        self._update_virtual_size()

    # ------------------------------------------------------------------ columns
    @property
    def column_keys(self) -> list[str]:
        """Keys of the columns shown, left to right."""
        return [self.COLUMNS[i][1] for i in self._shown]

    @property
    def _widths(self) -> list[int]:
        return self._width_list

    def _recompute_widths(self) -> None:
        columns = [self.COLUMNS[i] for i in self._shown]
        widths = [
            max(width, self._fitted.get(key, 0), cell_len(label) + (key == self.sort_key))
            for label, key, width in columns
        ]
        excess = sum(w + 2 * CELL_PADDING for w in widths) - self.size.width
        floors = [cell_len(label) + (key == self.sort_key) for label, key, _ in columns]
        while excess > 0 and self.size.width > 0:
            spare = [
                i
                for i, (_, key, _) in enumerate(columns)
                if key in self.SHRINK and widths[i] > floors[i]
            ]
            if not spare:
                break
            widest = max(spare, key=lambda i: widths[i] - floors[i])
            widths[widest] -= 1
            excess -= 1
        self._width_list = widths
        self._letters = sort_letters(self.COLUMNS, self.SORT_LETTERS)

    def on_resize(self, event: events.Resize) -> None:
        """Word columns give up (or take back) width as the table's own width changes."""
        before = self._width_list
        self._recompute_widths()
        if self._width_list != before:
            self._forget_drawn()
            self._update_virtual_size()
            self.refresh()

    @property
    def sort_letters(self) -> dict[str, str]:
        """Capital letter -> column key, for the columns this table sorts by."""
        return {letter: key for key, letter in self._letters.items()}

    def column_width(self, key: str) -> int:
        return self._widths[self.column_keys.index(key)]

    def _fit(
        self,
        edited: Iterable[str],
        cells_by_key: dict[str, Cells],
        old_cells: dict[str, Cells],
    ) -> bool:
        """Widen the ``FIT`` columns to the widest of the edited rows' values; whether any grew.

        A cell that is the very object the row showed before is not measured again.
        """
        pairs = [(cells_by_key[k], old_cells.get(k)) for k in edited]
        if not self.FIT or not pairs:
            return False
        grown = False
        for index, key in enumerate(self.column_keys):
            if key not in self.FIT:
                continue
            width = self._widths[index]
            widest = max(
                (
                    _cell_width(new[index])
                    for new, old in pairs
                    if old is None or old[index] is not new[index]
                ),
                default=0,
            )
            if widest > width:
                self._fitted[key] = widest
                grown = True
        if grown:
            self._recompute_widths()
            self._header = None
            self._forget_drawn()
            self._update_virtual_size()
        return grown

    @property
    def row_width(self) -> int:
        return sum(w + 2 * CELL_PADDING for w in self._widths)

    def set_columns(self, columns: Sequence[tuple[str, str, int]]) -> None:
        """Replace this table's columns (a subject declares some of them); rows are re-applied."""
        self.COLUMNS = tuple(columns)
        hidden = self.NARROW_HIDDEN if self.narrow else frozenset()
        self._shown = [i for i, (_, key, _) in enumerate(self.COLUMNS) if key not in hidden]
        self._order = []
        self._cells.clear()
        self._header = None
        self._recompute_widths()
        self._forget_drawn()
        self._update_virtual_size()
        self.refresh()

    def set_narrow(self, narrow: bool) -> bool:
        """Drop (or bring back) the ``NARROW_HIDDEN`` columns; the caller then re-applies its data."""
        if narrow == self.narrow or not self.NARROW_HIDDEN:
            return False
        self.narrow = narrow
        hidden = self.NARROW_HIDDEN if narrow else frozenset()
        self._shown = [i for i, (_, key, _) in enumerate(self.COLUMNS) if key not in hidden]
        self._order = []
        self._cells.clear()
        self._recompute_widths()
        self._forget_drawn()
        self._update_virtual_size()
        self.refresh()
        return True

    # --------------------------------------------------------------------- rows
    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def row_keys(self) -> list[str]:
        return list(self._order)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def selected_key(self) -> str | None:
        return self._order[self._cursor] if self._order else None

    def has_row(self, key: Hashable) -> bool:
        return str(key) in self._cells

    def cells(self, key: Hashable) -> Cells | None:
        """The shown cells of a row (hidden columns left out), or None."""
        return self._cells.get(str(key))

    def get_cell(self, key: Hashable, column: str) -> Any:
        """The value shown in one cell; KeyError for an unknown row or a hidden column."""
        return self._cells[str(key)][self.column_keys.index(column)]

    def set_rows(self, rows: Sequence[tuple[Hashable, Cells]]) -> bool:
        """Show exactly ``rows`` (key, cells with one value per column) in that order.

        Returns whether anything changed. Keys are compared as strings (a repeated key keeps
        its first place and its last cells). Only rows whose
        values changed get a new Strip, and only screen lines whose row changed or moved are
        repainted. The filter (``filter_text``) and the sort (``sort_key``) apply on the way.
        """
        self._rows_given = list(rows)
        self.total_rows = len(self._rows_given)
        shown = self._shown
        if len(shown) == len(self.COLUMNS):
            wanted = [(str(key), tuple(cells)) for key, cells in rows]
        else:
            wanted = [(str(key), tuple(cells[i] for i in shown)) for key, cells in rows]
        if self.filter_text:
            terms = self.filter_text.lower().split()
            wanted = [row for row in wanted if self.row_matches(row[0], row[1], terms)]
        if self.sort_key is not None and self.sort_key in self.column_keys:
            wanted = sort_rows(wanted, self._sort_value_getter(self.sort_key), self.sort_reverse)
        old_order = self._order
        old_cells = self._cells
        selected = self.selected_key
        new_cells: dict[str, Cells] = {}
        edited: dict[str, int] = {}
        strips = self._strips
        for key, cells in wanted:
            new_cells[key] = cells
            old = old_cells.get(key)
            if not _same(old, cells):
                edited[key] = _first_change(old, cells)
                strips.pop(key, None)
        new_order = list(new_cells)
        if self._fit(edited.keys(), new_cells, old_cells):
            edited = dict.fromkeys(new_cells, 0)
            old_order = []
        removed = old_cells.keys() - new_cells.keys()
        for key in removed:
            strips.pop(key, None)
        old_cursor = self._cursor
        self._order = new_order
        self._cells = new_cells
        if selected is not None and selected in new_cells:
            if new_order[old_cursor : old_cursor + 1] != [selected]:
                self._cursor = new_order.index(selected)
        else:
            self._cursor = max(0, min(old_cursor, len(new_order) - 1))
        changed = bool(edited or removed) or new_order != old_order
        if not changed:
            return False
        if len(new_order) != len(old_order):
            self._update_virtual_size()
        self._refresh_rows(old_order, edited, old_cursor)
        return True

    def row_matches(self, key: str, cells: Cells, terms: list[str]) -> bool:
        """Every term of the filter appears in the row's shown text."""
        haystack = " ".join(_as_text(c).plain for c in cells).lower()
        return all(term in haystack for term in terms)

    def sort_value_of(self, key: str, column: str, cell: Any) -> Any:
        """What a cell sorts by; tables whose cells show scaled figures give the raw value."""
        return cell

    def _sort_value_getter(self, column: str):
        index = self.column_keys.index(column)
        return lambda key, cells: sort_value(self.sort_value_of(key, column, cells[index]))

    def set_filter(self, text: str) -> None:
        """Show only the rows whose text holds every word of ``text`` ("" shows all)."""
        self.filter_text = text.strip()
        self.set_rows(self._rows_given)

    def sort_by(self, key: str | None) -> None:
        """Sort by the column ``key``; the same column again reverses; None: the table's own order."""
        if key is not None and key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        self._recompute_widths()
        self._header = None
        self._order = []
        self._forget_drawn()
        self._update_virtual_size()
        self.refresh()
        self.set_rows(self._rows_given)

    def on_key(self, event: events.Key) -> None:
        """A capital letter underlined in a column heading sorts by that column."""
        key = self.sort_letters.get(event.character or "")
        if key is not None and key in self.column_keys:
            event.stop()
            event.prevent_default()
            self.sort_by(key)

    def set_cells(self, column: str, values: dict[str, Any]) -> None:
        """Replace one column's cell in the given rows (row key -> value)."""
        if column not in self.column_keys:
            return
        index = self.column_keys.index(column)
        edited: dict[str, int] = {}
        for key, value in values.items():
            cells = self._cells.get(key)
            if cells is None or cells[index] is value:
                continue
            self._cells[key] = (*cells[:index], value, *cells[index + 1 :])
            self._strips.pop(key, None)
            edited[key] = index
        if edited:
            self._refresh_rows(self._order, edited, self._cursor)

    # ------------------------------------------------------------------- cursor
    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        if not self._order:
            return
        row = max(0, min(row, len(self._order) - 1))
        if row != self._cursor:
            before = self._cursor
            self._cursor = row
            self._refresh_index(before)
            self._refresh_index(row)
        if scroll:
            self._scroll_to_cursor()

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor - self._page)

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor + self._page)

    def action_cursor_home(self) -> None:
        self.move_cursor(row=0)

    def action_cursor_end(self) -> None:
        self.move_cursor(row=len(self._order) - 1)

    def action_select_cursor(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowSelected(self, key, self._cursor))

    def _scroll_to_cursor(self) -> None:
        top = self.scroll_offset.y
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + self._page:
            self.scroll_to(y=self._cursor - self._page + 1, animate=False, immediate=True)

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = self.scroll_offset.y + offset.y - 1
        if index >= len(self._order):
            return
        if index == self._cursor:
            self.action_select_cursor()
        else:
            self.move_cursor(row=index)

    # ---------------------------------------------------------------- refreshes
    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.row_width, len(self._order) + 1)

    def _forget_drawn(self) -> None:
        self._strips.clear()
        self._cursor_strip = None
        self._header = None
        self._segments.clear()

    def _refresh_index(self, index: int) -> None:
        line = index - self.scroll_offset.y + 1
        if 1 <= line < self.size.height:
            self.refresh(Region(0, line, self.size.width, 1))

    def _refresh_rows(self, old_order: list[str], edited: dict[str, int], old_cursor: int) -> None:
        """Repaint the visible lines whose row key, values or cursor mark changed.

        A row that only changed values is repainted from its first changed column to the
        right edge, so the compositor re-cuts only that part of the line.
        """
        if not self.is_mounted:
            return
        top = self.scroll_offset.y
        scroll_x = self.scroll_offset.x
        width, height = self.size
        order = self._order
        cursor = self._cursor
        starts = self._column_starts()
        regions: list[Region] = []
        run: tuple[int, int] | None = None  # (first line, x) of the lines being gathered
        for line in range(1, height + 1):
            x: int | None = None
            if line < height:
                index = top + line - 1
                new = order[index] if index < len(order) else None
                old = old_order[index] if index < len(old_order) else None
                if new != old or ((index == cursor) != (index == old_cursor) and new is not None):
                    x = 0
                elif new in edited:
                    x = max(0, starts[edited[new]] - scroll_x)
            if run is not None and x != run[1]:
                regions.append(Region(run[1], run[0], width - run[1], line - run[0]))
                run = None
            if x is not None and x < width and run is None:
                run = (line, x)
        if regions:
            self.refresh(*regions)

    def _column_starts(self) -> list[int]:
        """Where each shown column's cell (with its padding) begins on a row's line."""
        starts, x = [], 0
        for width in self._widths:
            starts.append(x)
            x += width + 2 * CELL_PADDING
        return starts

    def notify_style_update(self) -> None:
        self._looks_for = None
        super().notify_style_update()

    # ---------------------------------------------------------------- rendering
    def render_lines(self, crop: Region) -> list[Strip]:
        self._check_looks()
        return super().render_lines(crop)

    def _check_looks(self) -> None:
        """Drop every kept Strip when the table's colours changed (focus, theme, CSS).

        Reading the colours walks the DOM and, after every ``refresh``, Textual's component
        styles again (a third of a millisecond a table), so they are read again only when
        Textual reports new styles (``notify_style_update``, as for its own cached styles)
        or the focus, theme or colour mode moved.
        """
        app = self.app
        looks_for = (self.has_focus, app.theme, app.ansi_color)
        if looks_for == self._looks_for and self._looks is not None:
            return
        self._looks_for = looks_for
        looks = (
            self.rich_style,
            self.get_component_rich_style("row-table--header"),
            self.get_component_rich_style("row-table--cursor"),
        )
        if looks != self._looks:
            self._looks = looks
            base, _, cursor = looks
            self._cursor_fill = base + cursor + Style.from_color(cursor.color, cursor.bgcolor)
            self._forget_drawn()

    def render_line(self, y: int) -> Strip:
        if self._looks is None:
            self._check_looks()
        base, header, _ = self._looks  # type: ignore[misc]
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            return self._header_strip().crop_extend(scroll_x, scroll_x + width, header)
        index = scroll_y + y - 1
        if index >= len(self._order):
            return Strip.blank(width, base)
        key = self._order[index]
        if index == self._cursor:
            strip, fill = self._cursor_row_strip(key), self._cursor_fill
        else:
            strip, fill = self._row_strip(key), base
        return strip.crop_extend(scroll_x, scroll_x + width, fill)

    def _header_strip(self) -> Strip:
        if self._header is None:
            _, header, _ = self._looks  # type: ignore[misc]
            segments: list[Segment] = []
            for i, width in zip(self._shown, self._widths, strict=True):
                label, key, _ = self.COLUMNS[i]
                segments += self._cell_segments(self._heading(label, key), width, header, None)
            self._header = Strip(segments, self.row_width)
        return self._header

    def _heading(self, label: str, key: str) -> Text:
        """The label with its sort letter underlined, and an arrow on the sorted column."""
        text = Text(label)
        letter = self._letters.get(key)
        if letter is not None:
            at = label.upper().find(letter)
            if at >= 0:
                text.stylize("underline", at, at + 1)
        if key == self.sort_key:
            text.append("▼" if self.sort_reverse else "▲")
        return text

    def _row_strip(self, key: str) -> Strip:
        strip = self._strips.get(key)
        if strip is None:
            base = self._looks[0]  # type: ignore[index]
            strip = self._build_strip(self._cells[key], base, None)
            self._strips[key] = strip
        return strip

    def _cursor_row_strip(self, key: str) -> Strip:
        cells = self._cells[key]
        kept = self._cursor_strip
        if kept is not None and kept[0] == key and kept[1] is cells:
            return kept[2]
        base, _, cursor = self._looks  # type: ignore[misc]
        post = Style.from_color(cursor.color, cursor.bgcolor)
        strip = self._build_strip(cells, base + cursor, post)
        self._cursor_strip = (key, cells, strip)
        return strip

    def _build_strip(self, cells: Cells, pre: Style, post: Style | None) -> Strip:
        segments: list[Segment] = []
        for value, width in zip(cells, self._widths, strict=True):
            segments += self._cell_segments(value, width, pre, post)
        return Strip(segments, self.row_width)

    def _cell_segments(
        self, value: Any, width: int, pre: Style, post: Style | None
    ) -> list[Segment]:
        """One padded cell, styled ``pre`` + the value's own style + ``post``; cached by content."""
        key = (_content_key(value), width, pre, post)
        segments = self._segments.get(key)
        if segments is None:
            segments = self._render_cell(_as_text(value), width, pre, post)
            self._segments.set(key, segments)
        return segments

    def _render_cell(self, text: Text, width: int, pre: Style, post: Style | None) -> list[Segment]:
        if cell_len(text.plain) > width:
            text = text.copy()
            text.truncate(width, overflow="ellipsis")
        spare = max(0, width - text.cell_len)
        left = spare if text.justify == "right" else spare // 2 if text.justify == "center" else 0
        pad_style = pre + post if post is not None else pre
        segments = [Segment(" " * (CELL_PADDING + left), pad_style)]
        console = self.app.console
        if text.spans:
            content = list(text.render(console))
        else:
            style = text.style
            content = [
                Segment(
                    text.plain,
                    console.get_style(style, default=Style.null())
                    if isinstance(style, str)
                    else style,
                )
            ]
        for segment in content:
            style = pre + segment.style if segment.style is not None else pre
            if post is not None:
                style += post
            segments.append(Segment(segment.text, style))
        segments.append(Segment(" " * (CELL_PADDING + spare - left), pad_style))
        return segments


RESERVED_LETTERS = frozenset("DRG")
"""Capital letters bound elsewhere (deploy, re-diagnose, last row): never a sort key."""


def sort_letters(columns: Sequence[tuple[str, str, int]], chosen: dict[str, str]) -> dict[str, str]:
    """Column key -> its sort letter: the one ``chosen`` for it, else the first letter of its
    label that is neither reserved nor taken by an earlier column."""
    taken = set(RESERVED_LETTERS) | set(chosen.values())
    letters: dict[str, str] = {}
    for label, key, _ in columns:
        if key in chosen:
            letters[key] = chosen[key]
            continue
        for char in label.upper():
            if "A" <= char <= "Z" and char not in taken:
                letters[key] = char
                taken.add(char)
                break
    return letters


def sort_value(raw: Any) -> tuple[int, Any]:
    """A sort key: numbers first, then text, then nothing."""
    if isinstance(raw, bool):
        return (0, int(raw))
    if isinstance(raw, int | float):
        return (0, raw)
    if raw is None or (isinstance(raw, Text | str) and _as_text(raw).plain in ("", "-")):
        return (2, 0)
    return (1, _as_text(raw).plain.lower())


def sort_rows(
    rows: list[tuple[str, Cells]],
    value: Callable[[str, Cells], tuple[int, Any]],
    reverse: bool,
) -> list[tuple[str, Cells]]:
    """Rows by one column (stable); cells with no value stay last either way."""
    keyed = [(value(key, cells), (key, cells)) for key, cells in rows]
    known = [item for item in keyed if item[0][0] != 2]
    unknown = [row for key, row in keyed if key[0] == 2]
    numbers = [item for item in known if item[0][0] == 0]
    texts = [item for item in known if item[0][0] == 1]
    ordered = sorted(numbers, key=lambda item: item[0][1], reverse=reverse) + sorted(
        texts, key=lambda item: item[0][1], reverse=reverse
    )
    return [row for _, row in ordered] + unknown


def _cell_width(value: Any) -> int:
    if type(value) is Text:
        return cell_len(value.plain)
    if type(value) is str:
        return cell_len(plain(value))
    return cell_len(_as_text(value).plain)


def _first_change(old: Cells | None, new: Cells) -> int:
    """The first column whose cell draws differently (0 for a new row)."""
    if old is None:
        return 0
    for index, (a, b) in enumerate(zip(old, new, strict=True)):
        if a is not b and not _same((a,), (b,)):
            return index
    return 0


def _same(old: Cells | None, new: Cells) -> bool:
    """Whether two rows draw alike: equal values, and equal styles where they are Text.

    ``Text.__eq__`` compares only the characters and spans, not the style or justification.
    """
    if old is new:
        return True
    if old is None or old != new:
        return False
    if all(map(is_, old, new)):
        return True
    for a, b in zip(old, new, strict=True):
        if a is not b and isinstance(a, Text) and (a.style != b.style or a.justify != b.justify):
            return False
    return True


def _as_text(value: Any) -> Text:
    if isinstance(value, Text):
        return value
    if value is None:
        return Text("")
    if isinstance(value, float):
        return Text(f"{value:.2f}")
    return Text(plain(value))


def _content_key(value: Any) -> Hashable:
    """What a cell's rendering depends on, as a dict key."""
    if isinstance(value, Text):
        return (
            "text",
            value.plain,
            value.style,
            value.justify,
            tuple(value.spans),
        )
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return (type(value).__name__, value)
    return ("repr", str(value))
