"""The header at any width: whole figures or none, never one cut."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from operator_tui.core.subject import Figure
from operator_tui.core.types import ClusterMetrics, Snapshot
from operator_tui.tui.widgets.header import MonitorState, header_text

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FIGURES = (Figure("leader", "PD leader", lead=True), Figure("regions", "regions"))


def _lines(
    width: int | None,
    qps: float,
    p99: float,
    paused: bool = False,
    name: str = "tikv 7128355989445507485",
) -> list[str]:
    cluster = ClusterMetrics(
        stores_up=19,
        stores_total=20,
        qps=qps,
        p99_latency_ms=p99,
        figures={"leader": "pd-1", "regions": 100},
    )
    state = MonitorState(
        name,
        2.0,
        "observe",
        paused=paused,
        demo=True,
        last_tick_at=T0 - timedelta(seconds=1),
        figures=FIGURES,
        alerts={"critical": 2, "warning": 1},
    )
    snapshot = Snapshot(taken_at=T0, cluster=cluster, source="pd+direct")
    return header_text(snapshot, state, T0, width).plain.split("\n")


def test_a_wide_header_shows_everything() -> None:
    first, second = _lines(None, 45_600.0, 5200.0)
    assert first == (
        " tikv 7128355989445507485  demo  2 crit · 1 warn  PD leader pd-1  stores 19/20 up"
        "  regions 100  QPS 45.6k  p99 5.20s"
    )
    assert second == " interval 2s  mode observe  source pd+direct  last tick 23:59:59 (1s ago)"


def test_at_80_columns_the_subjects_figures_go_first() -> None:
    first, second = _lines(80, 45_600.0, 5200.0, name="tikv")
    assert len(first) <= 80 and "…" not in first
    assert "regions" not in first
    assert first.endswith("QPS 45.6k  p99 5.20s")
    assert "2 crit · 1 warn" in first and "stores 19/20 up" in first
    first, second = _lines(60, 45_600.0, 5200.0, paused=True, name="tikv")
    assert "PD leader" not in first and "demo" not in first and "p99 5.20s" in first
    assert second.endswith("PAUSED") and "source" not in second


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(min_value=40, max_value=220),
    qps=st.floats(min_value=0, max_value=1e12, allow_nan=False),
    p99=st.floats(min_value=0, max_value=1e9, allow_nan=False),
)
def test_no_figure_is_ever_cut(width: int, qps: float, p99: float) -> None:
    wide_first, wide_second = _lines(None, qps, p99)
    first, second = _lines(width, qps, p99)
    for line, wide in ((first, wide_first), (second, wide_second)):
        assert len(line) <= width
        for part in re.split(r" {2,}", line.strip()):
            assert part in wide  # every shown part whole, as the unlimited header shows it
