"""Shared cells draw exactly what ``format.measured`` draws, one object per shown value."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from operator_tui.core.subject import Measure
from operator_tui.tui.format import measured
from operator_tui.tui.widgets.cells import figure_cell, right_cell

P99 = Measure("p99_latency_ms", "read p99", "ms", warning=1000.0, critical=3000.0)
FREE = Measure("available_ratio", "free space", "ratio", warning=0.2, critical=0.1, above=False)


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    measure=st.sampled_from([None, P99, FREE]),
    unit=st.sampled_from(["", "count", "ms", "ratio", "bytes/s"]),
)
def test_a_figure_cell_is_the_measured_text(value, measure, unit) -> None:
    cell, text = figure_cell(value, measure, unit), measured(value, measure, unit)
    assert (cell.plain, cell.style, cell.justify, cell.spans) == (
        text.plain,
        text.style,
        text.justify,
        text.spans,
    )


def test_the_same_shown_value_is_the_same_object() -> None:
    assert figure_cell(5743.0, P99, "ms") is figure_cell(5743.0, P99, "ms")
    assert figure_cell(5743.0, P99, "ms") is figure_cell(5744.0, P99, "ms")  # both 5.74s
    assert figure_cell(2999.0, P99, "ms") is not figure_cell(3001.0, P99, "ms")  # colour differs
    assert right_cell("1.2k") is right_cell("1.2k") and right_cell("1.2k", "red") is not right_cell(
        "1.2k"
    )
