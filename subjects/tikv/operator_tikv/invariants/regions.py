"""Are regions whole and evenly led: missing replicas, leader balance, hot write flow."""

from __future__ import annotations

from operator_tikv.figures import pd_figures
from operator_tikv.invariants import names
from operator_tikv.invariants.check import ClusterTick, Report, cluster_check
from operator_tikv.invariants.settings import MiB
from operator_tikv.invariants.text import pct
from operator_tikv.states import StoreState, is_tiflash
from operator_tui.core.types import Severity


@cluster_check(
    names.UNDER_REPLICATED,
    Severity.CRITICAL,
    "Regions missing a replica or with a down peer (PD's miss-peer / down-peer checks).",
    grace="under_replicated_grace_s",
)
def under_replicated(t: ClusterTick, out: Report) -> None:
    """Critical once more than ``miss_peer_critical_count`` regions miss a replica."""
    c = pd_figures(t.snap.cluster)
    if names.REGION_CHECKS in t.unmeasured:
        out.unmeasured()
    elif c.miss_peer_regions > 0 or c.down_peer_regions > 0:
        out.fire(
            f"{c.miss_peer_regions} regions miss a replica and {c.down_peer_regions} "
            "have a down peer",
            severity=Severity.CRITICAL
            if c.miss_peer_regions > t.settings.miss_peer_critical_count
            else Severity.WARNING,
            miss_peer_regions=c.miss_peer_regions,
            down_peer_regions=c.down_peer_regions,
            pending_peer_regions=c.pending_peer_regions,
        )


@cluster_check(
    names.LEADER_IMBALANCE,
    Severity.WARNING,
    lambda s: (
        f"Leader counts of Up stores spread by more than {s.leader_imbalance_ratio:.0%} of "
        "the mean."
    ),
    grace="leader_imbalance_grace_s",
)
def leader_imbalance(t: ClusterTick, out: Report) -> None:
    """Among Up TiKV stores that answer (TiFlash holds no leaders); a spread under
    ``leader_imbalance_min_leaders`` is noise."""
    s, snap = t.settings, t.snap
    up = [
        st
        for st in snap.stores
        if st.state == StoreState.UP
        and not is_tiflash(st)
        and (snap.store_metrics.get(st.id) is None or snap.store_metrics[st.id].reachable)
    ]
    if len(up) < 2:
        return
    counts = {st.id: st.leader_count for st in up}
    total = sum(counts.values())
    if total < s.leader_imbalance_min_leaders:
        return
    mean = total / len(counts)
    most = max(counts, key=lambda k: counts[k])
    least = min(counts, key=lambda k: counts[k])
    spread = counts[most] - counts[least]
    if spread >= s.leader_imbalance_min_leaders and spread / mean > s.leader_imbalance_ratio:
        out.fire(
            f"leaders are unbalanced: store {most} has {counts[most]}, store {least} has "
            f"{counts[least]} (mean {mean:.1f})",
            leader_counts={str(k): v for k, v in counts.items()},
        )


@cluster_check(
    names.HOT_WRITE_REGION,
    Severity.WARNING,
    lambda s: (
        f"One store leads at least {s.hot_write_share:.0%} of the hot write flow "
        f"(and at least {s.hot_write_min_bytes_per_s / MiB:g} MiB/s)."
    ),
    grace="hot_write_grace_s",
)
def hot_write_region(t: ClusterTick, out: Report) -> None:
    """From PD's hot write regions, counted by leader store; reported against that store."""
    s, snap = t.settings, t.snap
    if names.HOT_WRITE in t.unmeasured:
        for st in snap.stores:
            out.unmeasured(st.id)
        return
    live = [st for st in snap.stores if st.state == StoreState.UP and not is_tiflash(st)]
    if len(live) < 2 or not snap.hot_write_regions:
        return
    by_store: dict[int, float] = {}
    regions: dict[int, list[int]] = {}
    for hot in snap.hot_write_regions:
        if not hot.primary:
            continue
        by_store[hot.store_id] = by_store.get(hot.store_id, 0.0) + hot.flow_bytes
        regions.setdefault(hot.store_id, []).append(hot.range_id)
    total = sum(by_store.values())
    if total <= 0:
        return
    top = max(by_store, key=lambda k: by_store[k])
    share = by_store[top] / total
    if share >= s.hot_write_share and by_store[top] >= s.hot_write_min_bytes_per_s:
        out.fire(
            f"store {top} leads {pct(share)} of the hot write flow "
            f"({by_store[top] / MiB:.1f} MiB/s over {len(regions[top])} hot regions)",
            store_id=top,
            share=share,
            flow_bytes_per_s=by_store[top],
            region_ids=regions[top][:10],
        )
