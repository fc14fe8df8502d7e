"""The export of a recording labels a TiKV figure by key as TiKV does."""

from __future__ import annotations

from datetime import UTC, datetime

from operator_tikv.records import TikvStoreMetrics

from operator_tui.core.recording_export import samples
from operator_tui.core.types import Snapshot


def test_exported_figures_by_key_carry_their_keys_label() -> None:
    """A stall's reasons export as TiKV labels them (``type``), a peer's reports by store id
    as ``peer``: the field's metadata names the label, not a guess in the exporter."""
    metrics = TikvStoreMetrics(
        store_id=4,
        write_stall_reasons_per_s={"level0_file_limit_stop": 2.0},
        unreachable_reports_per_s={2: 0.5},
    )
    found = samples(Snapshot(taken_at=datetime.now(UTC), store_metrics={4: metrics}))
    by_family = {family: labels for family, labels, _ in found}
    assert by_family["operator_store_write_stall_reasons_per_s"] == {
        "store": "4",
        "type": "level0_file_limit_stop",
    }
    assert by_family["operator_store_unreachable_reports_per_s"] == {"store": "4", "peer": "2"}
