"""Invariant thresholds and grace periods (``TikvSettings.invariants``, ``[tikv.invariants]``)."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class InvariantSettings:
    """Thresholds and grace periods; set through ``TikvSettings.invariants`` (``[tikv.invariants]``)."""

    high_write_latency_ms: float = 100.0
    critical_write_latency_ms: float = 1000.0
    high_write_latency_grace_s: float = 60.0
    disk_used_warning_ratio: float = 0.70
    disk_available_critical_ratio: float = 0.20
    low_disk_grace_s: float = 60.0
    under_replicated_grace_s: float = 600.0
    miss_peer_critical_count: int = 100
    leader_imbalance_ratio: float = 0.5
    leader_imbalance_min_leaders: int = 10
    leader_imbalance_grace_s: float = 300.0
    hot_write_share: float = 0.6
    hot_write_min_bytes_per_s: float = 1.0 * MiB
    hot_write_grace_s: float = 60.0
    raft_log_lag_entries: float = 5000.0
    raft_log_lag_grace_s: float = 60.0
    write_stall_grace_s: float = 60.0
    slow_score_threshold: float = 80.0
    slow_store_grace_s: float = 30.0
    unreachable_report_min_per_s: float = 0.2
    unreachable_reporters_min: int = 2
    pd_member_grace_s: float = 0.0
    pd_leader_changed_hold_s: float = 60.0
    grace_scale: float = 1.0

    def grace(self, seconds: float) -> float:
        return seconds * self.grace_scale
