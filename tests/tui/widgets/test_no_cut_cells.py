"""No figure or id cell of the real panes is cut, whatever the values, at 80 and 120 columns.

Hypothesis draws clusters (store ids up to 6 digits, figures from nothing to absurd, region
ids up to 10 digits, incident ids, ticket counts and ages); each is shown by the app over the
fake runtime and every visible row of the stores, hot regions and incidents panes is read back
as drawn: each figure and id cell must hold its whole value and no "…".
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from operator_tikv.invariants.measures import measures
from operator_tikv.invariants.settings import InvariantSettings
from operator_tikv.records import TikvHotRegion, TikvStore, TikvStoreMetrics
from rich.cells import cell_len
from rich.text import Text

from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.types import ClusterMetrics, Severity, Snapshot
from operator_tui.tui.widgets.hot_regions import HotRegionsTable
from operator_tui.tui.widgets.incidents import IncidentTable
from operator_tui.tui.widgets.row_table import CELL_PADDING, RowTable
from operator_tui.tui.widgets.stores import StoresTable

from ..conftest import LEVELS, FakeRuntime, ManualClock, make_app

CHECKED = {
    StoresTable: (
        "id",
        "used",
        "qps",
        "p99",
        "p99w",
        "cpu",
        "fig:leader_count",
        "fig:region_count",
    ),
    HotRegionsTable: ("region", "leader", "bytes", "keys", "share"),
    IncidentTable: ("id", "target", "tickets", "age"),
}
"""The figure and id columns of each pane (the words columns may be cut with "…")."""

figure = st.one_of(
    st.none(),
    st.floats(min_value=0, max_value=1e13, allow_nan=False),
    st.sampled_from([0.0, 0.004, 9.995, 999.5, 9999.5, 99_999.0, 5743.0]),
)
store = st.fixed_dictionaries(
    {
        "state": st.sampled_from(["Up", "Disconnected", "Down"]),
        "capacity": st.integers(0, 2**50),
        "used": st.floats(0, 1),
        "qps": figure,
        "p99": figure,
        "p99w": figure,
        "cpu": st.one_of(st.none(), st.floats(0, 96)),
        "leaders": st.integers(0, 10_000_000),
        "regions": st.integers(0, 10_000_000),
    }
)
cluster = st.fixed_dictionaries(
    {
        "stores": st.dictionaries(st.integers(1, 999_999), store, min_size=1, max_size=12),
        "hot": st.lists(
            st.tuples(st.integers(1, 9_999_999_999), st.floats(0, 1e13), st.floats(0, 1e10)),
            max_size=8,
        ),
        "tickets": st.lists(
            st.tuples(st.integers(1, 99_999_999), st.integers(1, 10**7)),
            max_size=6,
            unique_by=lambda t: t[0],
        ),
        "ticket_age_s": st.integers(0, 10**8),
    }
)


class DrawnRuntime(FakeRuntime):
    """The fake runtime showing one drawn cluster on every tick."""

    def __init__(self, drawn: dict[str, Any]) -> None:
        super().__init__(clock=ManualClock())
        self.drawn = drawn
        self.config = replace(self.config, measures=measures(InvariantSettings()))
        self.stores = [
            TikvStore(
                id=sid,
                address=f"10.0.{sid % 256}.{sid // 256 % 256}:20160",
                state=s["state"],
                capacity_bytes=s["capacity"],
                available_bytes=int(s["capacity"] * (1 - s["used"])),
                used_bytes=int(s["capacity"] * s["used"]),
                leader_count=s["leaders"],
                region_count=s["regions"],
            )
            for sid, s in drawn["stores"].items()
        ]
        now = self.clock()
        for tid, occurrences in drawn["tickets"]:
            sid = self.stores[tid % len(self.stores)].id
            self.tickets[tid] = Ticket(
                id=tid,
                violation_key=f"slow_store:store-{sid}",
                invariant="slow_store",
                subject="tikv",
                target=f"store-{sid}",
                store_id=sid,
                severity=Severity.WARNING,
                status=TicketStatus.OPEN,
                message="drawn",
                first_seen=now - timedelta(seconds=drawn["ticket_age_s"]),
                last_seen=now,
                occurrences=occurrences,
            )

    async def tick_once(self) -> Snapshot:
        now = self.clock()
        metrics = {}
        for st_ in self.stores:
            s = self.drawn["stores"][st_.id]
            m = TikvStoreMetrics(
                store_id=st_.id,
                qps=s["qps"],
                p99_latency_ms=s["p99"],
                p99_write_latency_ms=s["p99w"],
                cpu_ratio=s["cpu"],
                leader_count=s["leaders"],
                region_count=s["regions"],
            )
            metrics[st_.id] = m
            self.history[st_.id].append((now, m))
        ids = [s.id for s in self.stores]
        hot = [
            TikvHotRegion(
                range_id=rid, store_id=ids[i % len(ids)], primary=True, flow_bytes=b, flow_keys=k
            )
            for i, (rid, b, k) in enumerate(self.drawn["hot"])
        ]
        self._snapshot = Snapshot(
            taken_at=now,
            stores=[replace(s, health=LEVELS[s.state]) for s in self.stores],
            hot_write_regions=hot,
            store_metrics=metrics,
            cluster=ClusterMetrics(stores_up=len(ids), stores_total=len(ids)),
            source="direct",
        )
        for t in self.tickets.values():
            self.bus.publish("ticket.opened", ticket=t.summary())
        self.bus.publish("tick", stores_up=len(ids), stores_total=len(ids))
        return self._snapshot


def _plain(value: Any) -> str:
    return (value.plain if isinstance(value, Text) else str(value)).strip()


def cut_cells(table: RowTable) -> list[str]:
    """Each checked cell of the visible rows whose drawn text is not its whole value."""
    keys = table.column_keys
    widths = [table.column_width(k) for k in keys]
    starts = [
        sum(w + 2 * CELL_PADDING for w in widths[:i]) + CELL_PADDING for i in range(len(keys))
    ]
    visible = table.size.width
    problems = []
    for y in range(1, min(table.size.height, table.row_count + 1)):
        row = table.row_keys[table.scroll_offset.y + y - 1]
        line = table.render_line(y).text
        for key in CHECKED[type(table)]:
            if key not in keys:
                continue
            i = keys.index(key)
            start, end = starts[i], starts[i] + widths[i]
            if start >= visible:
                continue  # wholly to the right: scrolled to, not cut
            value = _plain(table.get_cell(row, key))
            drawn = line[start:end]
            if end > visible or "…" in drawn or value not in drawn or cell_len(value) > widths[i]:
                problems.append(
                    f"{type(table).__name__} row {row} {key}: {value!r} drawn {drawn!r}"
                )
    return problems


async def _check(drawn: dict[str, Any], width: int) -> list[str]:
    runtime = DrawnRuntime(drawn)
    app = make_app(runtime)
    async with app.run_test(size=(width, 40)) as pilot:
        await runtime.tick_once()
        await app.settle()
        await pilot.pause()
        return [p for table in CHECKED for p in cut_cells(app.query_one(table))]


@settings(
    max_examples=15,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking: each try runs the app
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(drawn=cluster, width=st.sampled_from([80, 120]))
def test_no_figure_or_id_cell_is_cut(drawn: dict[str, Any], width: int) -> None:
    assert asyncio.run(_check(drawn, width)) == []
