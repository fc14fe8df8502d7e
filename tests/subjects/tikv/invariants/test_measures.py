"""The cells turn amber and red where the invariants fire, whatever the settings say."""

from __future__ import annotations

from operator_tikv.invariants.measures import measures
from operator_tikv.invariants.settings import InvariantSettings


def test_thresholds_follow_the_invariant_settings() -> None:
    s = InvariantSettings(high_write_latency_ms=50.0, disk_available_critical_ratio=0.1)
    by_name = {m.name: m for m in measures(s)}
    assert by_name["p99_write_latency_ms"].warning == 50.0
    assert by_name["used_ratio"].critical == 0.9
    assert by_name["write_stall"].unit == "us"
    assert len(by_name) == len(measures(s))
