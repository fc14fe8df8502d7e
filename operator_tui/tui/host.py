"""What the screens know of the app: the runtime, the clock, the pump, and a few reads.

Screens type ``self.app`` as ``Host`` instead of importing the app module, so the app can
import its screens without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from operator_tui.core.commands import Commands
from operator_tui.core.events import EventBus
from operator_tui.core.incident import Incident
from operator_tui.core.subject import SubjectConfig
from operator_tui.core.ticket import Ticket
from operator_tui.core.types import LogEvent, Snapshot, StoreMetrics
from operator_tui.tui.pump import EventPump
from operator_tui.tui.widgets.header import MonitorState

Clock = Callable[[], datetime]


class Runtime(Commands, Protocol):
    """What the app needs beyond ``Commands``: ``OperatorRuntime`` provides all of it.

    ``config`` is what the subject declares (the header shows its cluster figures);
    ``deployment(http)`` is the lab the ``D`` menu drives (a ``core.deploy.Deployment``);
    it raises when there is none here.
    """

    bus: EventBus
    config: SubjectConfig

    async def run_monitor(self) -> None: ...
    async def run_agent(self) -> None: ...
    async def tick_once(self) -> Any: ...
    def deployment(self, http: Any) -> Any: ...


class Host(Protocol):
    runtime: Runtime | None
    pump: EventPump | None
    clock: Clock
    spinners: bool
    start_monitor: bool

    @property
    def is_demo(self) -> bool: ...

    def latest_snapshot(self) -> Snapshot | None: ...
    def metric_history(self, store_id: int) -> Sequence[tuple[datetime, StoreMetrics]]: ...
    def metric_tail(self, store_id: int, n: int) -> Sequence[tuple[datetime, StoreMetrics]]: ...
    def metric_since(
        self, store_id: int, since: datetime
    ) -> Sequence[tuple[datetime, StoreMetrics]]: ...
    def log_events(self, store_id: int | None, limit: int) -> list[LogEvent]: ...
    def tickets(self) -> list[Ticket]: ...
    def incidents(self) -> list[Incident]: ...
    def monitor_state(self) -> MonitorState: ...
    def report_failure(self, message: str) -> None:
        """A failed action: a toast and a line in the event strip."""


@runtime_checkable
class HasContext(Protocol):
    """A screen that says which store and ticket the global keys (k, s, R, a) act on."""

    def context_store_id(self) -> int | None: ...
    def context_ticket_id(self) -> int | None: ...
