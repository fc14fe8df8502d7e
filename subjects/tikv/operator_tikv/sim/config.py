"""Simulator settings and PD's v8.5.0 configuration defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORKLOADS = ("uniform", "zipfian", "hotspot")
MAX_STORES = 1000
MAX_REGIONS = 2_000_000
# 2024-12-25T03:05:03Z: the start used with a manual clock so that tests see fixed times.
MANUAL_EPOCH_S = 1735095903


@dataclass(slots=True)
class SimConfig:
    """How big the simulated cluster is and how it behaves. Same seed + same calls => same state."""

    stores: int = 3
    regions: int = 100
    seed: int = 42
    speed: float = 1.0
    max_store_down_time_s: float = 1800.0
    workload: str = "zipfian"
    host: str = "127.0.0.1"
    pd_port: int = 0
    manual_clock: bool = False
    log_dir: Path | str | None = None
    # Additions beyond the brief: when the simulated clock starts (unix seconds; None = now,
    # or 2024-12-25T03:05:03Z with a manual clock) and the client load per store.
    start_time_s: float | None = None
    qps_per_store: float = 1500.0
    # Each store's /metrics also carries the ~420 families TiKV has and the simulator does not
    # model (constant values), so that a scrape costs what a real page costs.
    full_metrics_page: bool = False
    # Store i's status port is store_port_base + i (0: free ports), so a Prometheus scrape
    # config can be written ahead, as for a real deployment.
    store_port_base: int = 0
    # TiKV v8.5 serves storage and coprocessor reads from one unified read pool unless
    # ``readpool.storage.use-unified-pool`` / ``readpool.coprocessor.use-unified-pool`` are set
    # to false (clusters upgraded from 4.x often keep them); False models the separate pools.
    unified_read_pool: bool = True

    def validate(self) -> None:
        if not 1 <= self.stores <= MAX_STORES:
            raise ValueError(f"stores must be between 1 and {MAX_STORES}, got {self.stores}")
        if not 1 <= self.regions <= MAX_REGIONS:
            raise ValueError(f"regions must be between 1 and {MAX_REGIONS}, got {self.regions}")
        if not self.speed > 0:
            raise ValueError(f"speed must be positive, got {self.speed}")
        if not self.max_store_down_time_s > 0:
            raise ValueError(
                f"max-store-down-time must be positive, got {self.max_store_down_time_s}"
            )
        if self.workload not in WORKLOADS:
            raise ValueError(
                f"workload must be one of {', '.join(WORKLOADS)}, got {self.workload!r}"
            )
        if not 0 <= self.pd_port <= 65533:
            raise ValueError(f"port must be between 0 and 65533, got {self.pd_port}")
        if self.store_port_base and not 1 <= self.store_port_base <= 65535 - self.stores:
            raise ValueError(
                f"store port base must be between 1 and {65535 - self.stores} for {self.stores} "
                f"stores, got {self.store_port_base}"
            )
        if self.qps_per_store < 0:
            raise ValueError("qps_per_store must not be negative")


SCHEDULERS_V2 = ("balance-region", "balance-leader", "hot-region", "evict-slow-store")


def default_schedule_config(max_store_down_time: str) -> dict[str, Any]:
    """``GET /config/schedule`` of PD v8.5.0 (key order of ScheduleConfig); store-limit is filled per store."""
    return {
        "max-snapshot-count": 64,
        "max-pending-peer-count": 64,
        "max-merge-region-size": 54,
        "max-merge-region-keys": 540000,
        "split-merge-interval": "1h0m0s",
        "switch-witness-interval": "1h0m0s",
        "enable-one-way-merge": "false",
        "enable-cross-table-merge": "true",
        "patrol-region-interval": "10ms",
        "max-store-down-time": max_store_down_time,
        "max-store-preparing-time": "48h0m0s",
        "leader-schedule-limit": 4,
        "leader-schedule-policy": "count",
        "region-schedule-limit": 2048,
        "witness-schedule-limit": 4,
        "replica-schedule-limit": 64,
        "merge-schedule-limit": 8,
        "hot-region-schedule-limit": 4,
        "hot-region-cache-hits-threshold": 3,
        "store-limit": {},
        "tolerant-size-ratio": 0.0,
        "low-space-ratio": 0.8,
        "high-space-ratio": 0.7,
        "region-score-formula-version": "v2",
        "scheduler-max-waiting-operator": 5,
        "enable-remove-down-replica": "true",
        "enable-replace-offline-replica": "true",
        "enable-make-up-replica": "true",
        "enable-remove-extra-replica": "true",
        "enable-location-replacement": "true",
        "enable-debug-metrics": "false",
        "enable-joint-consensus": "true",
        "enable-tikv-split-region": "true",
        "enable-heartbeat-breakdown-metrics": "true",
        "enable-heartbeat-concurrent-runner": "true",
        "schedulers-v2": [
            {"type": name, "args": None, "disable": False, "args-payload": ""}
            for name in SCHEDULERS_V2
        ],
        "hot-regions-write-interval": "10m0s",
        "hot-regions-reserved-days": 7,
        "max-movable-hot-peer-size": 512,
        "enable-diagnostic": "true",
        "enable-witness": "false",
        "slow-store-evicting-affected-store-ratio-threshold": 0.3,
        "store-limit-version": "v1",
        "patrol-region-worker-count": 1,
    }


def default_replication_config() -> dict[str, Any]:
    return {
        "max-replicas": 3,
        "location-labels": "",
        "strictly-match-label": "false",
        "enable-placement-rules": "true",
        "enable-placement-rules-cache": "false",
        "isolation-level": "",
    }


# Kinds of the schedule config keys, for validating ``POST /config/schedule`` like Go's json.Unmarshal.
DURATION_KEYS = {
    "split-merge-interval",
    "switch-witness-interval",
    "patrol-region-interval",
    "max-store-down-time",
    "max-store-preparing-time",
    "hot-regions-write-interval",
}
BOOL_STRING_KEYS = {
    "enable-one-way-merge",
    "enable-cross-table-merge",
    "enable-remove-down-replica",
    "enable-replace-offline-replica",
    "enable-make-up-replica",
    "enable-remove-extra-replica",
    "enable-location-replacement",
    "enable-debug-metrics",
    "enable-joint-consensus",
    "enable-tikv-split-region",
    "enable-heartbeat-breakdown-metrics",
    "enable-heartbeat-concurrent-runner",
    "enable-diagnostic",
    "enable-witness",
}
FLOAT_KEYS = {
    "tolerant-size-ratio",
    "low-space-ratio",
    "high-space-ratio",
    "slow-store-evicting-affected-store-ratio-threshold",
}
STRING_KEYS = {"leader-schedule-policy", "region-score-formula-version", "store-limit-version"}
