"""Invariant settings from the typed section: overrides take effect, bad values are refused."""

import pytest
from operator_tikv.invariants import InvariantChecker
from operator_tikv.settings import TikvSettings
from pydantic import ValidationError


def test_grace_overrides_from_settings(metrics, snap, keys):
    settings = TikvSettings(
        invariants={"high_write_latency_grace_s": 5, "high_write_latency_ms": 20}
    ).invariants
    checker = InvariantChecker(settings)
    m = {1: metrics(1, p99_write_latency_ms=30), 2: metrics(2), 3: metrics(3)}
    checker.evaluate(snap(0, m=m))
    assert keys(checker.evaluate(snap(5, m=m))) == ["high_write_latency:store-1"]


@pytest.mark.parametrize(
    "bad", [{"slow_score_threshold": "high"}, {"nope": 1}, {"low_disk_grace_s": -1}]
)
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValidationError):
        TikvSettings(invariants=bad)
