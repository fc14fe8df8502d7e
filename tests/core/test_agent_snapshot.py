"""The agent diagnoses the moment its ticket opened: the stored snapshot, with an injected history."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from operator_tui.core.agent import AgentRunner
from operator_tui.core.diagnosis.base import DiagnosisOutcome, TextSink
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.schema import Diagnosis
from operator_tui.core.diagnosis.stored import StoredSnapshotError, snapshot_from_dict
from operator_tui.core.events import EventBus
from operator_tui.core.monitor import UNREACHABLE, snapshot_dict
from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import (
    Health,
    LogEvent,
    RecordTypes,
    Severity,
    Snapshot,
    StoreMetrics,
    Violation,
)
from operator_tui.testing.fake_subject import FakeSubject
from operator_tui.testing.samples import diagnosis_input


class Recorder:
    """A diagnoser that keeps the context it was given."""

    backend = "recorder"
    model: str | None = None

    def __init__(self) -> None:
        self.contexts: list[DiagnosisContext] = []

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        self.contexts.append(context)
        await on_text("## Observation\n")
        return DiagnosisOutcome(Diagnosis.model_validate(diagnosis_input()), "## Observation\n")


class RecordingHistory:
    """A history source that notes what the agent asked of it."""

    def __init__(self, series: list[tuple[datetime, StoreMetrics]], events: list[LogEvent]):
        self.series = series
        self.events = events
        self.asked: list[tuple[str, int | None]] = []

    def metric_history(self, store_id: int) -> Sequence[tuple[datetime, StoreMetrics]]:
        self.asked.append(("metrics", store_id))
        return [(t, m) for t, m in self.series if m.store_id == store_id]

    def recent_log_events(self, store_id: int | None = None, limit: int = 200) -> list[LogEvent]:
        self.asked.append(("log_events", store_id))
        return self.events[-limit:]


@pytest.fixture
async def tickets(tmp_path: Path) -> AsyncIterator[TicketStore]:
    s = await TicketStore.open(tmp_path / "t.db", subject="fake")
    yield s
    await s.aclose()


async def _open_store_down(fake: FakeSubject, tickets: TicketStore) -> tuple[int, Snapshot]:
    for _ in range(3):
        await fake.observe()
    fake.kill(2)
    snap = await fake.observe()
    violations = [v for v in fake.evaluate(snap) if v.invariant == "store_down"]
    [(change, ticket)] = await tickets.upsert_violations(
        violations, snapshot_dict(snap, {2}), snap.taken_at
    )
    assert change == "opened"
    return ticket.id, snap


async def test_diagnosis_describes_the_stored_snapshot_not_the_latest(
    fake: FakeSubject, tickets: TicketStore
) -> None:
    tid, opened = await _open_store_down(fake, tickets)
    fake.start(2)
    for _ in range(3):
        latest = await fake.observe()
    recorder = Recorder()
    agent = AgentRunner(
        fake, tickets, EventBus(), recorder, snapshot=lambda: latest, history=fake.history
    )
    await agent.diagnose_ticket(tid)
    [ctx] = recorder.contexts
    assert ctx.observed_at == opened.taken_at != latest.taken_at
    assert ctx.store_metrics[2].reachable is False
    assert ctx.store(2) is not None and ctx.store(2).health.level is Health.UNREACHABLE
    # The history goes on after the ticket opened; the diagnosis stops at its snapshot.
    assert fake.history.metric_history(2)[-1][0] > opened.taken_at
    assert max(t for t, _ in ctx.history[2]) == opened.taken_at


async def test_history_comes_from_the_injected_source(
    fake: FakeSubject, tickets: TicketStore
) -> None:
    tid, opened = await _open_store_down(fake, tickets)
    series = [(t, m) for sid in (1, 2, 3) for t, m in fake.history.metric_history(sid)]
    event = LogEvent(opened.taken_at, "INFO", "x", "elected", kind="became_leader", store_id=1)
    history = RecordingHistory(series, [event])
    recorder = Recorder()
    agent = AgentRunner(fake, tickets, EventBus(), recorder, snapshot=lambda: None, history=history)
    await agent.diagnose_ticket(tid)
    [ctx] = recorder.contexts
    assert ctx.log_events == [event]
    assert {("metrics", 1), ("metrics", 2), ("metrics", 3), ("log_events", None)} <= set(
        history.asked
    )
    assert ctx.history[2] and ctx.history[2][-1][1].reachable is False


async def test_a_ticket_without_an_observation_uses_the_latest(
    fake: FakeSubject, tickets: TicketStore
) -> None:
    latest = await fake.observe()
    unanswered = Violation(UNREACHABLE, Severity.CRITICAL, "nothing answered")
    [(_, ticket)] = await tickets.upsert_violations(
        [unanswered],
        {"taken_at": latest.taken_at.isoformat(), "error": "nothing answered"},
        latest.taken_at,
    )
    recorder = Recorder()
    agent = AgentRunner(fake, tickets, EventBus(), recorder, snapshot=lambda: latest)
    await agent.diagnose_ticket(ticket.id)
    [ctx] = recorder.contexts
    assert ctx.observed_at == latest.taken_at and len(ctx.stores) == 3


async def test_stored_snapshot_reads_back(fake: FakeSubject) -> None:
    await fake.observe()
    fake.kill(3)
    fake.hot_region(1, region_id=9)
    fake.log(1, "became_leader", "elected")
    snap = await fake.observe()
    stored = snapshot_dict(snap)
    back = snapshot_from_dict(stored, fake.describe().records)
    assert back is not None and back.taken_at == snap.taken_at
    assert back.stores == snap.stores
    assert back.store_metrics == snap.store_metrics
    assert back.cluster == snap.cluster
    assert back.hot_write_regions == sorted(snap.hot_write_regions, key=lambda h: -h.flow_bytes)
    assert [(e.kind, e.store_id, e.time) for e in back.log_events] == [
        (e.kind, e.store_id, e.time) for e in snap.log_events
    ]
    plain = snapshot_from_dict(stored)
    assert plain is not None and [s.id for s in plain.stores] == [s.id for s in snap.stores]
    assert not hasattr(plain.stores[0], "leader_count")
    assert snapshot_from_dict({}) is None
    with pytest.raises(StoredSnapshotError):
        snapshot_from_dict({"taken_at": "yesterday", "stores": []})


async def test_a_damaged_stored_snapshot_falls_back_to_the_latest(
    fake: FakeSubject, tickets: TicketStore
) -> None:
    latest = await fake.observe()
    fake.kill(1)
    snap = await fake.observe()
    violations = [v for v in fake.evaluate(snap) if v.invariant == "store_down"]
    [(_, ticket)] = await tickets.upsert_violations(
        violations, {"taken_at": "soon", "stores": [{"id": "x"}]}, snap.taken_at
    )
    recorder = Recorder()
    agent = AgentRunner(fake, tickets, EventBus(), recorder, snapshot=lambda: latest)
    await agent.diagnose_ticket(ticket.id)
    assert recorder.contexts[0].observed_at == latest.taken_at


def test_a_snapshot_stored_before_figures_reads_its_flat_figures_back() -> None:
    old = {
        "taken_at": "2026-01-01T00:00:00+00:00",
        "stores": [],
        "cluster": {"stores_up": 3, "qps": 5.0, "pd_leader": "pd1", "region_count": 9},
    }
    back = snapshot_from_dict(old)
    assert back is not None and (back.cluster.stores_up, back.cluster.qps) == (3, 5.0)
    assert back.cluster.figures == {"pd_leader": "pd1", "region_count": 9}


def test_a_copy_stored_under_older_field_names_reads_back(fake: FakeSubject) -> None:
    """The subject names the fields an older copy used; they read back as today's."""
    old = {
        "taken_at": "2026-01-01T00:00:00+00:00",
        "stores": [],
        "hot_write_regions": [
            {"region_id": 9, "store_id": 1, "is_leader": True, "flow_bytes": 5.0, "flow_keys": 1.0}
        ],
    }
    back = snapshot_from_dict(old, fake.describe().records)
    assert back is not None
    [hot] = back.hot_write_regions
    assert (hot.range_id, hot.store_id, hot.primary) == (9, 1, True)


@dataclass(slots=True)
class _KeyedMetrics(StoreMetrics):
    by_peer: dict[int, float] | None = None
    by_reason: dict[str, float] | None = None
    untyped: dict | None = None  # type: ignore[type-arg]


def test_figures_by_key_read_back_with_the_key_type_their_field_declares() -> None:
    """JSON turns every key into text: a store id per peer comes back an int, a reason a text."""
    m = _KeyedMetrics(
        store_id=1,
        by_peer={3: 2.5},
        by_reason={"level0_file_limit_slowdown": 0.1, "7": 1.0},
        untyped={4: 1.0},
    )
    snap = Snapshot(taken_at=datetime(2026, 3, 1, 9, 0), stores=[], store_metrics={1: m})
    stored = json.loads(json.dumps(snapshot_dict(snap)))
    back = snapshot_from_dict(stored, RecordTypes(metrics=_KeyedMetrics))
    assert back is not None and back.store_metrics == {1: m}
