"""Invariant settings from options: flat and nested overrides, bad values refused."""

import pytest
from operator_tikv.invariants import InvariantChecker, InvariantSettings

from operator_tui.core.subject import SubjectError


def test_grace_overrides_from_options(metrics, snap, keys):
    settings = InvariantSettings.from_options(
        {"high_write_latency_grace_s": 5, "invariants": {"high_write_latency_ms": 20}, "other": 1}
    )
    checker = InvariantChecker(settings)
    m = {1: metrics(1, p99_write_latency_ms=30), 2: metrics(2), 3: metrics(3)}
    checker.evaluate(snap(0, m=m))
    assert keys(checker.evaluate(snap(5, m=m))) == ["high_write_latency:store-1"]


@pytest.mark.parametrize(
    "bad", [{"slow_score_threshold": "high"}, {"invariants": {"nope": 1}}, {"low_disk_grace_s": -1}]
)
def test_bad_settings_are_subject_errors(bad):
    with pytest.raises(SubjectError):
        InvariantSettings.from_options(bad)
