"""Disk checks: warning on used share, critical on available share, PD's sizes as fallback."""

from operator_tikv.invariants import InvariantChecker, InvariantSettings
from operator_tikv.records import TikvStoreMetrics

from operator_tui.core.types import Severity

GiB = 2**30


def test_low_disk_warning_and_critical(metrics, snap, keys):
    checker = InvariantChecker(InvariantSettings(low_disk_grace_s=0))
    warn = {1: metrics(1, available_bytes=25 * GiB), 2: metrics(2), 3: metrics(3)}
    out = checker.evaluate(snap(0, m=warn))
    assert keys(out) == ["low_disk:store-1"] and out[0].severity is Severity.WARNING
    assert "75.0%" in out[0].message
    crit = {1: metrics(1, available_bytes=10 * GiB), 2: metrics(2), 3: metrics(3)}
    out = checker.evaluate(snap(1, m=crit))
    assert out[0].severity is Severity.CRITICAL and "10.0%" in out[0].message


def test_low_disk_falls_back_to_pd_sizes(store, metrics, snap, keys):
    checker = InvariantChecker(InvariantSettings(low_disk_grace_s=0))
    stores = [store(1, available=5 * GiB), store(2), store(3)]
    m = {1: TikvStoreMetrics(1, qps=1.0), 2: metrics(2), 3: metrics(3)}
    assert keys(checker.evaluate(snap(0, stores=stores, m=m))) == ["low_disk:store-1"]
