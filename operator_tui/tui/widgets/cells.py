"""Table cells shared per shown value: the same figure in the same colour is one ``Text``.

A refresh re-formats every store's figures; most of them show as they did on the last tick
(a count of 1.23k, a p99 of 5.70ms, a colour). Handing the table the very object it showed
last time lets its diff see an unchanged cell by identity, skip measuring its width and keep
its drawn segments. The cells are never mutated (the table copies one before cutting it).
"""

from __future__ import annotations

from functools import lru_cache

from rich.text import Text

from operator_tui.core.subject import Measure
from operator_tui.tui.format import LEVEL_STYLES, level, scaled, shown

CACHED_CELLS = 4096


@lru_cache(maxsize=CACHED_CELLS)
def right_cell(text: str, style: str = "") -> Text:
    """A right-justified cell, one object per (text, style)."""
    return Text(text, justify="right", style=style)


@lru_cache(maxsize=CACHED_CELLS)
def styled_cell(text: str, style: str = "") -> Text:
    """A left-justified cell, one object per (text, style)."""
    return Text(text, style=style)


@lru_cache(maxsize=CACHED_CELLS)
def plain_cell(value: str) -> Text:
    """Data shown as plain text (``format.shown``), one object per value."""
    return shown(value)


def figure_cell(
    value: float | None, measure: Measure | None, unit: str = "", digits: int = 0
) -> Text:
    """``format.measured`` as a shared cell: the figure in its unit, coloured by its level."""
    shown_unit = measure.unit if measure is not None and measure.unit else unit
    return right_cell(
        scaled(value, shown_unit, digits), LEVEL_STYLES.get(level(value, measure), "")
    )


class FigureCells:
    """One column's ``figure_cell`` kept by value: a figure that did not move since the last
    tick (a store's leader count, its disk use) is the very cell it was, found by one lookup.

    Bounded: past ``size`` values the column starts afresh.
    """

    __slots__ = ("_cells", "_digits", "_measure", "_size", "_unit")

    def __init__(
        self, measure: Measure | None, unit: str = "", digits: int = 0, size: int = 1024
    ) -> None:
        self._measure = measure
        self._unit = unit
        self._digits = digits
        self._size = size
        self._cells: dict[float | None, Text] = {}

    def __call__(self, value: float | None) -> Text:
        cell = self._cells.get(value)
        if cell is None:
            if len(self._cells) >= self._size:
                self._cells.clear()
            cell = figure_cell(value, self._measure, self._unit, self._digits)
            self._cells[value] = cell
        return cell
