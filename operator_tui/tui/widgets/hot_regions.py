"""Hot regions pane: the regions taking most of the cluster's write flow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from operator_tui.core.subject import Measure
from operator_tui.core.types import HotRegion
from operator_tui.tui.format import count, rate_bytes
from operator_tui.tui.widgets.cells import figure_cell, right_cell
from operator_tui.tui.widgets.row_table import RowTable

TOP_N = 50
LEADER_SHARE = "hot_write_share"
"""The measure a subject declares for a store's share of the hot write flow it leads."""


def leading_entries(hot: list[HotRegion]) -> list[HotRegion]:
    """One entry per region (the leader's when PD reports several), hottest first."""
    best: dict[int, HotRegion] = {}
    for entry in hot:
        seen = best.get(entry.range_id)
        if seen is None or (entry.primary and not seen.primary):
            best[entry.range_id] = entry
    return sorted(best.values(), key=lambda h: (-h.flow_bytes, h.range_id))


def leader_shares(entries: Sequence[HotRegion]) -> dict[int, float]:
    """Each leader store's share of the hot write flow shown."""
    total = sum(h.flow_bytes for h in entries)
    shares: dict[int, float] = {}
    if total <= 0:
        return shares
    for h in entries:
        shares[h.store_id] = shares.get(h.store_id, 0.0) + h.flow_bytes / total
    return shares


class HotRegionsTable(RowTable):
    """The Leader cell is coloured by its store's share of the hot write flow against the
    subject's threshold for it (a store near, at or past the limit shows before it fires)."""

    COLUMNS = (
        ("Region", "region", 6),
        ("Leader", "leader", 6),
        ("Write", "bytes", 9),
        ("Keys/s", "keys", 6),
        ("Share", "share", 5),
    )
    FIT = frozenset({"region", "leader", "bytes", "keys", "share"})

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._entries: dict[str, HotRegion] = {}
        self._total = 0.0

    def apply(self, hot: list[HotRegion], measures: Sequence[Measure] = ()) -> bool:
        entries = leading_entries(hot)
        total = sum(h.flow_bytes for h in entries)
        shares = leader_shares(entries)
        measure = next((m for m in measures if m.name == LEADER_SHARE), None)
        rows: list[tuple[int, tuple[Any, ...]]] = []
        kept: dict[str, HotRegion] = {}
        for h in entries[:TOP_N]:
            share = h.flow_bytes / total if total > 0 else 0.0
            leader = figure_cell(shares.get(h.store_id), measure, "ratio")
            kept[str(h.range_id)] = h
            rows.append(
                (
                    h.range_id,
                    (
                        h.range_id,
                        right_cell(
                            str(h.store_id), leader.style if isinstance(leader.style, str) else ""
                        ),
                        right_cell(rate_bytes(h.flow_bytes)),
                        right_cell(count(h.flow_keys)),
                        right_cell(f"{share * 100:.0f}%", "bold" if share >= 0.5 else ""),
                    ),
                )
            )
        self._entries = kept
        self._total = total
        return self.set_rows(rows)

    def sort_value_of(self, key: str, column: str, cell: Any) -> Any:
        h = self._entries.get(key)
        if h is None:
            return cell
        return {
            "region": h.range_id,
            "leader": h.store_id,
            "bytes": h.flow_bytes,
            "keys": h.flow_keys,
            "share": h.flow_bytes,
        }.get(column, cell)

    @property
    def selected_leader_store(self) -> int | None:
        key = self.selected_key
        if key is None:
            return None
        h = self._entries.get(key)
        return h.store_id if h is not None else None
