"""The workload's shape: request mix, value size, region heartbeat period, hot thresholds."""

from __future__ import annotations

from operator_tikv.sim.encode import NS

REGION_HEARTBEAT_NS = 60 * NS
VALUE_BYTES = 1024
READ_RATIO = 0.7
INSERT_RATIO = 0.2
HOT_CANDIDATES = 60
MIN_HOT_WRITE_BYTES = 1024.0
MIN_HOT_READ_BYTES = 8 * 1024.0
# Share of reads that TiDB sends as coprocessor requests (table and index scans).
COP_RATIO = 0.6
