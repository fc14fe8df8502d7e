"""The one small interface front ends use to drive the core (pause, tick now, chaos, approve...).

Front ends never reach into the monitor, the agent or the ticket store directly
for commands; ``OperatorRuntime`` in ``runtime`` implements this protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from operator_tui.core.deploy import Endpoint
from operator_tui.core.faults import ActiveFault, FaultKind
from operator_tui.core.incident import Incident, IncidentEvent
from operator_tui.core.raw import RawAnswer
from operator_tui.core.ticket import DiagnosisRecord, Ticket, TicketEvent
from operator_tui.core.types import ActionResult, LogEvent, Snapshot, StoreMetrics


@runtime_checkable
class Commands(Protocol):
    @property
    def paused(self) -> bool: ...
    @property
    def interval_s(self) -> float: ...
    @property
    def latest_snapshot(self) -> Snapshot | None: ...
    @property
    def actions_mode(self) -> str: ...

    def metric_history(self, store_id: int) -> Sequence[tuple[datetime, StoreMetrics]]:
        """The store's freshly measured points, oldest first (the monitor's history)."""

    def metric_tail(self, store_id: int, n: int) -> Sequence[tuple[datetime, StoreMetrics]]:
        """The store's last ``n`` points, oldest first: the cheap read for a pane."""

    def metric_since(
        self, store_id: int, since: datetime
    ) -> Sequence[tuple[datetime, StoreMetrics]]:
        """The store's points taken at or after ``since``, oldest first (a time window)."""

    def recent_log_events(self, store_id: int | None = None, limit: int = 200) -> list[LogEvent]:
        """The last ``limit`` log events, of one store or of all, oldest first."""

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def tick_now(self) -> None:
        """Ask the monitor loop for an immediate tick (coalesced if one is running)."""

    def set_interval(self, seconds: float) -> float:
        """Change the monitor interval (floor 1 s from front ends); returns the value in force."""

    async def kill_store(self, store_id: int) -> str: ...
    async def start_store(self, store_id: int) -> str: ...
    def fault_kinds(self) -> tuple[FaultKind, ...]:
        """The faults the subject's cluster can be given here; empty when it is no simulator."""

    async def inject_fault(
        self, kind: str, store_id: int | None, params: Mapping[str, Any]
    ) -> ActiveFault: ...
    async def active_faults(self) -> list[ActiveFault]: ...
    async def clear_fault(self, fault_id: str) -> ActiveFault: ...
    async def endpoints(self) -> list[Endpoint]:
        """Where the cluster answers, when the runtime knows (a simulator says so itself)."""

    def raw_kinds(self) -> tuple[str, ...]:
        """The record kinds ``raw_record`` can fetch; empty when the subject keeps none raw."""

    async def raw_record(self, kind: str, key: int) -> RawAnswer: ...
    async def rediagnose(self, ticket_id: int) -> None: ...
    async def approve(self, ticket_id: int, action_index: int = 0) -> ActionResult: ...

    async def list_tickets(
        self, *, include_resolved: bool = True, limit: int = 500
    ) -> list[Ticket]: ...
    async def get_ticket(self, ticket_id: int) -> Ticket | None: ...
    async def latest_diagnosis(self, ticket_id: int) -> DiagnosisRecord | None: ...
    async def ticket_events(self, ticket_id: int) -> list[TicketEvent]: ...

    async def list_incidents(
        self, *, include_resolved: bool = True, limit: int = 500
    ) -> list[Incident]: ...
    async def get_incident(self, incident_id: int) -> Incident | None: ...
    async def incident_tickets(self, incident_id: int) -> list[Ticket]: ...
    async def incident_events(self, incident_id: int) -> list[IncidentEvent]: ...


def action_done(events: Iterable[TicketEvent], action: str, args: Mapping[str, Any]) -> bool:
    """Whether ``action`` with ``args`` already ran successfully on the ticket whose events these are."""
    return any(
        e.kind == "action.done"
        and (e.detail or {}).get("ok")
        and (e.detail or {}).get("action") == action
        and (e.detail or {}).get("args") == dict(args)
        for e in events
    )
