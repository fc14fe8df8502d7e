"""Figures scaled to their unit stay within their column at 80 and 120 columns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from operator_tui.core.subject import Measure
from operator_tui.tui.format import count, duration_s, in_words, level, ms, pct, rate_bytes, size

finite = st.floats(min_value=0, max_value=1e21, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.00085, "850µs"), (0.0057, "5.70ms"), (5.74, "5.74s"), (123, "2m03s"), (3700, "1h01m")],
)
def test_durations_scale_their_unit(value: float, text: str) -> None:
    assert duration_s(value) == text


def test_counts_sizes_and_rates_scale() -> None:
    assert [count(v) for v in (999, 12_345, 1_234_567)] == ["999", "12.3k", "1.23M"]
    assert size(1536) == "1.50KiB"
    assert rate_bytes(15 * 2**20) == "15.0MiB/s"
    assert ms(5743.0) == "5.74s"


@settings(max_examples=300, deadline=None)
@given(finite)
def test_no_figure_is_longer_than_its_column(value: float) -> None:
    assert cell_len(count(value)) <= 6
    assert cell_len(duration_s(value)) <= 6
    assert cell_len(ms(value)) <= 6
    assert cell_len(size(value)) <= 7
    assert cell_len(pct(min(value, 99.0))) <= 5


def test_levels_follow_the_declared_thresholds() -> None:
    disk = Measure("used_ratio", "disk used", "ratio", warning=0.7, critical=0.8)
    assert [level(v, disk) for v in (0.5, 0.65, 0.75, 0.95)] == ["", "near", "warning", "critical"]
    assert level(0.95, None) == ""


def test_evidence_in_words_with_units() -> None:
    stall = Measure("write_stall", "RocksDB write stall p99", "us", critical=0.0)
    assert (
        in_words("write_stall", 1.8e6, 0.0, [stall]) == "RocksDB write stall p99: 1.80s, usually 0"
    )
