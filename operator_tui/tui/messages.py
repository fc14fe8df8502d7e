"""The app's typed messages: bus events (and the deploy run) as Textual messages.

``EventPump`` posts them to every screen on the stack; a screen handles the ones it shows
(``@on``) and the rest pass it by. None bubbles, so the app never sees them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual.message import Message

from operator_tui.core.events import Event


class ScreenMessage(Message, bubble=False):
    """A message for one screen only."""


class EventsArrived(ScreenMessage):
    """A batch of bus events, for the event strip."""

    def __init__(self, events: list[Event], at: datetime) -> None:
        super().__init__()
        self.events = events
        self.at = at


class TickObserved(ScreenMessage):
    """The monitor ticked (at most one per batch: the latest); the snapshot is the runtime's."""

    def __init__(self, at: datetime, reachable: bool, error: str | None) -> None:
        super().__init__()
        self.at = at
        self.reachable = reachable
        self.error = error


class MonitorChanged(ScreenMessage):
    """Paused or resumed (a tick in the same batch already redraws the header)."""


class TicketsChanged(ScreenMessage):
    """Tickets were opened, updated, resolved or acted on; ``ticket_ids`` names them."""

    def __init__(self, ticket_ids: frozenset[int]) -> None:
        super().__init__()
        self.ticket_ids = ticket_ids


class TicketListLoaded(ScreenMessage):
    """The main screen read the ticket list again; drill-downs that list tickets redraw."""


class DiagnosisStarted(ScreenMessage):
    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        self.ticket_id = ticket_id


class DiagnosisChunk(ScreenMessage):
    def __init__(self, ticket_id: int, text: str) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.text = text


class DiagnosisStep(ScreenMessage):
    """One tool call of a diagnosis in progress ended (``diagnosis.step``)."""

    def __init__(self, ticket_id: int, step: dict[str, Any]) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.step = step


class DiagnosisEnded(ScreenMessage):
    def __init__(self, ticket_id: int, failed: bool) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.failed = failed


class Note(ScreenMessage):
    """A line for the event strip that is not a bus event (display errors, worker failures)."""

    def __init__(self, text: str, at: datetime, style: str = "") -> None:
        super().__init__()
        self.text = text
        self.at = at
        self.style = style


class DeployProgress(ScreenMessage):
    """A step of a running deploy verb (``step`` is the deployment's ``UpProgress``)."""

    def __init__(self, verb: str, step: Any, at: datetime) -> None:
        super().__init__()
        self.verb = verb
        self.step = step
        self.at = at


class DeployEnded(ScreenMessage):
    def __init__(self, verb: str, message: str, ok: bool, at: datetime) -> None:
        super().__init__()
        self.verb = verb
        self.message = message
        self.ok = ok
        self.at = at
