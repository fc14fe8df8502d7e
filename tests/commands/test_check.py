"""``check``'s table never cuts an address or a figure, on a wide terminal or piped at 80."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from operator_tui.commands.check import _report
from operator_tui.core.types import Severity, Snapshot, Store, StoreMetrics, Violation

ADDRESS = "tikv-{i}.tikv-peer.tidb-cluster-production.svc.cluster.local:20160"


def _snapshot(stores: int) -> Snapshot:
    snap = Snapshot(taken_at=datetime(2026, 12, 5, 8, 0, tzinfo=UTC))
    for i in range(1, stores + 1):
        snap.stores.append(
            Store(
                id=i,
                address=ADDRESS.format(i=i),
                state="Up",
                capacity_bytes=100 * 2**30,
                available_bytes=5 * 2**30,
            )
        )
        snap.store_metrics[i] = StoreMetrics(store_id=i, qps=12345.6 * i, p99_latency_ms=5743.0)
    return snap


@pytest.mark.parametrize("width", [80, 120, 250])
def test_addresses_and_figures_are_whole_at_any_width(width: int) -> None:
    out = io.StringIO()
    violation = Violation("low_disk", Severity.CRITICAL, "disk nearly full", 12)
    _report(_snapshot(12), [violation], (), False, Console(file=out, width=width))
    text = out.getvalue()
    assert "…" not in text
    assert all(len(line.rstrip()) <= width for line in text.splitlines())
    for i in range(1, 13):
        assert ADDRESS.format(i=i) in text
    assert text.count("5.74s") == 12 and text.count("95%") == 12
    assert "148k" in text  # store 12's 148 147 requests/s, scaled
    assert "low_disk (store 12): disk nearly full" in text
