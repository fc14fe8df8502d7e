"""A small in-memory runtime implementing the ``Commands`` contract, plus app fixtures.

The fake opens a ``store_down`` ticket when a store is not Up at a tick and
resolves it when the store is back, and diagnoses on request, publishing the
same bus events as the core does. Its clock is manual, so snapshots are exact.
"""

from __future__ import annotations

import asyncio
import copy
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from operator_tikv.records import (
    METRIC_FIGURES,
    RECORDS,
    STORE_FIGURES,
    TikvHotRegion,
    TikvLogEvent,
    TikvStore,
    TikvStoreMetrics,
)
from operator_tikv.sim.fault_menu import FAULT_MENU
from textual.widgets import Input

from operator_tui.config import load_settings
from operator_tui.core.deploy import Endpoint
from operator_tui.core.events import EventBus
from operator_tui.core.faults import ActiveFault, FaultKind
from operator_tui.core.incident import Incident, IncidentEvent, IncidentStatus
from operator_tui.core.raw import RawAnswer
from operator_tui.core.subject import SubjectConfig, SubjectError
from operator_tui.core.ticket import DiagnosisRecord, Ticket, TicketEvent, TicketStatus
from operator_tui.core.types import (
    ActionResult,
    ClusterMetrics,
    Health,
    Severity,
    Snapshot,
    StoreHealth,
)
from operator_tui.testing.fake_subject import CLUSTER_FIGURES
from operator_tui.tui.app import OperatorApp

T0 = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)

DIAGNOSIS_TEXT = (
    "### What I see\n\n"
    "TikvStore 2 stopped sending heartbeats at 12:00:04; PD marks it **Disconnected**.\n\n"
    "- leaders moved to stores 1 and 3 (12 elections in the logs)\n"
    "- cluster p99 rose from 3.1 ms to 9.8 ms\n"
)

DIAGNOSIS_RESULT: dict[str, Any] = {
    "observation": "TikvStore 2 is Disconnected; its leaders were re-elected on stores 1 and 3.",
    "root_cause": "The TiKV process of store 2 stopped (killed), so PD lost its heartbeats.",
    "root_cause_class": "store_down",
    "target": 2,
    "correlated_metrics": [
        {"metric": "leader_count", "store_id": 1, "value": 51.0, "baseline": 34.0},
        {"metric": "p99_latency_ms", "store_id": None, "value": 9.8, "baseline": 3.1},
    ],
    "options_considered": [
        {"option": "transfer leaders away from store 2", "rejected_because": "it has none left"},
        {
            "option": "drain store 2",
            "rejected_because": "a restart is cheaper within max-store-down-time",
        },
    ],
    "recommended_actions": [
        {
            "action": "set_replica_schedule_limit",
            "args": {"n": 8},
            "rationale": "speed replica repair if it stays down",
            "risk": "low",
        }
    ],
    "confidence": 0.9,
    "severity": "critical",
}


LEVELS = {
    "Up": StoreHealth(Health.SERVING, "Up"),
    "Disconnected": StoreHealth(Health.UNREACHABLE, "Disconnected"),
    "Down": StoreHealth(Health.DOWN, "Down"),
}


class ManualClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Calls:
    killed: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)
    rediagnosed: list[int] = field(default_factory=list)
    approved: list[tuple[int, int]] = field(default_factory=list)
    faults: list[ActiveFault] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    raw: list[tuple[str, int]] = field(default_factory=list)
    ticks_requested: int = 0


class FakeRuntime:
    def __init__(
        self,
        stores: int = 3,
        *,
        clock: ManualClock | None = None,
        mode: str = "observe",
        demo: bool = True,
    ) -> None:
        self.settings = load_settings(actions_mode=mode, interval_s=2.0)
        self.clock = clock or ManualClock()
        self.bus = EventBus()
        self.config = SubjectConfig(
            "tikv",
            cluster_figures=CLUSTER_FIGURES,
            store_figures=STORE_FIGURES,
            metric_figures=METRIC_FIGURES,
            records=RECORDS,
        )
        self.history: dict[int, list[tuple[datetime, TikvStoreMetrics]]] = defaultdict(list)
        self.logs: list[TikvLogEvent] = []
        self.extra: dict[str, Any] = {}
        self.lab: Any = None
        """What ``deployment`` hands the deploy menu; None: no lab here."""
        self.demo = object() if demo else None
        self.calls = Calls()
        self._paused = False
        self._interval = 2.0
        self._snapshot: Snapshot | None = None
        self.stores = [
            TikvStore(
                id=i,
                address=f"127.0.0.1:2016{i}",
                state="Up",
                capacity_bytes=100 * 2**30,
                available_bytes=(70 - i) * 2**30,
                used_bytes=(30 + i) * 2**30,
                leader_count=30 + i,
                region_count=100,
                version="8.5.1",
            )
            for i in range(1, stores + 1)
        ]
        self.tickets: dict[int, Ticket] = {}
        self.diagnoses: dict[int, DiagnosisRecord] = {}
        self.events: dict[int, list[TicketEvent]] = defaultdict(list)
        self.ticks = 0
        self.faults: dict[str, ActiveFault] = {}
        self.fault_error: str | None = None
        """When set, ``inject_fault`` fails with it (as a simulator refusing the fault)."""
        self.raw_bodies: dict[tuple[str, int], str] = {}

    # Commands: monitor control
    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def interval_s(self) -> float:
        return self._interval

    @property
    def latest_snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def actions_mode(self) -> str:
        return self.settings.actions.mode

    def pause(self) -> None:
        self._paused = True
        self.bus.publish("monitor.paused")

    def resume(self) -> None:
        self._paused = False
        self.bus.publish("monitor.resumed")

    def tick_now(self) -> None:
        self.calls.ticks_requested += 1

    def set_interval(self, seconds: float) -> float:
        self._interval = max(1.0, seconds)
        return self._interval

    # Commands: chaos and agent
    async def kill_store(self, store_id: int) -> str:
        self.calls.killed.append(store_id)
        self._store(store_id).state = "Disconnected"
        message = f"store {store_id} killed"
        self.bus.publish("chaos", action="kill", store_id=store_id, message=message)
        return message

    async def start_store(self, store_id: int) -> str:
        self.calls.started.append(store_id)
        self._store(store_id).state = "Up"
        message = f"store {store_id} started"
        self.bus.publish("chaos", action="start", store_id=store_id, message=message)
        return message

    async def rediagnose(self, ticket_id: int) -> None:
        self.calls.rediagnosed.append(ticket_id)

    async def approve(self, ticket_id: int, action_index: int = 0) -> ActionResult:
        """Run the chosen action of the latest diagnosis, as the core does: by its index."""
        self.calls.approved.append((ticket_id, action_index))
        record = self.diagnoses[ticket_id]
        action = (record.result or {})["recommended_actions"][action_index]
        args = dict(action.get("args") or {})
        done = ", ".join(f"{k}={v}" for k, v in args.items())
        return ActionResult(
            action["action"], args, ok=True, message=f"{action['action']} done: {done}"
        )

    # Commands: reads
    def metric_history(self, store_id: int) -> list[tuple[datetime, TikvStoreMetrics]]:
        return self.history.get(store_id, [])

    def metric_tail(self, store_id: int, n: int) -> list[tuple[datetime, TikvStoreMetrics]]:
        return self.history.get(store_id, [])[-n:] if n > 0 else []

    def metric_since(
        self, store_id: int, since: datetime
    ) -> list[tuple[datetime, TikvStoreMetrics]]:
        return [(t, m) for t, m in self.history.get(store_id, []) if t >= since]

    def recent_log_events(
        self, store_id: int | None = None, limit: int = 200
    ) -> list[TikvLogEvent]:
        chosen = [e for e in self.logs if store_id is None or e.store_id == store_id]
        return chosen[-limit:]

    async def list_tickets(
        self, *, include_resolved: bool = True, limit: int = 500
    ) -> list[Ticket]:
        chosen = [
            t
            for t in self.tickets.values()
            if include_resolved or t.status != TicketStatus.RESOLVED
        ]
        return sorted(chosen, key=lambda t: -t.id)[:limit]

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        return self.tickets.get(ticket_id)

    async def latest_diagnosis(self, ticket_id: int) -> DiagnosisRecord | None:
        return self.diagnoses.get(ticket_id)

    async def ticket_events(self, ticket_id: int) -> list[TicketEvent]:
        return list(self.events[ticket_id])

    def _incident(self, t: Ticket) -> Incident:
        """The fake groups nothing: each ticket is its own incident, with the same id."""
        return Incident(
            id=t.id,
            subject=t.subject,
            target=t.target,
            store_id=t.store_id,
            cause=t.invariant,
            title=t.message,
            severity=t.severity,
            status=IncidentStatus(t.status.value),
            opened_at=t.first_seen,
            updated_at=t.last_seen,
            lead_ticket_id=t.id,
            ticket_ids=[t.id],
            open_tickets=0 if t.status == TicketStatus.RESOLVED else 1,
            resolved_at=t.resolved_at,
        )

    async def list_incidents(
        self, *, include_resolved: bool = True, limit: int = 500
    ) -> list[Incident]:
        tickets = await self.list_tickets(include_resolved=include_resolved, limit=limit)
        return [self._incident(t) for t in tickets]

    async def get_incident(self, incident_id: int) -> Incident | None:
        t = self.tickets.get(incident_id)
        return None if t is None else self._incident(t)

    async def incident_tickets(self, incident_id: int) -> list[Ticket]:
        t = self.tickets.get(incident_id)
        return [] if t is None else [t]

    async def incident_events(self, incident_id: int) -> list[IncidentEvent]:
        t = self.tickets.get(incident_id)
        if t is None:
            return []
        return [IncidentEvent(id=t.id, incident_id=t.id, ts=t.first_seen, kind="opened")]

    # Commands: faults, endpoints, raw records (a demo's simulator declares the TiKV menu)
    def fault_kinds(self) -> tuple[FaultKind, ...]:
        return FAULT_MENU if self.demo is not None else ()

    async def inject_fault(
        self, kind: str, store_id: int | None, params: Mapping[str, Any]
    ) -> ActiveFault:
        if self.fault_error is not None:
            raise SubjectError(self.fault_error)
        if not self.fault_kinds():
            raise SubjectError("no fault injection here")
        fault = ActiveFault(f"f{len(self.calls.faults) + 1}", kind, store_id, dict(params))
        self.calls.faults.append(fault)
        self.faults[fault.id] = fault
        self.bus.publish(
            "chaos", action="fault", store_id=store_id, message=f"fault {fault.describe()} injected"
        )
        return fault

    async def active_faults(self) -> list[ActiveFault]:
        return list(self.faults.values())

    async def clear_fault(self, fault_id: str) -> ActiveFault:
        fault = self.faults.pop(fault_id, None)
        if fault is None:
            raise SubjectError(f"fault {fault_id} not found")
        self.calls.cleared.append(fault_id)
        self.bus.publish("chaos", action="clear", message=f"fault {fault.describe()} cleared")
        return fault

    async def endpoints(self) -> list[Endpoint]:
        if self.demo is None:
            return []
        return [
            Endpoint("PD API", "http://127.0.0.1:2379/pd/api/v1"),
            Endpoint("PD metrics", "http://127.0.0.1:2379/metrics"),
            Endpoint("simulator control", "http://127.0.0.1:2379/sim/api/v1"),
        ]

    def raw_kinds(self) -> tuple[str, ...]:
        return ("store", "region")

    async def raw_record(self, kind: str, key: int) -> RawAnswer:
        self.calls.raw.append((kind, key))
        body = self.raw_bodies.get((kind, key))
        if body is None:
            raise SubjectError(f"PD has no {kind} {key}")
        return RawAnswer(f"GET http://127.0.0.1:2379/pd/api/v1/{kind}/{key}", 200, body)

    # Runtime extras
    def deployment(self, http: Any) -> Any:
        if self.lab is None:
            raise SubjectError("no lab here")
        return self.lab

    async def run_monitor(self) -> None:
        for _ in range(100_000):
            if not self._paused:
                await self.tick_once()
            await asyncio.sleep(self._interval)

    async def run_agent(self) -> None:
        await asyncio.Event().wait()

    async def tick_once(self) -> Snapshot:
        """Observe the fake stores, open or resolve ``store_down`` tickets, publish ``tick``."""
        self.ticks += 1
        now = self.clock()
        metrics: dict[int, TikvStoreMetrics] = {}
        for s in self.stores:
            up = s.state == "Up"
            m = TikvStoreMetrics(
                store_id=s.id,
                reachable=up,
                qps=(1000.0 + 150 * s.id + 40 * (self.ticks % 5)) if up else None,
                p99_latency_ms=(3.0 + 0.2 * s.id + 0.1 * (self.ticks % 3)) if up else None,
                cpu_ratio=(0.2 + 0.05 * s.id) if up else None,
            )
            metrics[s.id] = m
            self.history[s.id].append((now, m))
        up = [s for s in self.stores if s.state == "Up"]
        hot = [
            TikvHotRegion(
                range_id=1000 + i,
                store_id=self.stores[i % len(self.stores)].id,
                primary=True,
                flow_bytes=float(4_000_000 // (i + 1)),
                flow_keys=float(4000 // (i + 1)),
            )
            for i in range(6)
        ]
        self._snapshot = Snapshot(
            taken_at=now,
            stores=[replace(s, health=LEVELS[s.state]) for s in self.stores],
            hot_write_regions=hot,
            store_metrics=metrics,
            cluster=ClusterMetrics(
                stores_up=len(up),
                stores_total=len(self.stores),
                qps=sum(m.qps or 0 for m in metrics.values()),
                p99_latency_ms=max((m.p99_latency_ms or 0) for m in metrics.values()),
                figures={"region_count": 100, "pd_leader": "pd-0"},
            ),
            source="direct",
            extra=dict(self.extra),
        )
        for s in self.stores:
            key = f"store_down:store-{s.id}"
            open_ticket = next(
                (
                    t
                    for t in self.tickets.values()
                    if t.violation_key == key and t.status != TicketStatus.RESOLVED
                ),
                None,
            )
            if s.state != "Up" and open_ticket is None:
                t = Ticket(
                    id=len(self.tickets) + 1,
                    violation_key=key,
                    invariant="store_down",
                    subject="tikv",
                    target=f"store-{s.id}",
                    store_id=s.id,
                    severity=Severity.CRITICAL,
                    status=TicketStatus.OPEN,
                    message=f"store {s.id} is {s.state}",
                    first_seen=now,
                    last_seen=now,
                )
                self.tickets[t.id] = t
                self.bus.publish("ticket.opened", ticket=t.summary())
            elif s.state == "Up" and open_ticket is not None:
                open_ticket.status = TicketStatus.RESOLVED
                open_ticket.resolved_at = now
                self.bus.publish("ticket.resolved", ticket=open_ticket.summary())
        self.bus.publish("tick", stores_up=len(up), stores_total=len(self.stores))
        return self._snapshot

    async def diagnose(self, ticket_id: int, chunks: list[str], *, finish: bool = True) -> None:
        """Stream a diagnosis the way the agent does: started, chunks, then finished with the result."""
        t = self.tickets[ticket_id]
        t.status = TicketStatus.DIAGNOSING
        self.bus.publish("diagnosis.started", ticket_id=ticket_id)
        self.bus.publish("ticket.updated", ticket=t.summary())
        for chunk in chunks:
            self.bus.publish("diagnosis.chunk", ticket_id=ticket_id, text=chunk)
            await asyncio.sleep(0)
        if finish:
            self.finish(ticket_id, "".join(chunks))

    def finish(self, ticket_id: int, text: str, result: dict[str, Any] | None = None) -> None:
        t = self.tickets[ticket_id]
        t.status = TicketStatus.DIAGNOSED
        now = self.clock()
        self.diagnoses[ticket_id] = DiagnosisRecord(
            id=ticket_id,
            ticket_id=ticket_id,
            backend="offline",
            model=None,
            text=text,
            result=result or DIAGNOSIS_RESULT,
            input_tokens=None,
            output_tokens=None,
            started_at=now,
            finished_at=now,
        )
        self.bus.publish(
            "diagnosis.finished", ticket_id=ticket_id, diagnosis=result or DIAGNOSIS_RESULT
        )
        self.bus.publish("ticket.updated", ticket=t.summary())

    def _store(self, store_id: int) -> TikvStore:
        return next(s for s in self.stores if s.id == store_id)


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Input, "_toggle_cursor", lambda _self: None)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def runtime(clock: ManualClock) -> FakeRuntime:
    return FakeRuntime(clock=clock)


def make_app(runtime: FakeRuntime, **kwargs: Any) -> OperatorApp:
    """An app over the fake: no monitor worker, frozen clock, still spinners."""
    kwargs.setdefault("start_monitor", False)
    kwargs.setdefault("start_agent", False)
    kwargs.setdefault("clock", runtime.clock)
    kwargs.setdefault("animate", False)
    return OperatorApp(runtime=runtime, **kwargs)


@pytest.fixture
def app_factory():
    return make_app


@pytest.fixture
def runtime_factory(clock: ManualClock):
    def build(**kwargs: Any) -> FakeRuntime:
        kwargs.setdefault("clock", clock)
        return FakeRuntime(**kwargs)

    return build


@pytest.fixture
def diagnosis_text() -> str:
    return DIAGNOSIS_TEXT


@pytest.fixture
def diagnosis_result() -> dict[str, Any]:
    """A fresh copy of the structured diagnosis, for tests that change it."""
    return copy.deepcopy(DIAGNOSIS_RESULT)


SECOND_ACTION = {
    "action": "transfer_leaders",
    "args": {"from_store": 2, "to_store": 3},
    "rationale": "move the remaining leaders off store 2 while it restarts",
    "risk": "medium",
}


@pytest.fixture
def two_action_runtime(runtime_factory, diagnosis_result):
    """An approve-mode runtime whose store 2 is Down; ``finish()`` ends ticket 1's diagnosis
    with two recommended actions (the diagnosis' own, then ``transfer_leaders``)."""
    diagnosis_result["recommended_actions"].append(copy.deepcopy(SECOND_ACTION))
    runtime = runtime_factory(mode="approve")
    runtime.stores[1].state = "Down"

    async def finish() -> None:
        await runtime.tick_once()
        runtime.finish(1, DIAGNOSIS_TEXT, diagnosis_result)

    runtime.finish_two_actions = finish
    return runtime


class Notes(list):
    """Messages the app showed with ``notify``."""

    def text(self) -> str:
        return "\n".join(self)


def capture_notes(app: OperatorApp) -> Notes:
    notes = Notes()
    app.notify = lambda message, **_kw: notes.append(str(message))  # type: ignore[method-assign]
    return notes


@pytest.fixture
def notes_of():
    return capture_notes


def load_screenshot_states():
    """``scripts/make_screenshots.py``, loaded by path: the snapshots and the screenshots share its states."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "make_screenshots.py"
    name = "operator_tui_screenshot_states"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def screenshot_states():
    return load_screenshot_states()
