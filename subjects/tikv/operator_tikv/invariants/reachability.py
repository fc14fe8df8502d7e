"""Who can reach whom: a store's own status port, and what its peers report about it."""

from __future__ import annotations

from dataclasses import dataclass

from operator_tikv.records import TikvStoreMetrics
from operator_tui.core.types import Snapshot


def reachability(m: TikvStoreMetrics | None) -> bool | None:
    """Did the store's status port answer? ``None`` when nothing was measured."""
    if m is None:
        return None
    if not m.reachable:
        return False
    measured = (m.capacity_bytes, m.region_count, m.slow_score, m.qps, m.write_stall)
    if m.error is not None and all(v is None for v in measured):
        return None
    return True


@dataclass(frozen=True, slots=True)
class CutOff:
    """Peer evidence that a store is partitioned: who cannot reach it, and whom it cannot reach."""

    reported_by: dict[int, float]
    reports: dict[int, float]


def cut_off_stores(
    snap: Snapshot, min_per_s: float = 0.2, min_reporters: int = 2
) -> dict[int, CutOff]:
    """Stores their peers cannot reach while their own status port answers.

    Every store reports the destinations its raft messages cannot reach. A store
    cut off from the others is reported by all its peers and reports them back;
    each peer is reported only by the cut-off store. So a store is taken as cut
    off when at least ``min_reporters`` answering stores report it, it reports at
    least one of them, and no store it reports is reported by more stores than it
    is. A dead store is not one (its port does not answer), nor one that came back
    (its new process has failed to reach no one), nor one only some peers cannot
    reach (it does not report them).
    """
    answering: dict[int, dict[int, float]] = {}
    for sid, m in snap.store_metrics.items():
        if m.unreachable_reports_per_s is not None and reachability(m) is True:
            answering[sid] = {
                t: r for t, r in m.unreachable_reports_per_s.items() if r >= min_per_s and t != sid
            }
    reported_by: dict[int, dict[int, float]] = {}
    for reporter, targets in answering.items():
        for target, per_s in targets.items():
            reported_by.setdefault(target, {})[reporter] = per_s
    out: dict[int, CutOff] = {}
    for sid, by in reported_by.items():
        own = answering.get(sid)
        if own is None or len(by) < max(1, min_reporters) or not set(own) & set(by):
            continue
        if all(len(reported_by.get(t, ())) <= len(by) for t in own):
            out[sid] = CutOff(reported_by=dict(sorted(by.items())), reports=own)
    return out
