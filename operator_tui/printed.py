"""Tables the printing commands (``check``, ``eval``) write, never cutting a cell.

A Rich table squeezed below its natural width cuts cells with "…" (an address, a scenario
name); piped output is 80 columns wide. So a table is printed only when the console holds it
whole, and otherwise each row becomes a block: its name on a line, then ``header value`` pairs
packed into indented lines, a pair broken only when it alone is wider than a line.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from operator_tui.core.text import plain

UNBOUNDED = 10_000
"""A width no table reaches: a table measured at it shows its natural width."""

INDENT = "  "
SEP = " · "


def fits(console: Console, table: Table) -> bool:
    natural = Measurement.get(console, console.options.update_width(UNBOUNDED), table).maximum
    return natural <= console.width


def block(head: Text, pairs: Sequence[tuple[str, str]], width: int) -> Text:
    """``head`` on its line, then the pairs (plain text) in indented lines of ``width``."""
    text = head.copy()
    text.overflow = "fold"
    room = max(width - len(INDENT), 8)
    used = room
    for header, value in pairs:
        pair = Text.assemble((plain(header), "dim"), " ", plain(value))
        if used + len(SEP) + pair.cell_len > room:
            text.append("\n" + INDENT)
            used = 0
        else:
            text.append(SEP)
            used += len(SEP)
        text.append_text(pair)
        used += pair.cell_len
    return text


def print_fitted(
    console: Console,
    table: Table,
    title: str,
    blocks: Sequence[tuple[Text, Sequence[tuple[str, str]]]],
) -> None:
    """``table`` when it fits the console, else ``title`` and one ``block`` per row."""
    if fits(console, table):
        console.print(table)
        return
    console.print(Text(title, style="bold"))
    for head, pairs in blocks:
        console.print(block(head, pairs, console.width))
