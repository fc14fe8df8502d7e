"""TiKV invariants: what must hold, how urgent it is when it does not, and for how long first.

Each check turns a snapshot into findings keyed ``invariant:target``; a finding
becomes a violation once it has held for its grace period, measured on
``Snapshot.taken_at`` (so tests and the simulator's clock drive time). A key
whose signal was not measured this tick (a failed endpoint, a first scrape
without rates) keeps its timer, and if it was firing it is reported again as
it was (``details["stale"] = True``) so that a gap in measurement does not
resolve and reopen a ticket; a key whose condition is false is cleared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from operator_tikv.states import StoreState
from operator_tui.core.subject import InvariantSpec
from operator_tui.core.types import (
    Severity,
    Snapshot,
    Store,
    StoreMetrics,
    Violation,
    violation_target,
)

MiB = 1024 * 1024

# Signals the subject may report as not measured this tick, in ``Snapshot.extra["unmeasured"]``.
REGION_CHECKS = "region_checks"
HOT_WRITE = "hot_write"
PD_HEALTH = "pd_health"
PD_MEMBERS = "pd_members"


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


def specs(settings: InvariantSettings) -> tuple[InvariantSpec, ...]:
    s = settings
    return (
        InvariantSpec(
            "store_down",
            "Store process gone: its status port refuses or times out, or PD reports it Down "
            "(or Disconnected with nothing answering).",
            Severity.CRITICAL,
            0.0,
        ),
        InvariantSpec(
            "store_disconnected",
            "A network partition: the store's status port answers, but its peers cannot reach "
            f"it (at least {s.unreachable_reporters_min} report it unreachable and it reports "
            "them back), or PD lost its heartbeat (Disconnected).",
            Severity.WARNING,
            0.0,
        ),
        InvariantSpec(
            "high_write_latency",
            f"p99 async write latency above {s.high_write_latency_ms:g} ms "
            f"(critical above {s.critical_write_latency_ms:g} ms).",
            Severity.CRITICAL,
            s.grace(s.high_write_latency_grace_s),
        ),
        InvariantSpec(
            "low_disk",
            f"More than {s.disk_used_warning_ratio:.0%} of capacity used (warning); available "
            f"below {s.disk_available_critical_ratio:.0%} of capacity (critical, as TiKV_low_space).",
            Severity.CRITICAL,
            s.grace(s.low_disk_grace_s),
        ),
        InvariantSpec(
            "under_replicated",
            "Regions missing a replica or with a down peer (PD's miss-peer / down-peer checks).",
            Severity.CRITICAL,
            s.grace(s.under_replicated_grace_s),
        ),
        InvariantSpec(
            "leader_imbalance",
            f"Leader counts of Up stores spread by more than {s.leader_imbalance_ratio:.0%} of "
            "the mean.",
            Severity.WARNING,
            s.grace(s.leader_imbalance_grace_s),
        ),
        InvariantSpec(
            "hot_write_region",
            f"One store leads at least {s.hot_write_share:.0%} of the hot write flow "
            f"(and at least {s.hot_write_min_bytes_per_s / MiB:g} MiB/s).",
            Severity.WARNING,
            s.grace(s.hot_write_grace_s),
        ),
        InvariantSpec(
            "raft_log_lag",
            f"p99 raft log lag above {s.raft_log_lag_entries:g} entries (TiKV_raft_log_lag).",
            Severity.CRITICAL,
            s.grace(s.raft_log_lag_grace_s),
        ),
        InvariantSpec(
            "write_stall",
            "Server is busy: RocksDB write stall, raftstore channel full, or scheduler too busy.",
            Severity.CRITICAL,
            s.grace(s.write_stall_grace_s),
        ),
        InvariantSpec(
            "slow_store",
            f"Store slow score at or above {s.slow_score_threshold:g} (PD's slow-store threshold).",
            Severity.CRITICAL,
            s.grace(s.slow_store_grace_s),
        ),
        InvariantSpec(
            "critical_error",
            "TiKV counts critical errors (SST corruption, disk stuck, ...): TiKV_critical_error.",
            Severity.CRITICAL,
            0.0,
        ),
        InvariantSpec(
            "pd_member_unhealthy",
            "A PD member fails its health check (critical when a majority does).",
            Severity.CRITICAL,
            s.grace(s.pd_member_grace_s),
        ),
        InvariantSpec(
            "pd_leader_changed",
            f"The PD leader changed (reported for {s.pd_leader_changed_hold_s:g} s after the change).",
            Severity.WARNING,
            0.0,
        ),
    )


@dataclass(slots=True)
class _Finding:
    violation: Violation
    grace_s: float


@dataclass(slots=True)
class _Findings:
    items: list[_Finding] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)

    def add(
        self,
        invariant: str,
        severity: Severity,
        message: str,
        store_id: int | None,
        grace_s: float,
        **details: Any,
    ) -> None:
        self.items.append(
            _Finding(Violation(invariant, severity, message, store_id, details), grace_s)
        )

    def unmeasured(self, invariant: str, store_id: int | None) -> None:
        self.unknown.add(f"{invariant}:{violation_target(store_id)}")


def _label(store: Store) -> str:
    return f"store {store.id} ({store.address})" if store.address else f"store {store.id}"


def _reachability(m: StoreMetrics | None) -> bool | None:
    """Did the store's status port answer? ``None`` when nothing was measured."""
    if m is None:
        return None
    if not m.reachable:
        return False
    measured = (m.capacity_bytes, m.region_count, m.slow_score, m.qps, m.write_stall)
    if m.error is not None and all(v is None for v in measured):
        return None
    return True


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _ids(ids: Iterable[int]) -> str:
    ordered = sorted(ids)
    shown = ", ".join(str(i) for i in ordered[:8])
    return shown + (f" and {len(ordered) - 8} more" if len(ordered) > 8 else "")


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
        if m.unreachable_reports_per_s is not None and _reachability(m) is True:
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


class InvariantChecker:
    """Keeps, per violation key, when its condition started; see the module docstring."""

    def __init__(self, settings: InvariantSettings | None = None) -> None:
        self.settings = settings or InvariantSettings()
        self._since: dict[str, datetime] = {}
        self._firing: dict[str, Violation] = {}
        self._pd_leader: str | None = None
        self._pd_leader_change: tuple[str, str, datetime] | None = None

    def reset(self) -> None:
        self._since.clear()
        self._firing.clear()
        self._pd_leader = None
        self._pd_leader_change = None

    def evaluate(self, snap: Snapshot) -> list[Violation]:
        found = _Findings()
        unmeasured = set(snap.extra.get("unmeasured", ()))
        s = self.settings
        cut = cut_off_stores(snap, s.unreachable_report_min_per_s, s.unreachable_reporters_min)
        for store in snap.stores:
            if store.state in (StoreState.TOMBSTONE, StoreState.REMOVED):
                continue
            self._store_checks(
                found, store, snap.store_metrics.get(store.id), cut.get(store.id), snap.taken_at
            )
        self._cluster_checks(found, snap, unmeasured)
        now = snap.taken_at
        active: set[str] = set()
        out: list[Violation] = []
        for finding in found.items:
            v = finding.violation
            key = v.key
            if key in active:
                continue
            active.add(key)
            since = self._since.setdefault(key, now)
            held = max(0.0, (now - since).total_seconds())
            if held >= self.settings.grace(finding.grace_s):
                v.details["since"] = since.isoformat()
                v.details["held_s"] = round(held, 3)
                out.append(v)
        for key in list(self._since):
            if key not in active and key not in found.unknown:
                del self._since[key]
        for key in sorted(found.unknown - active):
            previous = self._firing.get(key)
            if previous is not None:
                out.append(
                    dataclasses.replace(previous, details={**previous.details, "stale": True})
                )
        self._firing = {v.key: v for v in out}
        out.sort(key=lambda v: (-v.severity.rank, v.key))
        return out

    # Per store

    def _store_checks(
        self,
        found: _Findings,
        store: Store,
        m: StoreMetrics | None,
        cut: CutOff | None,
        now: datetime,
    ) -> None:
        s = self.settings
        sid = store.id
        reachable = _reachability(m)
        why = (m.error if m is not None else None) or ""
        if (
            store.state == StoreState.DOWN
            or reachable is False
            or (store.state == StoreState.DISCONNECTED and reachable is not True)
        ):
            if reachable is False:
                reason = (
                    f"its status port does not answer ({why})"
                    if why
                    else "its status port does not answer"
                )
                reason += f"; PD says {store.state.value}"
            else:
                reason = f"PD says {store.state.value}"
            found.add(
                "store_down",
                Severity.CRITICAL,
                f"{_label(store)} is down: {reason}",
                sid,
                0.0,
                pd_state=store.state.value,
                status_port_answers=reachable,
                last_heartbeat=store.last_heartbeat.isoformat() if store.last_heartbeat else None,
            )
            return
        self._partition(found, store, m, cut, now)
        self._disk(found, store, m)
        if store.slow_score or (m is not None and m.slow_score is not None):
            score = m.slow_score if m is not None and m.slow_score is not None else store.slow_score
            if score >= s.slow_score_threshold:
                found.add(
                    "slow_store",
                    Severity.CRITICAL,
                    f"{_label(store)} slow score is {score:g} (>= {s.slow_score_threshold:g})",
                    sid,
                    s.slow_store_grace_s,
                    slow_score=score,
                )
        if m is None or not m.reachable:
            for name in ("high_write_latency", "raft_log_lag", "write_stall", "critical_error"):
                found.unmeasured(name, sid)
            return
        if m.critical_errors_per_s is None:
            found.unmeasured("critical_error", sid)
        elif m.critical_errors_per_s > 0:
            found.add(
                "critical_error",
                Severity.CRITICAL,
                f"{_label(store)} reports critical errors ({m.critical_errors_per_s:.2f}/s)",
                sid,
                0.0,
                critical_errors_per_s=m.critical_errors_per_s,
            )
        self._latency(found, store, m)
        if m.raft_log_lag is None:
            found.unmeasured("raft_log_lag", sid)
        elif m.raft_log_lag > s.raft_log_lag_entries:
            found.add(
                "raft_log_lag",
                Severity.CRITICAL,
                f"{_label(store)} p99 raft log lag is {m.raft_log_lag:.0f} entries "
                f"(> {s.raft_log_lag_entries:g})",
                sid,
                s.raft_log_lag_grace_s,
                raft_log_lag=m.raft_log_lag,
            )
        self._busy(found, store, m)

    def _partition(
        self,
        found: _Findings,
        store: Store,
        m: StoreMetrics | None,
        cut: CutOff | None,
        now: datetime,
    ) -> None:
        disconnected = store.state == StoreState.DISCONNECTED
        if not disconnected and cut is None:
            if m is None or m.unreachable_reports_per_s is None:
                found.unmeasured("store_disconnected", store.id)
            return
        heartbeat_age = (
            round((now - store.last_heartbeat).total_seconds(), 1) if store.last_heartbeat else None
        )
        details: dict[str, Any] = {
            "pd_state": store.state.value,
            "last_heartbeat": store.last_heartbeat.isoformat() if store.last_heartbeat else None,
            "heartbeat_age_s": heartbeat_age,
        }
        if cut is None:
            message = (
                f"{_label(store)} lost its PD heartbeat (Disconnected) but its status port "
                "answers: likely a network partition between the store and PD"
            )
        else:
            pd_view = (
                "PD has lost its heartbeat (Disconnected)"
                if disconnected
                else f"PD still says {store.state.value}"
            )
            message = (
                f"{_label(store)} is cut off from its peers: stores {_ids(cut.reported_by)} "
                f"report it unreachable and it cannot reach stores {_ids(cut.reports)}, while "
                f"its status port answers ({pd_view}): likely a network partition"
            )
            details["reported_unreachable_by"] = {
                str(k): round(v, 2) for k, v in cut.reported_by.items()
            }
            details["reports_unreachable"] = {str(k): round(v, 2) for k, v in cut.reports.items()}
        found.add("store_disconnected", Severity.WARNING, message, store.id, 0.0, **details)

    def _disk(self, found: _Findings, store: Store, m: StoreMetrics | None) -> None:
        s = self.settings
        capacity, available = store.capacity_bytes, store.available_bytes
        if m is not None and m.capacity_bytes and m.available_bytes is not None:
            capacity, available = m.capacity_bytes, m.available_bytes
        if capacity <= 0:
            found.unmeasured("low_disk", store.id)
            return
        free = available / capacity
        used = 1.0 - free
        details = {"capacity_bytes": capacity, "available_bytes": available, "used_ratio": used}
        if free < s.disk_available_critical_ratio:
            found.add(
                "low_disk",
                Severity.CRITICAL,
                f"{_label(store)} has only {_pct(free)} of its disk available "
                f"(< {_pct(s.disk_available_critical_ratio)})",
                store.id,
                s.low_disk_grace_s,
                **details,
            )
        elif used > s.disk_used_warning_ratio:
            found.add(
                "low_disk",
                Severity.WARNING,
                f"{_label(store)} has used {_pct(used)} of its disk "
                f"(> {_pct(s.disk_used_warning_ratio)})",
                store.id,
                s.low_disk_grace_s,
                **details,
            )

    def _latency(self, found: _Findings, store: Store, m: StoreMetrics) -> None:
        s = self.settings
        p99 = m.p99_write_latency_ms
        if p99 is None:
            found.unmeasured("high_write_latency", store.id)
            return
        if p99 > s.high_write_latency_ms:
            severity = Severity.CRITICAL if p99 > s.critical_write_latency_ms else Severity.WARNING
            found.add(
                "high_write_latency",
                severity,
                f"{_label(store)} p99 write latency is {p99:.1f} ms (> {s.high_write_latency_ms:g} ms)",
                store.id,
                s.high_write_latency_grace_s,
                p99_write_latency_ms=p99,
            )

    def _busy(self, found: _Findings, store: Store, m: StoreMetrics) -> None:
        signals = {
            "write_stall": m.write_stall,
            "channel_full_per_s": m.channel_full_per_s,
            "scheduler_busy_per_s": m.scheduler_busy_per_s,
        }
        if all(v is None for v in signals.values()):
            found.unmeasured("write_stall", store.id)
            return
        firing = {k: v for k, v in signals.items() if v is not None and v > 0}
        if not firing:
            return
        parts = []
        if "write_stall" in firing:
            parts.append(f"RocksDB write stall (p99 {firing['write_stall']:g})")
        if "channel_full_per_s" in firing:
            parts.append(f"raftstore channel full {firing['channel_full_per_s']:.2f}/s")
        if "scheduler_busy_per_s" in firing:
            parts.append(f"scheduler too busy {firing['scheduler_busy_per_s']:.2f}/s")
        found.add(
            "write_stall",
            Severity.CRITICAL,
            f"{_label(store)} is busy: " + ", ".join(parts),
            store.id,
            self.settings.write_stall_grace_s,
            **firing,
        )

    # Cluster

    def _cluster_checks(self, found: _Findings, snap: Snapshot, unmeasured: set[str]) -> None:
        s = self.settings
        c = snap.cluster
        if REGION_CHECKS in unmeasured:
            found.unmeasured("under_replicated", None)
        elif c.miss_peer_regions > 0 or c.down_peer_regions > 0:
            severity = (
                Severity.CRITICAL
                if c.miss_peer_regions > s.miss_peer_critical_count
                else Severity.WARNING
            )
            found.add(
                "under_replicated",
                severity,
                f"{c.miss_peer_regions} regions miss a replica and {c.down_peer_regions} "
                "have a down peer",
                None,
                s.under_replicated_grace_s,
                miss_peer_regions=c.miss_peer_regions,
                down_peer_regions=c.down_peer_regions,
                pending_peer_regions=c.pending_peer_regions,
            )
        self._leader_balance(found, snap)
        if HOT_WRITE in unmeasured:
            found.unknown.update(
                f"hot_write_region:{violation_target(st.id)}" for st in snap.stores
            )
        else:
            self._hot_write(found, snap)
        if PD_HEALTH in unmeasured:
            found.unmeasured("pd_member_unhealthy", None)
        elif c.pd_members_total and c.pd_members_healthy < c.pd_members_total:
            bad = c.pd_members_total - c.pd_members_healthy
            names = snap.extra.get("pd_unhealthy_members", [])
            severity = (
                Severity.CRITICAL
                if c.pd_members_healthy * 2 <= c.pd_members_total
                else Severity.WARNING
            )
            found.add(
                "pd_member_unhealthy",
                severity,
                f"{bad} of {c.pd_members_total} PD members unhealthy"
                + (f": {', '.join(names)}" if names else ""),
                None,
                s.pd_member_grace_s,
                unhealthy=names,
                healthy=c.pd_members_healthy,
                total=c.pd_members_total,
            )
        self._pd_leader_check(found, snap, unmeasured)

    def _leader_balance(self, found: _Findings, snap: Snapshot) -> None:
        s = self.settings
        up = [
            st
            for st in snap.stores
            if st.state == StoreState.UP
            and not st.is_tiflash
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
            found.add(
                "leader_imbalance",
                Severity.WARNING,
                f"leaders are unbalanced: store {most} has {counts[most]}, store {least} has "
                f"{counts[least]} (mean {mean:.1f})",
                None,
                s.leader_imbalance_grace_s,
                leader_counts={str(k): v for k, v in counts.items()},
            )

    def _hot_write(self, found: _Findings, snap: Snapshot) -> None:
        s = self.settings
        live = [st for st in snap.stores if st.state == StoreState.UP and not st.is_tiflash]
        if len(live) < 2 or not snap.hot_write_regions:
            return
        by_store: dict[int, float] = {}
        regions: dict[int, list[int]] = {}
        for hot in snap.hot_write_regions:
            if not hot.is_leader:
                continue
            by_store[hot.store_id] = by_store.get(hot.store_id, 0.0) + hot.flow_bytes
            regions.setdefault(hot.store_id, []).append(hot.region_id)
        total = sum(by_store.values())
        if total <= 0:
            return
        top = max(by_store, key=lambda k: by_store[k])
        share = by_store[top] / total
        if share >= s.hot_write_share and by_store[top] >= s.hot_write_min_bytes_per_s:
            found.add(
                "hot_write_region",
                Severity.WARNING,
                f"store {top} leads {_pct(share)} of the hot write flow "
                f"({by_store[top] / MiB:.1f} MiB/s over {len(regions[top])} hot regions)",
                top,
                s.hot_write_grace_s,
                share=share,
                flow_bytes_per_s=by_store[top],
                region_ids=regions[top][:10],
            )

    def _pd_leader_check(self, found: _Findings, snap: Snapshot, unmeasured: set[str]) -> None:
        leader = snap.cluster.pd_leader
        now = snap.taken_at
        if PD_MEMBERS not in unmeasured and leader:
            if self._pd_leader is not None and leader != self._pd_leader:
                self._pd_leader_change = (self._pd_leader, leader, now)
            self._pd_leader = leader
        change = self._pd_leader_change
        if change is None:
            return
        old, new, at = change
        if (now - at).total_seconds() < self.settings.pd_leader_changed_hold_s:
            found.add(
                "pd_leader_changed",
                Severity.WARNING,
                f"PD leader changed from {old} to {new}",
                None,
                0.0,
                previous=old,
                current=new,
                changed_at=at.isoformat(),
            )
        else:
            self._pd_leader_change = None
