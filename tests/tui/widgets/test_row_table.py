"""The table asks for a repaint of every screen cell its diff changed, and only from the first
changed column of a row whose values alone changed."""

from __future__ import annotations

import random

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from operator_tui.tui.format import right
from operator_tui.tui.widgets.row_table import RowTable


class Table(RowTable):
    COLUMNS = (("N", "n", 4), ("Word", "word", 8), ("Rate", "rate", 7), ("Trend", "trend", 6))


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield Table(id="table")


def cells_of(table: RowTable) -> list[list[tuple[str, object]]]:
    """The table's whole frame, cell by cell (character, style)."""
    lines = []
    for strip in table.render_lines(Region(0, 0, *table.size)):
        line = []
        for segment in strip:
            line += [(char, segment.style) for char in segment.text]
        lines.append(line)
    return lines


def rows(rng: random.Random, keys: list[int]) -> list[tuple[int, tuple[object, ...]]]:
    return [
        (
            k,
            (
                k,
                Text(rng.choice(["alpha", "beta", "gamma"]), style=rng.choice(["", "bold"])),
                right(f"{rng.choice([1, 2, 3])}k", rng.choice(["", "red"])),
                rng.choice(["▁▂", "▂▁", "▃▃"]),
            ),
        )
        for k in keys
    ]


async def test_every_changed_cell_is_repainted_and_values_only_from_their_column() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(Table)
        asked: list[Region] = []
        original = table.refresh

        def refresh(*regions, **kwargs):
            asked.extend(regions)
            return original(*regions, **kwargs)

        table.refresh = refresh  # type: ignore[method-assign]
        rng = random.Random(7)
        keys = list(range(1, 9))
        table.set_rows(rows(rng, keys))
        await pilot.pause()
        partial = 0
        for round_ in range(40):
            before = cells_of(table)
            asked.clear()
            if round_ % 5 == 4:
                rng.shuffle(keys)
            if round_ % 7 == 6:
                table.move_cursor(row=rng.randrange(len(keys)))
            table.set_rows(rows(rng, keys))
            after = cells_of(table)
            for y, (old, new) in enumerate(zip(before, after, strict=True)):
                for x, (a, b) in enumerate(zip(old, new, strict=True)):
                    if a != b:
                        assert any(r.contains(x, y) for r in asked), (round_, x, y, asked)
            partial += sum(1 for r in asked if r.x > 0)
            await pilot.pause()
        assert partial > 0  # some rows changed from a later column only


async def test_a_row_whose_rate_changed_is_repainted_from_the_rate_column() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(Table)
        table.set_rows(
            [(1, (1, Text("a"), right("1k"), "▁")), (2, (2, Text("b"), right("2k"), "▁"))]
        )
        await pilot.pause()
        asked: list[Region] = []
        original = table.refresh
        table.refresh = lambda *r, **k: (asked.extend(r), original(*r, **k))[1]  # type: ignore[method-assign]
        table.set_rows(
            [(1, (1, Text("a"), right("1k"), "▁")), (2, (2, Text("b"), right("3k"), "▁"))]
        )
        rate_x = (4 + 2) + (8 + 2)
        assert asked == [Region(rate_x, 2, table.size.width - rate_x, 1)]
