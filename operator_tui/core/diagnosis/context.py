"""What a diagnoser gets to see about a ticket, gathered once and shared by every backend.

The ticket, the topology, per-store metric history around the event, the
metrics that moved with it (on the ticket's store and on the others), recent
parsed log events, the cluster-wide figures, other open tickets, and what the
subject declares (actions, root-cause classes, the metrics worth comparing, its
notes for the model). Baselines come from history before the ticket opened;
with too little history, from the other stores at the same moment.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from operator_tui.core.diagnosis.schema import UNKNOWN_CAUSE
from operator_tui.core.history import HistorySource
from operator_tui.core.subject import Action, Measure, Subject
from operator_tui.core.ticket import Ticket
from operator_tui.core.tools import ToolBox
from operator_tui.core.types import (
    ClusterMetrics,
    HotRegion,
    LogEvent,
    Snapshot,
    Store,
    StoreMetrics,
)

RELATIVE_MOVE = 0.3
HISTORY_WINDOW_S = 300.0
MAX_SHIFTS = 16
MAX_FOCUS_STORES = 30


@dataclass(slots=True)
class MetricShift:
    """A metric that moved around the event: its value now against its baseline."""

    metric: str
    store_id: int
    value: float
    baseline: float

    @property
    def delta(self) -> float:
        return self.value - self.baseline

    @property
    def relative(self) -> float:
        return abs(self.delta) / abs(self.baseline) if self.baseline else float("inf")


@dataclass(slots=True)
class DiagnosisContext:
    ticket: Ticket
    subject: str
    stores: list[Store] = field(default_factory=list)
    store_metrics: dict[int, StoreMetrics] = field(default_factory=dict)
    cluster: ClusterMetrics = field(default_factory=ClusterMetrics)
    hot_regions: list[HotRegion] = field(default_factory=list)
    history: dict[int, list[tuple[datetime, StoreMetrics]]] = field(default_factory=dict)
    correlated: list[MetricShift] = field(default_factory=list)
    log_events: list[LogEvent] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    other_tickets: list[Ticket] = field(default_factory=list)
    related: list[Ticket] = field(default_factory=list)
    """The other tickets of ``ticket``'s incident (same cause, by the subject's grouping rules):
    their symptoms are evidence for this diagnosis, not faults of their own."""
    observed_at: datetime | None = None
    errors: list[str] = field(default_factory=list)
    root_cause_classes: tuple[str, ...] = (UNKNOWN_CAUSE,)
    compared: dict[str, float] = field(default_factory=dict)
    guide: str = ""
    measures: tuple[Measure, ...] = ()
    """The subject's words and units for its figures, for evidence written for people."""
    tools: ToolBox | None = None
    """The subject's read-only tools for this attempt (set by the agent), and its trace."""
    checkpoint: Any = None
    """Where a diagnoser's interrupted attempt got to, kept for the next attempt to resume."""

    def store(self, store_id: int | None) -> Store | None:
        return next((s for s in self.stores if s.id == store_id), None)

    def metrics(self, store_id: int | None) -> StoreMetrics | None:
        return None if store_id is None else self.store_metrics.get(store_id)

    @property
    def action_names(self) -> set[str]:
        return {a.name for a in self.actions}

    def shifts(self, store_id: int | None = None, metric: str | None = None) -> list[MetricShift]:
        return [
            s
            for s in self.correlated
            if (store_id is None or s.store_id == store_id)
            and (metric is None or s.metric == metric)
        ]


def metric_value(m: StoreMetrics, name: str) -> float | None:
    if name == "used_ratio":
        if m.capacity_bytes and m.available_bytes is not None:
            return 1.0 - m.available_bytes / m.capacity_bytes
        return None
    value = getattr(m, name, None)
    return None if value is None else float(value)


def _significant(floor: float, value: float, baseline: float) -> bool:
    delta = abs(value - baseline)
    if delta < floor:
        return False
    return baseline == 0 or delta / abs(baseline) >= RELATIVE_MOVE


def correlate(
    history: dict[int, list[tuple[datetime, StoreMetrics]]],
    current: dict[int, StoreMetrics],
    since: datetime,
    target_store: int | None,
    floors: Mapping[str, float],
) -> list[MetricShift]:
    """Metrics named in ``floors`` that moved since ``since`` by at least their floor,
    the ticket's store first, biggest moves next."""
    shifts: list[MetricShift] = []
    for store_id, now in current.items():
        before = [m for t, m in history.get(store_id, []) if t < since]
        if before and all(m.reachable for m in before[-3:]) and not now.reachable:
            shifts.append(MetricShift("reachable", store_id, 0.0, 1.0))
        if not now.reachable:
            continue
        for name, floor in floors.items():
            value = metric_value(now, name)
            if value is None:
                continue
            samples = [
                x for x in (metric_value(m, name) for m in before if m.reachable) if x is not None
            ]
            if len(samples) < 2:
                samples = [
                    x
                    for sid, m in current.items()
                    if sid != store_id and m.reachable
                    for x in [metric_value(m, name)]
                    if x is not None
                ]
            if not samples:
                continue
            baseline = statistics.median(samples)
            if _significant(floor, value, baseline):
                shifts.append(MetricShift(name, store_id, round(value, 4), round(baseline, 4)))
    shifts.sort(
        key=lambda s: (s.store_id != target_store, s.metric != "reachable", -min(s.relative, 1e9))
    )
    return shifts[:MAX_SHIFTS]


def pick_log_events(events: list[LogEvent], limit: int) -> list[LogEvent]:
    """The latest events, in time order; when there are too many, uncategorised ones go first."""
    if len(events) <= limit:
        return list(events)
    known = [e for e in events if e.kind != "other"][-limit:]
    other = [e for e in events if e.kind == "other"]
    room = limit - len(known)
    chosen = known + (other[-room:] if room > 0 else [])
    return sorted(chosen, key=lambda e: e.time)


def build_context(
    ticket: Ticket,
    subject: Subject,
    snapshot: Snapshot | None,
    *,
    history: HistorySource | None = None,
    other_tickets: list[Ticket] | None = None,
    related: list[Ticket] | None = None,
    window_s: float = HISTORY_WINDOW_S,
    log_limit: int = 60,
) -> DiagnosisContext:
    """Gather the context from in-memory state only (no network): cheap enough for every ticket.

    ``snapshot`` is the moment the diagnosis describes; history after it is left out.
    ``history`` is the monitor's (metric points, recent log events); without it the context
    has the snapshot's own log events and no trend.
    """
    config = subject.describe()
    ctx = DiagnosisContext(
        ticket=ticket,
        subject=subject.name,
        root_cause_classes=config.root_cause_classes,
        compared={m.name: m.floor for m in config.compared_metrics},
        guide=config.diagnosis_guide,
        measures=config.measures,
    )
    ctx.actions = list(config.actions)
    ctx.related = [t for t in related or [] if t.id != ticket.id]
    grouped = {t.id for t in ctx.related} | {ticket.id}
    ctx.other_tickets = [t for t in other_tickets or [] if t.id not in grouped]
    if snapshot is None:
        return ctx
    ctx.observed_at = snapshot.taken_at
    ctx.cluster = snapshot.cluster
    ctx.hot_regions = sorted(snapshot.hot_write_regions, key=lambda h: -h.flow_bytes)[:20]
    focus = snapshot.pick_stores(
        MAX_FOCUS_STORES,
        first=[ticket.store_id] if ticket.store_id is not None else [],
        then=[h.store_id for h in ctx.hot_regions],
    )
    ctx.stores = [s for s in snapshot.stores if s.id in focus]
    ctx.store_metrics = {k: m for k, m in snapshot.store_metrics.items() if k in focus}
    ctx.errors = list(snapshot.errors)
    since = ticket.first_seen - timedelta(seconds=window_s)
    for store_id in sorted(focus) if history is not None else ():
        try:
            series = history.metric_history(store_id)
        except Exception as exc:  # a history must never sink a diagnosis
            ctx.errors.append(f"history of store {store_id}: {exc}")
            continue
        ctx.history[store_id] = [(t, m) for t, m in series if since <= t <= snapshot.taken_at][
            -120:
        ]
    ctx.correlated = correlate(
        ctx.history, ctx.store_metrics, ticket.first_seen, ticket.store_id, ctx.compared
    )
    events = list(snapshot.log_events)
    if history is not None:
        try:
            events = history.recent_log_events(None, limit=log_limit * 4)
        except Exception as exc:
            ctx.errors.append(f"log events: {exc}")
    ctx.log_events = pick_log_events(events, log_limit)
    return ctx
