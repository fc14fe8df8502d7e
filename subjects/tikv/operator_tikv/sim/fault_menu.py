"""The faults the TiKV subject offers on its simulator, with their parameters, for front ends.

Each entry mirrors a kind ``sim.faults`` accepts on ``POST /sim/api/v1/faults`` (docs/simulator.md,
"Control routes"); its parameters are the ones that route reads, their defaults the ones it
fills in (``None``: the simulator derives it, e.g. from the store's capacity).
"""

from __future__ import annotations

from operator_tikv.sim.stall import CAUSES
from operator_tui.core.faults import FaultKind, FaultParam

STORE = "store"
CLUSTER = "cluster"

FAULT_MENU: tuple[FaultKind, ...] = (
    FaultKind(
        "kill_store",
        "kill store",
        "Stop the TiKV process: heartbeats stop, status port closes",
    ),
    FaultKind(
        "pause_store",
        "pause store",
        "Freeze the process (SIGSTOP-like): alive but silent to PD and peers",
    ),
    FaultKind(
        "partition_store",
        "partition store",
        "Cut the store off the network: it runs, nobody reaches it",
    ),
    FaultKind(
        "slow_disk",
        "slow disk",
        "Every disk write of the store takes this long",
        params=(FaultParam("latency_ms", "float", 1500.0, "ms", "added write latency"),),
    ),
    FaultKind(
        "disk_pressure",
        "disk pressure",
        "Fill the store's disk until little is left",
        params=(
            FaultParam("target_available_ratio", "float", 0.05, "", "free space to stop at (0-1)"),
            FaultParam(
                "rate_bytes_per_s",
                "float",
                None,
                "B/s",
                "fill speed (default: 1% of capacity per second)",
            ),
        ),
    ),
    FaultKind(
        "hot_region",
        "hot region",
        "Send a share of all writes to one region",
        target=CLUSTER,
        params=(
            FaultParam("region_id", "int", None, "", "region (default: the middle one)"),
            FaultParam("share", "float", 0.5, "", "share of all writes (0-1)"),
        ),
    ),
    FaultKind(
        "write_stall",
        "write stall",
        "RocksDB stalls writes on the store",
        params=(
            FaultParam("cause", "str", "level0", "", "why RocksDB stalls", choices=CAUSES),
            FaultParam("stall_ms", "float", 1200.0, "ms", "stall per second of writes"),
            FaultParam("duration_s", "float", 0.0, "s", "how long (0: until cleared)"),
        ),
    ),
    FaultKind(
        "critical_error",
        "critical error",
        "The store logs a critical error at a steady rate",
        params=(
            FaultParam("type", "str", "sst_corruption", "", "error type"),
            FaultParam("rate_per_s", "float", 1.0, "/s", "errors per second"),
        ),
    ),
    FaultKind(
        "kill_pd_leader",
        "kill PD leader",
        "Stop the PD member that leads; the others elect a new leader",
        target=CLUSTER,
    ),
)
