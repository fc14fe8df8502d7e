"""Hot regions pane: the regions taking most of the cluster's write flow."""

from __future__ import annotations

from typing import Any

from operator_tui.core.types import HotRegion
from operator_tui.tui.format import num, rate_bytes, right
from operator_tui.tui.widgets.row_table import RowTable

TOP_N = 50


def leading_entries(hot: list[HotRegion]) -> list[HotRegion]:
    """One entry per region (the leader's when PD reports several), hottest first."""
    best: dict[int, HotRegion] = {}
    for entry in hot:
        seen = best.get(entry.range_id)
        if seen is None or (entry.primary and not seen.primary):
            best[entry.range_id] = entry
    return sorted(best.values(), key=lambda h: (-h.flow_bytes, h.range_id))


class HotRegionsTable(RowTable):
    COLUMNS = (
        ("Region", "region", 6),
        ("Leader", "leader", 7),
        ("Write", "bytes", 10),
        ("Keys/s", "keys", 6),
        ("Share", "share", 5),
    )

    def apply(self, hot: list[HotRegion]) -> bool:
        entries = leading_entries(hot)
        total = sum(h.flow_bytes for h in entries)
        rows: list[tuple[int, tuple[Any, ...]]] = []
        for h in entries[:TOP_N]:
            share = h.flow_bytes / total if total > 0 else 0.0
            rows.append(
                (
                    h.range_id,
                    (
                        h.range_id,
                        f"store {h.store_id}",
                        right(rate_bytes(h.flow_bytes)),
                        right(num(h.flow_keys)),
                        right(f"{share * 100:.0f}%", "bold" if share >= 0.5 else ""),
                    ),
                )
            )
        return self.set_rows(rows)

    @property
    def selected_leader_store(self) -> int | None:
        key = self.selected_key
        if key is None:
            return None
        cells = self.cells(key)
        return int(str(cells[1]).removeprefix("store ")) if cells else None
